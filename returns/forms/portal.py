"""Forms of the portal's return pages. They shape the input and say early what the policy will
refuse; ``return_request_create`` still decides, under its locks, when the customer confirms."""

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

from django import forms
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from returns.models import Resolution, ReturnReason, ShippingMethod
from returns.selectors import LineReturnTerms, OrderReturnTerms, exchange_variants_for
from returns.variants import ExchangeVariant
from tickets.upload_fields import FILE_ERROR_CODES, MultipleFileField

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

QUANTITY_PREFIX = "quantity_"
VARIANT_PREFIX = "variant_"
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def reason_choices(reasons: list[ReturnReason]) -> list:
    """The reasons as a select grouped by parent: a reason with active children is a heading
    (an ``<optgroup>``), the children are what is picked; a reason on its own is picked itself."""
    children: dict[int, list[ReturnReason]] = {}
    for reason in reasons:
        if reason.parent_id is not None:
            children.setdefault(reason.parent_id, []).append(reason)
    choices: list = []
    grouped_under_inactive: dict[int, list[ReturnReason]] = dict(children)
    for reason in reasons:
        if reason.parent_id is not None:
            continue
        kids = children.get(reason.pk)
        grouped_under_inactive.pop(reason.pk, None)
        if kids:
            choices.append((reason.name, [(kid.pk, kid.name) for kid in kids]))
        else:
            choices.append((reason.pk, reason.name))
    # Children whose parent was switched off keep their group's name.
    choices.extend(
        (kids[0].parent.name, [(kid.pk, kid.name) for kid in kids])
        for kids in grouped_under_inactive.values()
        if kids[0].parent is not None  # always: these are the children of a switched-off parent
    )
    return choices


@dataclass(frozen=True)
class LineRow:
    """One order line on the start page: its quantity input and what the customer may expect."""

    offer: LineReturnTerms  # for a reason not yet chosen
    field: forms.BoundField
    opens_for_some_reason: bool  # not returnable as such, but e.g. if it is faulty
    latest_last_day: date | None  # the latest last day any reason gives, when later than ``offer``'s
    variant_field: forms.BoundField  # what an exchange sends instead: another size or colour
    variants: list[ExchangeVariant]

    @property
    def returnable(self) -> bool:
        return self.offer.terms.eligible or self.opens_for_some_reason


@dataclass(frozen=True)
class StartOffers:
    resolutions: list[tuple[str, "StrOrPromise"]]
    opens_for_some_reason: dict[int, bool]
    latest_last_day: dict[int, date | None]


class ReturnStartForm(forms.Form):
    """Which units, why, and what the customer would like. Quantity fields are added per line."""

    reason = forms.TypedChoiceField(label=_("Why are you returning them?"), coerce=int, empty_value=None)
    resolution = forms.ChoiceField(label=_("What would you like?"), widget=forms.RadioSelect)
    description = forms.CharField(
        label=_("Anything we should know?"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For an exchange, pick the size or colour you would like next to each item."),
    )

    def __init__(self, *args, order_terms: OrderReturnTerms, reasons: list[ReturnReason], **kwargs):
        super().__init__(*args, **kwargs)
        self.order_terms = order_terms
        self.reasons = {reason.pk: reason for reason in reasons}
        cast(forms.ChoiceField, self.fields["reason"]).choices = [("", _("Choose a reason")), *reason_choices(reasons)]
        self.default_offers = order_terms.for_reason(None)
        for offer in self.default_offers:
            self.fields[f"{QUANTITY_PREFIX}{offer.line.pk}"] = forms.IntegerField(
                label=offer.line.name,
                min_value=0,
                required=False,
                initial=0,
                widget=forms.NumberInput(
                    attrs={
                        "min": 0,
                        "max": offer.terms.returnable_quantity,
                        "inputmode": "numeric",
                        "class": "quantity-input",
                    }
                ),
            )
            # Read only for an exchange; its choices are the line's variants, known when the page
            # renders (``for_page``) or an exchange is checked, never for other submissions.
            self.fields[f"{VARIANT_PREFIX}{offer.line.pk}"] = forms.IntegerField(
                label=_("For an exchange, send me"),
                required=False,
                widget=forms.Select(attrs={"class": "variant-select"}),
            )
        # Validation takes any resolution and says in ``clean`` which ones the chosen items and
        # reason allow; the page offers only those some reason allows (``offers``).
        cast(forms.ChoiceField, self.fields["resolution"]).choices = Resolution.choices

    # --- what the page shows -------------------------------------------------------------------

    @cached_property
    def offers(self) -> "StartOffers":
        """What the terms under every reason allow: which lines open for some reason, their latest
        last day, the resolutions possible at all. Only a page needs it, not a submission: with
        many reasons and lines it is the form's costliest part, pure Python over rows already read.
        """
        by_reason = [self.default_offers] + [self.order_terms.for_reason(reason) for reason in self.reasons.values()]
        offered: set[str] = set()
        opens_for_some_reason, latest_last_day = {}, {}
        for index, offer in enumerate(self.default_offers):
            eligible = [offers[index] for offers in by_reason if offers[index].terms.eligible]
            offered.update(resolution for each in eligible for resolution in each.terms.allowed_resolutions)
            opens_for_some_reason[offer.line.pk] = not offer.terms.eligible and bool(eligible)
            latest = max((each.last_day for each in eligible if each.last_day), default=None)
            latest_last_day[offer.line.pk] = latest if latest and latest != offer.last_day else None
        return StartOffers(
            resolutions=[(value, label) for value, label in Resolution.choices if value in offered],
            opens_for_some_reason=opens_for_some_reason,
            latest_last_day=latest_last_day,
        )

    @cached_property
    def variants(self) -> dict[int, list[ExchangeVariant]]:
        """Per line, the variants an exchange may send instead (one query for every line)."""
        return exchange_variants_for(merchant=self.order_terms.merchant, lines=self.order_terms.lines)

    def for_page(self) -> "ReturnStartForm":
        """Narrow the resolution buttons to what some reason allows, and offer each line's
        variants, before the page renders."""
        cast(forms.ChoiceField, self.fields["resolution"]).choices = self.offers.resolutions
        currency = self.order_terms.order.currency
        for offer in self.default_offers:
            self.fields[f"{VARIANT_PREFIX}{offer.line.pk}"].widget.choices = [
                ("", gettext("The same item again")),
                *((variant.product.pk, variant.choice_label(currency)) for variant in self.variants[offer.line.pk]),
            ]
        return self

    @property
    def rows(self) -> list[LineRow]:
        offers = self.offers
        return [
            LineRow(
                offer=offer,
                field=self[f"{QUANTITY_PREFIX}{offer.line.pk}"],
                opens_for_some_reason=offers.opens_for_some_reason[offer.line.pk],
                latest_last_day=offers.latest_last_day[offer.line.pk],
                variant_field=self[f"{VARIANT_PREFIX}{offer.line.pk}"],
                variants=self.variants[offer.line.pk],
            )
            for offer in self.default_offers
        ]

    @property
    def offers_variants(self) -> bool:
        """Some line comes in other sizes or colours an exchange could send."""
        return any(self.variants.values())

    @property
    def anything_returnable(self) -> bool:
        return any(row.returnable for row in self.rows)

    # --- validation ----------------------------------------------------------------------------

    def clean_reason(self):
        reason = self.reasons.get(self.cleaned_data["reason"])
        if reason is None:
            raise forms.ValidationError(_("Choose a reason."), code="invalid_reason")
        return reason

    def clean(self):
        cleaned = super().clean()
        wanted = []
        for offer in self.default_offers:
            quantity = cleaned.get(f"{QUANTITY_PREFIX}{offer.line.pk}") or 0
            if quantity > 0:
                wanted.append((offer.line.pk, quantity))
        if not wanted and not any(name.startswith(QUANTITY_PREFIX) for name in self.errors):
            raise forms.ValidationError(_("Enter how many units of which item you want to return."), code="no_lines")
        reason = cleaned.get("reason")
        if reason is None or not wanted:
            return cleaned
        offers = {offer.line.pk: offer for offer in self.order_terms.for_reason(reason)}
        chosen = []
        for line_pk, quantity in wanted:
            offer, name = offers[line_pk], f"{QUANTITY_PREFIX}{line_pk}"
            if not offer.terms.eligible:
                self.add_error(name, offer.terms.refusal)
            elif quantity > offer.terms.returnable_quantity:
                self.add_error(
                    name,
                    gettext("At most %(count)s can be returned.") % {"count": offer.terms.returnable_quantity},
                )
            else:
                chosen.append((offer, quantity))
        if len(chosen) != len(wanted):
            return cleaned
        allowed = [
            value
            for value in Resolution.values
            if all(value in offer.terms.allowed_resolutions for offer, _quantity in chosen)
        ]
        resolution = cleaned.get("resolution")
        if resolution and resolution not in allowed:
            if allowed:
                labels = ", ".join(str(Resolution(value).label) for value in allowed)
                message = gettext("For these items and this reason you can choose: %(choices)s.") % {"choices": labels}
            else:
                message = gettext("These items cannot be resolved the same way; send a request for each.")
            self.add_error("resolution", message)
            return cleaned
        exchange = self._exchange_variants(chosen) if resolution == Resolution.EXCHANGE else {}
        if exchange is None:
            return cleaned
        cleaned["chosen"] = chosen
        cleaned["exchange_variants"] = exchange
        return cleaned

    def _exchange_variants(self, chosen) -> dict[int, ExchangeVariant] | None:
        """The variant picked for each chosen line of an exchange (a line left on "the same item"
        is not named); None when a pick is not one offered. Reads the variants only if some line
        has a pick, so an exchange of the same items costs no query more than a refund."""
        picks = {
            offer.line.pk: self.cleaned_data.get(f"{VARIANT_PREFIX}{offer.line.pk}") for offer, _quantity in chosen
        }
        picks = {pk: product_pk for pk, product_pk in picks.items() if product_pk is not None}
        if not picks:
            return {}
        found = {}
        for line_pk, product_pk in picks.items():
            variant = next((v for v in self.variants[line_pk] if v.product.pk == product_pk), None)
            if variant is None:
                self.add_error(
                    f"{VARIANT_PREFIX}{line_pk}", gettext("Pick one of the sizes or colours offered for this item.")
                )
            else:
                found[line_pk] = variant
        return found if len(found) == len(picks) else None

    def draft(self) -> dict:
        """The submitted values, as text, that the review carries in hidden fields to the confirm."""
        return {name: self.data.get(name, "") for name in self.fields if self.data.get(name, "") != ""}


class ReturnConfirmForm(forms.Form):
    """The last step: photos (required where the policy says) and the confirmation itself.

    Photos are asked for here, with the confirm button, because a file cannot travel between two
    pages without being stored, and nothing is stored before the customer confirms. The form's own
    key, new each time the review renders, makes a second click of the same form harmless."""

    photos = MultipleFileField(
        label=_("Photos of the item"),
        help_text=_("Photos (JPG, PNG, GIF, WebP, HEIC), PDF or short videos."),
    )
    submission_key = forms.CharField(
        required=False, max_length=64, initial=new_submission_key, widget=forms.HiddenInput
    )

    def __init__(self, *args, photos_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        photos = self.fields["photos"]
        photos.required = photos_required
        photos.error_messages = {
            **photos.error_messages,
            "required": _("Add at least one photo of the item; this return needs them."),
        }
        if photos_required:
            photos.help_text = _("Required for this return. Show the item and any damage; JPG, PNG, HEIC or PDF.")

    def clean_submission_key(self) -> str:
        key = self.cleaned_data["submission_key"]
        if key and not SUBMISSION_KEY.fullmatch(key):
            self.add_error(None, gettext("This page is out of date; check your return and confirm it again."))
        return key

    def service_error_field(self, exc) -> str | None:
        """Where a refusal of ``return_request_create`` belongs: photos, else the top of the form."""
        if exc.extra.get("field") == "files" or exc.code in FILE_ERROR_CODES:
            return "photos"
        return None


# --- the customer's next steps on a return, from its ticket page -------------------------------

# Pickup windows a customer can pick, in the merchant's time zone: (start hour, end hour).
PICKUP_WINDOWS = ((9, 12), (12, 15), (15, 18), (18, 21))


class ReturnShippingForm(forms.Form):
    """How the parcel goes back. The pickup slot is a day and a window in the merchant's time
    zone; ``return_shipping_choose`` still refuses a slot that has started."""

    method = forms.ChoiceField(label=_("How will you send it back?"), widget=forms.RadioSelect)
    pickup_address = forms.CharField(
        label=_("Pickup address"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    pickup_date = forms.DateField(label=_("Pickup day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    pickup_window = forms.ChoiceField(label=_("Pickup time"), required=False)
    store_location = forms.CharField(label=_("Store"), required=False, max_length=200)

    def __init__(self, *args, zone: ZoneInfo, today: date, last_day: date | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone, self.today, self.last_day = zone, today, last_day
        cast(forms.ChoiceField, self.fields["method"]).choices = ShippingMethod.choices
        cast(forms.ChoiceField, self.fields["pickup_window"]).choices = [
            ("", _("Choose a time")),
            *((f"{start:02d}-{end:02d}", f"{start:02d}:00–{end:02d}:00") for start, end in PICKUP_WINDOWS),
        ]
        self.fields["pickup_date"].widget.attrs["min"] = today.isoformat()
        if last_day is not None:
            self.fields["pickup_date"].widget.attrs["max"] = last_day.isoformat()

    def clean(self):
        cleaned = super().clean()
        cleaned["pickup_slot_start"] = cleaned["pickup_slot_end"] = None
        if cleaned.get("method") != ShippingMethod.PICKUP:
            return cleaned
        if not (cleaned.get("pickup_address") or "").strip():
            self.add_error("pickup_address", gettext("Give the address to pick the parcel up from."))
        day, window = cleaned.get("pickup_date"), cleaned.get("pickup_window")
        if day is None:
            if "pickup_date" not in self.errors:
                self.add_error("pickup_date", gettext("Pick the day of the pickup."))
            return cleaned
        if not window:
            self.add_error("pickup_window", gettext("Pick a pickup time."))
            return cleaned
        if day < self.today:
            self.add_error("pickup_date", gettext("Pick a day from today on."))
            return cleaned
        if self.last_day is not None and day > self.last_day:
            self.add_error(
                "pickup_date",
                gettext("Pick a day by %(day)s, the last day to send the parcel.")
                % {"day": formats.date_format(self.last_day, "DATE_FORMAT")},
            )
            return cleaned
        start_hour, end_hour = (int(part) for part in window.split("-"))
        start = datetime.combine(day, time(start_hour), tzinfo=self.zone)
        if start <= timezone.now():
            self.add_error("pickup_window", gettext("Pick a pickup time slot in the future."))
            return cleaned
        cleaned["pickup_slot_start"] = start
        cleaned["pickup_slot_end"] = datetime.combine(day, time(end_hour), tzinfo=self.zone)
        return cleaned


class ReturnTrackingForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=50)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=80)


class ReturnReviseForm(forms.Form):
    """After a rejection: what the customer adds (a message, photos) and, where the promised
    terms allow another, a different resolution. ``return_request_revise`` takes no more."""

    description = forms.CharField(
        label=_("What should the shop know?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Answer the shop's reason: describe the item, its condition or what went wrong."),
    )
    resolution = forms.ChoiceField(label=_("What would you like?"), widget=forms.RadioSelect)
    photos = MultipleFileField(
        label=_("More photos"), help_text=_("Photos (JPG, PNG, GIF, WebP, HEIC), PDF or short videos.")
    )

    def __init__(self, *args, allowed_resolutions: list[str], current: str, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["resolution"]).choices = [
            (value, label) for value, label in Resolution.choices if value in allowed_resolutions or value == current
        ]
        self.fields["resolution"].initial = current

    def service_error_field(self, exc) -> str | None:
        if exc.extra.get("field") == "files" or exc.code in FILE_ERROR_CODES:
            return "photos"
        if exc.extra.get("field") == "resolution":
            return "resolution"
        return None


class ReturnEscalateForm(forms.Form):
    note = forms.CharField(
        label=_("Why should a supervisor look again?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
