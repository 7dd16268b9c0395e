"""Forms of complaint handling on the ticket page and the portal. They only shape the input; the
services decide what is allowed."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.periods import DateInput
from tickets.models import (
    CompensationKind,
    ComplaintCategory,
    ComplaintSeverity,
    RegulatorChannel,
    ResponsibleParty,
)


class ComplaintClassifyForm(forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=ComplaintSeverity.choices)
    category = forms.ChoiceField(label=_("Category"), choices=ComplaintCategory.choices)


class ComplaintResponsibilityForm(forms.Form):
    party = forms.ChoiceField(label=_("Responsible party"), choices=ResponsibleParty.choices)
    third_party_name = forms.CharField(
        label=_("Name of the third party"),
        max_length=200,
        required=False,
        help_text=_("The carrier, supplier or platform asked for an answer."),
    )
    evidence = forms.CharField(label=_("Evidence"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class ThirdPartyAnswerForm(forms.Form):
    answer = forms.CharField(label=_("Their answer"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class ComplaintEscalateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=5000, required=False)


class CompensationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CompensationKind.choices)
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2)
    note = forms.CharField(label=_("Note"), max_length=5000, required=False)

    def __init__(self, *args: Any, kinds: Sequence[str] | None = None, **kwargs: Any) -> None:
        """``kinds``: the kinds to offer (those that can be paid for this case); all by default."""
        super().__init__(*args, **kwargs)
        if kinds is not None:
            field = self.fields["kind"]
            if isinstance(field, forms.ChoiceField):
                field.choices = [(value, label) for value, label in CompensationKind.choices if value in kinds]


class RegulatorCaseForm(forms.Form):
    channel = forms.ChoiceField(label=_("Regulator"), choices=RegulatorChannel.choices)
    reference = forms.CharField(label=_("Reference"), max_length=100)
    received_on = forms.DateField(label=_("Received by the regulator on"), widget=DateInput())
    answer_due_on = forms.DateField(label=_("Our answer is due on"), widget=DateInput())


class RegulatorAcceptForm(forms.Form):
    accepted_on = forms.DateField(label=_("Accepted on"), widget=DateInput())


class RegulatorAnswerForm(forms.Form):
    outcome = forms.CharField(label=_("What we answered"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class ComplaintCloseOutForm(forms.Form):
    root_cause = forms.CharField(label=_("Root cause"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    corrective_action = forms.CharField(
        label=_("Corrective action"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PortalEscalateForm(forms.Form):
    tier = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2)
    reason = forms.CharField(
        label=_("Why is our answer not good enough?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PortalCompensationAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])
