"""The dashboard's repair forms: one per staff action, each validated before its service call."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from repairs.models import DiagnosisCode, Exclusion, LineCoverage, LineKind, Part, Remedy
from repairs.services import LineInput

OUTCOMES = [
    ("", _("As the warranty answers")),
    ("in_warranty", _("In warranty")),
    ("out_of_warranty", _("Out of warranty (quote)")),
    ("goodwill", _("Goodwill")),
]


class TriageForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOMES, required=False)
    exclusions = forms.MultipleChoiceField(
        label=_("Exclusions found"), choices=Exclusion.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    goodwill_amount = forms.DecimalField(
        label=_("Goodwill amount"), max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class EmptyForm(forms.Form):
    pass


class DiagnoseForm(forms.Form):
    code = forms.ModelChoiceField(label=_("Diagnosis"), queryset=DiagnosisCode.objects.none())
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)

    def __init__(self, *args, codes=None, **kwargs):
        super().__init__(*args, **kwargs)
        if codes is not None:
            self.fields["code"].queryset = codes


class LineForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(k, label) for k, label in LineKind.choices if k != LineKind.PART]
    )
    description = forms.CharField(label=_("Description"), max_length=300)
    quantity = forms.DecimalField(
        label=_("Quantity"), max_digits=9, decimal_places=2, min_value=Decimal("0.01"), initial=1
    )
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=12, decimal_places=2, min_value=Decimal("0"))
    coverage = forms.ChoiceField(
        label=_("Paid by"), choices=[(k, label) for k, label in LineCoverage.choices if k != LineCoverage.CUSTOMER]
    )


QUOTE_PART_LINES = 3
HAND_KINDS = [(k, label) for k, label in LineKind.choices if k != LineKind.PART]


class QuoteForm(forms.Form):
    """Up to two lines typed by hand (labour, travel, …) and up to three parts picked from the
    merchant's catalogue by part number; a line left empty is ignored, and one line is needed.

    A part line names its part by number (the page's search fills it, with its name and price,
    from the merchant's catalogue; without the script staff type the number): the part is looked up
    in the repair's merchant only, so another merchant's part is an unknown part. Its description
    and price may be edited; left empty they are the catalogue's.
    """

    description_1 = forms.CharField(label=_("Line 1"), max_length=300, required=False)
    kind_1 = forms.ChoiceField(label=_("Kind"), choices=HAND_KINDS, required=False)
    price_1 = forms.DecimalField(
        label=_("Price"), max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    description_2 = forms.CharField(label=_("Line 2"), max_length=300, required=False)
    kind_2 = forms.ChoiceField(label=_("Kind"), choices=HAND_KINDS, required=False)
    price_2 = forms.DecimalField(
        label=_("Price"), max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    note = forms.CharField(label=_("Note to the customer"), max_length=2000, required=False)

    def __init__(
        self,
        *args: Any,
        find_part: Callable[[str], Part | None] | None = None,
        search_url: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.find_part = find_part
        for n in range(1, QUOTE_PART_LINES + 1):
            self.fields[f"part_number_{n}"] = forms.CharField(
                label=_("Part number"),
                max_length=100,
                required=False,
                widget=forms.TextInput(
                    attrs={
                        "list": "quote-parts",
                        "autocomplete": "off",
                        "data-part-search": search_url,
                        "data-line": str(n),
                        "placeholder": _("Search by part number or name"),
                    }
                ),
            )
            self.fields[f"part_description_{n}"] = forms.CharField(
                label=_("Description"), max_length=300, required=False
            )
            self.fields[f"part_quantity_{n}"] = forms.DecimalField(
                label=_("Quantity"),
                max_digits=9,
                decimal_places=2,
                min_value=Decimal("0.01"),
                initial=1,
                required=False,
            )
            self.fields[f"part_price_{n}"] = forms.DecimalField(
                label=_("Unit price"), max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
            )
        self.order_fields([*(name for name in self.fields if name != "note"), "note"])

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields in fieldsets, for the page: the lines typed by hand, each part, the note."""
        groups = [(str(_("Work")), [self[f"{name}_{n}"] for n in (1, 2) for name in ("description", "kind", "price")])]
        for n in range(1, QUOTE_PART_LINES + 1):
            names = ("part_number", "part_description", "part_quantity", "part_price")
            groups.append((str(_("Part %(n)s") % {"n": n}), [self[f"{name}_{n}"] for name in names]))
        groups.append(("", [self["note"]]))
        return groups

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.parts: dict[int, Part] = {}
        for n in (1, 2):
            if data.get(f"description_{n}") and data.get(f"price_{n}") is None:
                self.add_error(f"price_{n}", _("Give the price of line %(n)s.") % {"n": n})
        for n in range(1, QUOTE_PART_LINES + 1):
            number = (data.get(f"part_number_{n}") or "").strip()
            if not number:
                continue
            part = self.find_part(number) if self.find_part else None
            if part is None:
                self.add_error(f"part_number_{n}", _("Unknown part: %(number)s.") % {"number": number})
                continue
            self.parts[n] = part
        if not self.errors and not self.lines():
            raise forms.ValidationError(_("A quote needs at least one line."), code="quote_empty")
        return data

    def lines(self) -> list[LineInput]:
        data = self.cleaned_data
        rows = [
            LineInput(
                kind=data.get(f"kind_{n}") or LineKind.LABOUR,
                description=data[f"description_{n}"],
                unit_price=data[f"price_{n}"],
            )
            for n in (1, 2)
            if data.get(f"description_{n}") and data.get(f"price_{n}") is not None
        ]
        for n, part in sorted(self.parts.items()):
            price = data.get(f"part_price_{n}")
            rows.append(
                LineInput(
                    kind=LineKind.PART,
                    part=part,
                    description=(data.get(f"part_description_{n}") or "").strip() or part.name,
                    quantity=data.get(f"part_quantity_{n}") or Decimal("1"),
                    unit_price=part.price if price is None else price,
                    unit_cost=part.cost,
                )
            )
        return rows


class PartsWaitForm(forms.Form):
    expected_on = forms.DateField(
        label=_("Parts expected on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class QcForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("Result"),
        choices=[("1", _("Passed")), ("0", _("Failed"))],
        coerce=lambda value: value == "1",
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class ShipBackForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=100)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100)


class SettleForm(forms.Form):
    remedy = forms.ChoiceField(
        label=_("Remedy"), choices=[(Remedy.EXCHANGE, Remedy.EXCHANGE.label), (Remedy.RETURN, Remedy.RETURN.label)]
    )
    unrepairable = forms.BooleanField(label=_("The unit cannot be repaired"), required=False)
    carrier = forms.CharField(label=_("Carrier of the replacement"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)
    new_serial_number = forms.CharField(label=_("Serial number of the replacement"), max_length=100, required=False)
