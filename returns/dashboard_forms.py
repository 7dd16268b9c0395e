"""Forms of the staff dashboard's returns pages. They check the shape of the input; the services
decide the rest."""

from django import forms
from django.utils.translation import gettext_lazy as _

from returns.dashboard_selectors import ReturnFilters
from returns.models import Resolution, ReturnStatus

NOTE_MAX_LENGTH = 2000


class ReturnFilterForm(forms.Form):
    STATUS_FOR_STAFF = ""
    STATUS_ALL = "all"

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    resolution = forms.ChoiceField(label=_("Resolution"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].widget.attrs.update({"placeholder": _("Ticket, order, e-mail or phone")})
        self.fields["status"].choices = [
            (self.STATUS_FOR_STAFF, _("Waiting on us")),
            (self.STATUS_ALL, _("Every status")),
            *ReturnStatus.choices,
        ]
        self.fields["resolution"].choices = [("", _("Any resolution")), *Resolution.choices]

    def filters(self) -> ReturnFilters:
        """The filters to apply; an invalid value is dropped rather than failing the page."""
        if not self.is_bound:
            return ReturnFilters()
        self.is_valid()
        data = self.cleaned_data
        return ReturnFilters(
            status=data.get("status") or "",
            resolution=data.get("resolution") or "",
            q=data.get("q") or "",
        )


class ReturnActionForm(forms.Form):
    """The return page holds several of these: each gets its own id prefix, so that no two fields
    on the page share an id."""

    id_prefix = "return"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ApproveForm(ReturnActionForm):
    id_prefix = "approve"
    note = forms.CharField(
        label=_("Note to the customer"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(ReturnActionForm):
    id_prefix = "reject"
    reason = forms.CharField(
        label=_("Reason the customer sees"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        # The service's own refusal, so the page says the same thing whichever catches it.
        error_messages={"required": _("Tell the customer why.")},
    )
