"""Forms of the staff dashboard's returns pages. They check the shape of the input; the services
decide the rest."""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from returns.models import ClaimState, Disposition, ItemGrade, Resolution, ReturnLine, ReturnStatus
from returns.selectors import TO_SEND_BACK, ReturnFilters, SettleDefaults
from returns.services import MAX_STORE_LENGTH, MAX_TRACKING_LENGTH, LineInspection
from returns.services import REFERENCE_MAX_LENGTH as CLAIM_REFERENCE_MAX_LENGTH
from tickets.upload_fields import MultipleFileField

NOTE_MAX_LENGTH = 2000


class ReturnFilterForm(forms.Form):
    STATUS_FOR_STAFF = ""
    STATUS_ALL = "all"
    STATUS_TO_SEND_BACK = TO_SEND_BACK

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)
    resolution = forms.ChoiceField(label=_("Resolution"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].widget.attrs.update({"placeholder": _("Ticket, order, e-mail or phone")})
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (self.STATUS_FOR_STAFF, _("Waiting on us")),
            (self.STATUS_ALL, _("Every status")),
            (self.STATUS_TO_SEND_BACK, _("Rejected units to send back")),
            *ReturnStatus.choices,
        ]
        cast(forms.ChoiceField, self.fields["resolution"]).choices = [("", _("Any resolution")), *Resolution.choices]

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


CARRIER_MAX_LENGTH = 50
REFERENCE_MAX_LENGTH = 200
AMOUNT: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class TrackingForm(ReturnActionForm):
    """The parcel the customer sent (or a replacement the merchant sent): carrier and number."""

    id_prefix = "tracking"
    carrier = forms.CharField(label=_("Carrier"), max_length=CARRIER_MAX_LENGTH)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=MAX_TRACKING_LENGTH)


class RejectedUnitsSendForm(ReturnActionForm):
    """The units inspection rejected go back: with a carrier and its tracking number, or ready
    for the customer to collect at a store."""

    id_prefix = "send_back"
    carrier = forms.CharField(label=_("Carrier"), required=False, max_length=CARRIER_MAX_LENGTH)
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        required=False,
        max_length=MAX_TRACKING_LENGTH,
        help_text=_("The carrier and the tracking number are needed unless the customer collects the items."),
    )
    collected_in_store = forms.BooleanField(
        label=_("The customer collects them at a store instead"),
        required=False,
        help_text=_("Then no carrier nor tracking number is needed."),
    )
    store_location = forms.CharField(label=_("Store"), required=False, max_length=MAX_STORE_LENGTH)
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH)

    def clean(self):
        data = super().clean()
        # The service's own refusals, on the fields they name, so the page says the same thing.
        if data.get("collected_in_store"):
            if not (data.get("store_location") or "").strip():
                self.add_error("store_location", _("Name the store where the customer collects the items."))
        else:
            if not (data.get("carrier") or "").strip():
                self.add_error("carrier", _("Name the carrier."))
            if not (data.get("tracking_number") or "").strip():
                self.add_error("tracking_number", _("Enter the tracking number."))
        return data


class ExchangeDifferencePaidForm(ReturnActionForm):
    """Staff's word that the customer paid the price difference of the variants they asked for."""

    id_prefix = "difference"
    reference = forms.CharField(label=_("Payment reference"), max_length=REFERENCE_MAX_LENGTH)


class PickupForm(ReturnActionForm):
    id_prefix = "pickup"
    carrier = forms.CharField(label=_("Carrier"), max_length=CARRIER_MAX_LENGTH)
    reference = forms.CharField(label=_("Booking reference"), required=False, max_length=64)


class ScanForm(ReturnActionForm):
    """The queue page's scan box: a tracking number read at the warehouse door."""

    id_prefix = "scan"
    tracking_number = forms.CharField(label=_("Scan a tracking number"), max_length=MAX_TRACKING_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tracking_number"].widget.attrs.update({"autocomplete": "off", "autofocus": True})


class LineFieldsForm(ReturnActionForm):
    """A form with a few fields per return line, named ``<field>_<line id>``."""

    def __init__(self, *args, lines: list[ReturnLine], **kwargs):
        self.lines = list(lines)
        super().__init__(*args, **kwargs)

    def line_fields(self, line: ReturnLine, names: tuple[str, ...]) -> list:
        return [self[f"{name}_{line.pk}"] for name in names]


class ExchangeShipForm(LineFieldsForm, TrackingForm):
    """The replacement parcel: carrier and number, and per line the units and the SKU sent,
    prefilled with the units still held and the variant the customer asked for. Left as they
    are, every unit still held is sent as asked."""

    id_prefix = "exchange"

    def __init__(self, *args, units_left: dict[int, int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        units_left = units_left or {}
        for line in self.lines:
            self.fields[f"units_{line.pk}"] = forms.IntegerField(
                label=_("Units"), min_value=0, max_value=line.quantity, required=False, initial=units_left.get(line.pk)
            )
            self.fields[f"sku_{line.pk}"] = forms.CharField(
                label=_("SKU sent"),
                required=False,
                max_length=100,
                initial=line.exchange_sku or line.order_line.sku,
            )

    def rows(self):
        return [(line, self[f"units_{line.pk}"], self[f"sku_{line.pk}"]) for line in self.lines]

    def clean(self):
        data = super().clean()
        if not self.errors and self.replacements() == []:
            raise forms.ValidationError(_("Send at least one unit."))
        return data

    def replacements(self) -> list[tuple] | None:
        """``[(order line, units, sku)]`` for the lines given units; None (every unit still held,
        as asked) when no line was given any."""
        data = self.cleaned_data
        if all(data.get(f"units_{line.pk}") is None for line in self.lines):
            return None
        return [
            (line.order_line, data[f"units_{line.pk}"], data.get(f"sku_{line.pk}") or "")
            for line in self.lines
            if data.get(f"units_{line.pk}")
        ]


class ReceiveForm(LineFieldsForm):
    """How many units of each line are in the parcel; left as they are, every unit still expected."""

    id_prefix = "receive"
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for line in self.lines:
            self.fields[f"units_{line.pk}"] = forms.IntegerField(
                label=line.order_line.name,
                min_value=0,
                required=False,
                initial=line.quantity - line.quantity_received,
            )

    def rows(self):
        return [(line, self[f"units_{line.pk}"]) for line in self.lines]

    def quantities(self) -> dict[int, int] | None:
        """Per-line counts; None (every unit still expected) when no count was given."""
        counted = {line.pk: self.cleaned_data.get(f"units_{line.pk}") for line in self.lines}
        if all(value is None for value in counted.values()):
            return None
        return {pk: value or 0 for pk, value in counted.items()}


class InspectForm(LineFieldsForm):
    """One form for every received line: accepted and rejected units, grade, disposition, notes."""

    id_prefix = "inspect"
    FIELDS = ("accepted", "rejected", "grade", "disposition", "notes", "photos")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for line in self.lines:
            pk = line.pk
            self.fields[f"accepted_{pk}"] = forms.IntegerField(
                label=_("Accepted"), min_value=0, initial=line.quantity_received
            )
            self.fields[f"rejected_{pk}"] = forms.IntegerField(label=_("Rejected"), min_value=0, initial=0)
            self.fields[f"grade_{pk}"] = forms.ChoiceField(label=_("Grade"), choices=ItemGrade.choices)
            # Starts where most accepted units go, so that the form's own defaults (every unit
            # received accepted) are an inspection the service takes as it stands.
            self.fields[f"disposition_{pk}"] = forms.ChoiceField(
                label=_("Accepted units go to"),
                required=False,
                choices=[("", _("Pick one")), *Disposition.choices],
                initial=Disposition.RESTOCK if line.quantity_received else "",
            )
            self.fields[f"notes_{pk}"] = forms.CharField(
                label=_("Notes"),
                required=False,
                max_length=NOTE_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"photos_{pk}"] = MultipleFileField(label=_("Photos"))

    def rows(self):
        return [(line, self.line_fields(line, self.FIELDS)) for line in self.lines]

    def clean(self):
        data = super().clean()
        for line in self.lines:
            accepted = data.get(f"accepted_{line.pk}")
            if accepted and not data.get(f"disposition_{line.pk}"):
                self.add_error(f"disposition_{line.pk}", _("Pick what happens to the accepted units."))
        return data

    def inspections(self) -> list[LineInspection]:
        data = self.cleaned_data
        return [
            LineInspection(
                return_line_id=line.pk,
                accepted=data[f"accepted_{line.pk}"],
                rejected=data[f"rejected_{line.pk}"],
                grade=data[f"grade_{line.pk}"],
                # A destination left chosen on a line with nothing accepted has nothing to send.
                disposition=(data.get(f"disposition_{line.pk}") or "") if data[f"accepted_{line.pk}"] else "",
                notes=data.get(f"notes_{line.pk}") or "",
                files=data.get(f"photos_{line.pk}") or [],
            )
            for line in self.lines
        ]


class SettleForm(LineFieldsForm):
    """Units and amount per line, the shipping to refund, and a reason; starting from the amounts
    the terms give. A line left at 0 units and no amount is not settled now."""

    id_prefix = "settle"
    shipping_amount = forms.DecimalField(label=_("Shipping refunded"), min_value=0, required=False, **AMOUNT)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, defaults: SettleDefaults, **kwargs):
        self.defaults = defaults
        super().__init__(*args, lines=[line.line for line in defaults.lines], **kwargs)
        self.fields["shipping_amount"].initial = defaults.shipping_default
        for default in defaults.lines:
            pk = default.line.pk
            self.fields[f"units_{pk}"] = forms.IntegerField(
                label=_("Units"), min_value=0, max_value=default.line.quantity, required=False, initial=default.units
            )
            self.fields[f"amount_{pk}"] = forms.DecimalField(
                label=_("Amount"), min_value=0, required=False, initial=default.amount, **AMOUNT
            )

    def rows(self):
        return [
            (default, self[f"units_{default.line.pk}"], self[f"amount_{default.line.pk}"])
            for default in self.defaults.lines
        ]

    def clean(self):
        data = super().clean()
        if not self.errors and not self.allocations():
            raise forms.ValidationError(_("Enter an amount for at least one item."))
        return data

    def allocations(self) -> list[tuple]:
        """``[(order line, units, amount)]`` for the lines given an amount."""
        data = self.cleaned_data
        chosen = []
        for line in self.lines:
            amount = data.get(f"amount_{line.pk}")
            if amount:
                chosen.append((line.order_line, data.get(f"units_{line.pk}") or 0, amount))
        return chosen


class ConfirmPayoutForm(ReturnActionForm):
    id_prefix = "confirm"
    reference = forms.CharField(label=_("Back-office payout reference"), max_length=REFERENCE_MAX_LENGTH)


class VoidRefundForm(forms.Form):
    """One per refund on the page, so each gets ids of its own."""

    reason = forms.CharField(
        label=_("Why void it (staff only)"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the refund is voided.")},
    )

    def __init__(self, *args, refund_id: int, **kwargs):
        kwargs.setdefault("auto_id", f"void_{refund_id}_%s")
        super().__init__(*args, **kwargs)
        self.refund_id = refund_id


class EscalationDecisionForm(ReturnActionForm):
    """A supervisor's final word on an escalated return."""

    APPROVE = "approve"
    REJECT = "reject"

    id_prefix = "escalation"
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve the return")), (REJECT, _("Reject it, finally"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("What the customer reads"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.REJECT and not (data.get("note") or "").strip():
            self.add_error("note", _("Tell the customer why."))
        return data


class LostParcelForm(ReturnActionForm):
    """The carrier says the parcel is lost: settle the return without it and claim from the carrier."""

    id_prefix = "lost"
    note = forms.CharField(
        label=_("What the carrier said (only staff see this)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ClaimSettleForm(ReturnActionForm):
    id_prefix = "claim_settle"
    amount_recovered = forms.DecimalField(label=_("Amount the carrier paid"), min_value=0, **AMOUNT)
    reference = forms.CharField(label=_("Carrier's payment reference"), max_length=CLAIM_REFERENCE_MAX_LENGTH)


class ClaimRejectForm(ReturnActionForm):
    id_prefix = "claim_reject"
    reason = forms.CharField(
        label=_("Why the carrier rejected it"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the carrier rejected the claim.")},
    )


class ClaimWithdrawForm(ReturnActionForm):
    id_prefix = "claim_withdraw"
    note = forms.CharField(
        label=_("Where it turned up"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.TextInput()
    )


class ClaimFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Every state")), *ClaimState.choices])

    def state_filter(self) -> str:
        """The state to show; an invalid value is dropped rather than failing the page."""
        if not self.is_bound or not self.is_valid():
            return ""
        return self.cleaned_data.get("state") or ""


class BulkForm(forms.Form):
    """The queue's checkboxes and one button: which returns, and what to do to them."""

    APPROVE = "approve"
    RECEIVE = "receive"

    action = forms.ChoiceField(choices=[(APPROVE, _("Approve")), (RECEIVE, _("Receive in full"))])
    ids = forms.TypedMultipleChoiceField(coerce=int, required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is taken here; the selector then keeps only those this staff member may see.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        cast(forms.ChoiceField, self.fields["ids"]).choices = [(value, value) for value in raw if str(value).isdigit()]
        self.fields["ids"].error_messages["required"] = _("Tick at least one return.")
