"""The portal's repair forms: request a repair, register a serial, answer a quote."""

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.models import Product
from repairs.models import Remedy, RepairMode, ServiceCentre
from tickets.upload_fields import MultipleFileField


class RepairRequestForm(forms.Form):
    fault_description = forms.CharField(
        label=_("What is wrong?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    serial_number = forms.CharField(label=_("Serial number"), max_length=100, required=False)
    mode = forms.ChoiceField(
        label=_("How should it be repaired?"), choices=RepairMode.choices, widget=forms.RadioSelect
    )
    remedy_wanted = forms.ChoiceField(label=_("What do you ask for?"), choices=Remedy.choices, initial=Remedy.REPAIR)
    service_centre = forms.ModelChoiceField(
        label=_("Service centre"), queryset=ServiceCentre.objects.none(), required=False
    )
    address = forms.CharField(label=_("Address of the visit"), max_length=500, required=False)
    district = forms.CharField(label=_("District"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    photos = MultipleFileField(label=_("Photos or a short video"), required=False)
    # The technician's visit chosen in the same step (offered when the request will be triaged
    # automatically); the radios are drawn by the template from the free windows.
    window_start = forms.CharField(required=False)

    def __init__(self, *args, centres=None, **kwargs):
        super().__init__(*args, **kwargs)
        if centres is not None:
            self.fields["service_centre"].queryset = centres

    def clean_window_start(self) -> datetime | None:
        value = (self.cleaned_data.get("window_start") or "").strip()
        if not value:
            return None
        try:
            start = datetime.fromisoformat(value)
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            raise forms.ValidationError(_("Please choose one of the times offered."), code="invalid_window")
        return start

    def clean(self):
        data = super().clean()
        if data.get("mode") != RepairMode.ON_SITE:
            data["window_start"] = None
        return data


class RegistrationForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), empty_label=_("Choose the product")
    )
    serial_number = forms.CharField(label=_("Serial number"), max_length=100)
    purchased_on = forms.DateField(label=_("Bought on"), widget=forms.DateInput(attrs={"type": "date"}))
    proof = forms.FileField(label=_("Photo of the receipt"))

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products


class QuoteAnswerForm(forms.Form):
    reason = forms.CharField(label=_("Why? (optional)"), max_length=2000, required=False)
