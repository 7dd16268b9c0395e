"""Forms of the staff dashboard. They check the shape of the input; the services decide the rest."""

import functools
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.functional import Promise
from django.utils.safestring import SafeData, SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.models import Merchant, Order, Store, User
from aftersales.phones import try_normalize_phone
from aftersales.selectors import memberships_of, orders_of, staff_by_name, staff_of, stores_of
from tickets.models import TRANSITIONS, Team, Ticket, TicketChannel, TicketKind, TicketPriority, TicketStatus
from tickets.queue_filters import QueueFilter, extra_filters, queue_filters
from tickets.selectors import QueueSort, TicketFilters, teams_of
from tickets.upload_fields import MultipleFileField

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

BODY_MAX_LENGTH = 20000


def _status_choices(statuses: Iterable[str]) -> list[tuple[str, "StrOrPromise"]]:
    # In the order of TicketStatus, so the menu reads the same on every ticket.
    return [(status.value, status.label) for status in TicketStatus if status in statuses]


def _staff_user_choices(merchant: Merchant) -> list[tuple[int, str]]:
    return [(m.user_id, str(m.user)) for m in staff_by_name(merchant)]


# --- the queue ----------------------------------------------------------------------------------


class QueueSelect(forms.Select):
    """``Select`` with its markup written here, byte for byte what its templates write (as
    ``aftersales.form_renderer`` writes them): the queue shows nine selects of some sixty options,
    and building a context per option (``optgroups``, ``create_option``) and rendering it was
    ~0.5 ms of the page's CPU. Grouped options and multiple choice go to Django's rendering."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)
        if self.allow_multiple_selected or any(isinstance(label, list | tuple) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        context = Context(autoescape=True)  # as the widget templates are rendered
        chosen = self.format_value(value)
        select_attrs = _attrs_html(self.build_attrs(self.attrs, attrs), context)
        parts = [f'<select name="{_text_html(name, context)}"{select_attrs}>']
        has_selected = False
        for option_value, label in choices:
            if option_value is None:
                option_value = ""
            selected = not has_selected and str(option_value) in chosen
            has_selected |= selected
            parts.append(
                f'\n  <option value="{_string_html(option_value, context)}"{" selected" if selected else ""}>'
                f"{_text_html(label, context)}</option>\n"
            )
        parts.append("\n</select>")
        return SafeString("".join(parts))


def _string_html(value: Any, context: Context) -> str:
    """``{{ value|stringformat:'s' }}``: a safe value stays as it is."""
    text = str(value)
    return text if isinstance(value, SafeData) else _text_html(text, context)


def _text_html(value: Any, context: Context) -> str:
    """``{{ value }}``; for a string or a lazy translation that is ``escape(str(value))``, as
    ``render_value_in_context`` would do it after its checks for numbers and dates."""
    if isinstance(value, SafeData):
        return str(value)
    if type(value) is str or isinstance(value, Promise):
        return escape(str(value))
    return render_value_in_context(value, context)


def _attrs_html(attrs: dict[str, Any], context: Context) -> str:
    """``django/forms/widgets/attrs.html``."""
    return "".join(
        ""
        if value is False
        else f" {_text_html(name, context)}"
        if value is True
        else f' {_text_html(name, context)}="{_string_html(value, context)}"'
        for name, value in attrs.items()
    )


def _filter_choices(queue_filter: QueueFilter, merchant: Merchant) -> list[tuple[str, Any]]:
    return [("", _("Any")), *queue_filter.choices(merchant)]


class QueueFilterForm(forms.Form):
    STATUS_ACTIVE = ""
    STATUS_ALL = "all"
    ASSIGNEE_ME = "me"
    ASSIGNEE_NONE = "none"

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), required=False, widget=QueueSelect)
    status = forms.ChoiceField(label=_("Status"), required=False, widget=QueueSelect)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False, widget=QueueSelect)
    priority = forms.TypedChoiceField(
        label=_("Priority"), required=False, coerce=int, empty_value=None, widget=QueueSelect
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=QueueSort.choices, widget=QueueSelect)

    def __init__(self, *args, merchant: Merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].widget.attrs.update({"placeholder": _("Ticket, order, e-mail, phone or name")})
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", _("Every kind")), *TicketKind.choices]
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (self.STATUS_ACTIVE, _("Active")),
            (self.STATUS_ALL, _("Every status")),
            *TicketStatus.choices,
        ]
        # Kept for the queue's bulk form, which offers the same people without reading them again.
        self.staff_choices = [(str(pk), name) for pk, name in _staff_user_choices(merchant)]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", _("Anyone")),
            (self.ASSIGNEE_ME, _("Me")),
            (self.ASSIGNEE_NONE, _("Unassigned")),
            *self.staff_choices,
        ]
        cast(forms.ChoiceField, self.fields["priority"]).choices = [
            ("", _("Any priority")),
            *reversed(TicketPriority.choices),
        ]
        # Filters workflow apps register; their choices are read only when the field is shown
        # or a value of it is checked (a callable's choices are lazy).
        for queue_filter in queue_filters():
            self.fields[queue_filter.name] = forms.ChoiceField(
                label=queue_filter.label,
                required=False,
                choices=functools.partial(_filter_choices, queue_filter, merchant),
            )

    def filters(self) -> TicketFilters:
        """The filters to apply; an invalid value is dropped rather than failing the page."""
        if not self.is_bound:
            return TicketFilters()
        self.is_valid()
        data = self.cleaned_data
        return TicketFilters(
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            assignee=data.get("assignee") or "",
            priority=data.get("priority"),
            q=data.get("q") or "",
            extra=extra_filters(data),
        )

    def extra_fields(self) -> list[forms.BoundField]:
        """The registered filters of the kind the queue shows (none on the plain queue)."""
        kind = self["kind"].value()
        return [self[f.name] for f in queue_filters() if f.kind == kind]

    def chosen_sort(self) -> str:
        """The order of the queue; anything unknown falls back to "needs attention"."""
        if not self.is_bound:
            return QueueSort.ATTENTION
        self.is_valid()
        return self.cleaned_data.get("sort") or QueueSort.ATTENTION


class QueueBulkForm(forms.Form):
    """One change for the tickets ticked on the queue (their numbers come as ``tickets``)."""

    ACTIONS = (
        ("assign", _("Assign to")),
        ("status", _("Set the status to")),
        ("priority", _("Set the priority to")),
        ("tag", _("Add the tag")),
    )
    NOBODY = "none"

    action = forms.ChoiceField(label=_("Change"), choices=ACTIONS, widget=QueueSelect)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False, widget=QueueSelect)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", "—"), *TicketStatus.choices], widget=QueueSelect
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *reversed(TicketPriority.choices)],
        widget=QueueSelect,
    )
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)

    def __init__(self, *args, staff_choices: list[tuple[str, str]], **kwargs):
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", "—"),
            (self.NOBODY, _("Nobody (unassign)")),
            *staff_choices,
        ]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Pick who gets the tickets, or nobody."))
        if action == "status" and not data.get("status"):
            self.add_error("status", _("Pick a status."))
        if action == "priority" and data.get("priority") is None:
            self.add_error("priority", _("Pick a priority."))
        if action == "tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", _("Enter the tag to add."))
        return data


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name of the view"), max_length=60)
    team: "forms.ModelChoiceField[Team]" = forms.ModelChoiceField(
        label=_("Share with"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("Only me"),
        widget=QueueSelect,
    )

    def __init__(self, *args, teams, shown_teams: list[Team] | None = None, **kwargs):
        """``teams``: those a view may be shared with (a queryset, which a posted form checks the
        answer against); ``shown_teams``, when the page read them already, are shown as they are."""
        kwargs.setdefault("auto_id", "view_%s")
        super().__init__(*args, **kwargs)
        team_field = cast("forms.ModelChoiceField[Any]", self.fields["team"])
        team_field.queryset = teams
        if not self.is_bound:
            # Shown, not checked: the teams in one plain read. A queryset's choices are read
            # through a server-side cursor (DECLARE, FETCH and CLOSE: three round trips).
            shown = teams if shown_teams is None else shown_teams
            team_field.choices = [("", team_field.empty_label), *((team.pk, str(team)) for team in shown)]


# --- actions on one ticket ----------------------------------------------------------------------


class TicketActionForm(forms.Form):
    """The ticket page holds several of these: each gets its own id prefix, so that no two
    fields on the page share an id and every label points at its own field.

    ``constant_fields`` names the fields whose label, help, widget and choices are the same for
    every instance (nothing in ``__init__`` changes them from what it is given), or for every
    instance of the same ``constant_variant`` (what ``__init__`` made them from): the page renders
    each once per language, variant and value, and keeps it
    (``aftersales.templatetags.dashboard_tags``)."""

    id_prefix = "action"
    constant_fields: tuple[str, ...] = ()
    constant_variant: object = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ReplyForm(TicketActionForm):
    id_prefix = "reply"
    constant_fields = ("body", "files", "status")  # the statuses offered: the ticket's status is the variant
    body = forms.CharField(label=_("Message"), max_length=BODY_MAX_LENGTH, widget=forms.Textarea)
    status = forms.ChoiceField(label=_("Then set the status to"), required=False)
    files = MultipleFileField(label=_("Attachments"))  # type: ignore[assignment]  # a declared field, popped by the form metaclass; the stubs see BaseForm.files

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs.update({"rows": 5})
        self.constant_variant = ticket.status
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            ("", _("Keep the status (a new ticket becomes open)")),
            *_status_choices(TRANSITIONS[ticket.status]),
        ]


class NoteForm(TicketActionForm):
    id_prefix = "note"
    constant_fields = ("body", "files")
    body = forms.CharField(label=_("Note"), max_length=BODY_MAX_LENGTH, widget=forms.Textarea)
    files = MultipleFileField(label=_("Attachments"))  # type: ignore[assignment]  # a declared field, popped by the form metaclass; the stubs see BaseForm.files

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs.update({"rows": 4})


class AssignForm(TicketActionForm):
    id_prefix = "assign"
    assignee = forms.TypedChoiceField(
        label=_("Assignee"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("Pick a member of this merchant's staff.")},
    )
    team: "forms.ModelChoiceField[Team]" = forms.ModelChoiceField(
        label=_("Team"), queryset=None, required=False, empty_label=_("No team")
    )

    def __init__(
        self,
        *args,
        merchant: Merchant,
        staff_choices: list[tuple[int, str]] | None = None,
        teams: list[Team] | None = None,
        **kwargs,
    ):
        """``staff_choices`` and ``teams``, when the page read them already, are shown as they
        are; a posted form reads them (and checks the answer against them) itself."""
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", _("Unassigned")),
            *(staff_choices if staff_choices is not None else _staff_user_choices(merchant)),
        ]
        team_field = cast("forms.ModelChoiceField[Any]", self.fields["team"])
        team_field.queryset = teams_of(merchant)
        if teams is not None and not self.is_bound:
            team_field.choices = [("", team_field.empty_label), *((team.pk, str(team)) for team in teams)]

    def clean_assignee(self) -> User | None:
        user_id = self.cleaned_data["assignee"]
        if user_id is None:
            return None
        membership = staff_of(self.merchant).filter(user_id=user_id).first()
        if membership is None:
            raise forms.ValidationError(_("Pick a member of this merchant's staff."))
        return membership.user


class StatusForm(TicketActionForm):
    id_prefix = "status"
    constant_fields = ("note",)  # the statuses offered depend on the ticket's
    status = forms.ChoiceField(label=_("New status"))
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        # Every status is accepted here; the service refuses what TRANSITIONS does not allow,
        # so a stale page gets the domain's message instead of a bare "invalid choice".
        cast(forms.ChoiceField, self.fields["status"]).choices = _status_choices(TicketStatus.values)
        self.offered_choices = _status_choices(TRANSITIONS[ticket.status])


class PriorityForm(TicketActionForm):
    id_prefix = "priority"
    constant_fields = ("priority",)
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int, choices=list(reversed(TicketPriority.choices)))


class TagsForm(TicketActionForm):
    id_prefix = "tags"
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas."),
    )

    def clean_tags(self) -> list[str]:
        raw = self.cleaned_data["tags"].replace("，", ",")
        return [name.strip() for name in raw.split(",") if name.strip()]


class RemindForm(TicketActionForm):
    """ "Remind me at": a local time in the merchant's time zone (the one the page is shown in)."""

    id_prefix = "remind"
    constant_fields = ("remind_at", "note")
    remind_at = forms.DateTimeField(
        label=_("Remind me at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class SwitchMerchantForm(forms.Form):
    merchant: "forms.ModelChoiceField[Merchant]" = forms.ModelChoiceField(label=_("Merchant"), queryset=None)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the merchants this user works for: anything else is "not a valid choice".
        cast("forms.ModelChoiceField[Any]", self.fields["merchant"]).queryset = Merchant.objects.filter(
            pk__in=memberships_of(user).values("merchant_id")
        ).order_by("name")


# --- a ticket typed in by staff -----------------------------------------------------------------

STAFF_CHANNELS = (TicketChannel.PHONE, TicketChannel.EMAIL, TicketChannel.STAFF)


class NewTicketForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("Choose the kind of request")), *TicketKind.choices])
    channel = forms.ChoiceField(
        label=_("Came in by"),
        choices=[(channel.value, channel.label) for channel in STAFF_CHANNELS],
        initial=TicketChannel.PHONE,
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        coerce=int,
        choices=list(reversed(TicketPriority.choices)),
        initial=TicketPriority.NORMAL,
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("What the customer said"), max_length=BODY_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 6})
    )
    customer_email = forms.EmailField(label=_("Customer e-mail"), required=False)
    customer_phone = forms.CharField(label=_("Customer phone"), required=False, max_length=30)
    customer_name = forms.CharField(label=_("Customer name"), required=False, max_length=200)
    order_number = forms.CharField(label=pgettext_lazy("form field", "Order number"), required=False, max_length=64)
    store: "forms.ModelChoiceField[Store]" = forms.ModelChoiceField(
        label=_("Store"),
        queryset=None,
        required=False,
        empty_label=_("Any store"),
        help_text=_("Only needed when two stores use the same order number."),
    )
    assign_to_me = forms.BooleanField(label=_("Assign to me"), required=False, initial=True)
    files = MultipleFileField(label=_("Attachments"))  # type: ignore[assignment]  # a declared field, popped by the form metaclass; the stubs see BaseForm.files

    def __init__(self, *args, merchant: Merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        cast("forms.ModelChoiceField[Any]", self.fields["store"]).queryset = stores_of(merchant)
        self.fields["customer_phone"].widget.input_type = "tel"
        self.fields["customer_phone"].widget.attrs.update({"autocomplete": "off"})
        self.fields["customer_email"].widget.attrs.update({"autocomplete": "off"})

    def clean_customer_phone(self) -> str:
        raw = self.cleaned_data["customer_phone"].strip()
        if not raw:
            return ""
        phone = try_normalize_phone(raw)
        if phone is None:
            raise forms.ValidationError(_("This is not a valid phone number."))
        return phone

    def clean(self):
        cleaned = super().clean()
        number = (cleaned.get("order_number") or "").strip()
        order = None
        if number:
            orders = orders_of(self.merchant).filter(external_number=number)
            store: Store | None = cleaned.get("store")
            if store is not None:
                orders = orders.filter(store=store)
            found: list[Order] = list(orders[:2])
            if not found:
                self.add_error("order_number", _("No order with this number."))
            elif len(found) > 1:
                self.add_error("store", _("Several stores have an order with this number: pick the store."))
            else:
                order = found[0]
        cleaned["order"] = order
        has_contact = cleaned.get("customer_email") or cleaned.get("customer_phone")
        contact_invalid = self.has_error("customer_email") or self.has_error("customer_phone")
        if not has_contact and not number and not contact_invalid:
            raise forms.ValidationError(
                _("Give the customer's e-mail or phone, or the order number to take the customer from.")
            )
        return cleaned
