"""The dashboard's repair forms: one per staff action, each validated before its service call."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from repairs.models import DiagnosisCode, Exclusion, LineCoverage, LineKind, Remedy

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


class QuoteForm(forms.Form):
    """Up to three lines; a line left empty is ignored."""

    description_1 = forms.CharField(label=_("Line 1"), max_length=300)
    kind_1 = forms.ChoiceField(
        label=_("Kind"), choices=[(k, label) for k, label in LineKind.choices if k != LineKind.PART]
    )
    price_1 = forms.DecimalField(label=_("Price"), max_digits=12, decimal_places=2, min_value=Decimal("0"))
    description_2 = forms.CharField(label=_("Line 2"), max_length=300, required=False)
    kind_2 = forms.ChoiceField(
        label=_("Kind"), choices=[(k, label) for k, label in LineKind.choices if k != LineKind.PART], required=False
    )
    price_2 = forms.DecimalField(
        label=_("Price"), max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False
    )
    note = forms.CharField(label=_("Note to the customer"), max_length=2000, required=False)

    def lines(self) -> list[tuple[str, str, Decimal]]:
        data = self.cleaned_data
        rows = [(data["kind_1"], data["description_1"], data["price_1"])]
        if data.get("description_2") and data.get("price_2") is not None:
            rows.append((data.get("kind_2") or LineKind.LABOUR, data["description_2"], data["price_2"]))
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
