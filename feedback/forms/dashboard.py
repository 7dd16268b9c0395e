"""The dashboard's feedback forms: settings, follow-up rules, a call's outcome, a recovery's."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.models import CallResult, FollowUpRule, SurveyKind, SurveySettings
from feedback.selectors import ResponseFilters


class WordListField(forms.CharField):
    """A list of words typed one a line or separated by commas (，too)."""

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        words = [word.strip() for line in text.replace("，", ",").splitlines() for word in line.split(",")]
        return list(dict.fromkeys(word[:50] for word in words if word))[:100]


class SurveySettingsForm(forms.ModelForm):
    complaint_keywords = WordListField(
        label=_("Words in a comment that open a recovery case"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line, or separated by commas."),
    )
    excluded_tags = WordListField(
        label=_("No survey for cases with these tags"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One a line, or separated by commas."),
    )

    class Meta:
        model = SurveySettings
        fields = [
            "csat_enabled",
            "csat_delay_hours",
            "csat_throttle_days",
            "link_valid_days",
            "reminder_after_hours",
            "ces_enabled",
            "low_score_threshold",
            "complaint_keywords",
            "excluded_tags",
            "recovery_due_hours",
            "nps_enabled",
            "nps_delay_days",
            "nps_throttle_days",
        ]

    def clean_low_score_threshold(self) -> int:
        value: int = self.cleaned_data["low_score_threshold"]
        if not 1 <= value <= 4:
            raise forms.ValidationError(_("Pick a rating from 1 to 4."))
        return value

    def clean_link_valid_days(self) -> int:
        value: int = self.cleaned_data["link_valid_days"]
        if value < 1:
            raise forms.ValidationError(_("A survey link is valid for at least a day."))
        return value


class FollowUpRuleForm(forms.ModelForm):
    class Meta:
        model = FollowUpRule
        fields = ["name", "trigger", "delay_hours", "min_amount", "script", "max_attempts", "retry_hours", "is_active"]
        widgets = {"script": forms.Textarea(attrs={"rows": 4})}

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("trigger") == "refund_over" and data.get("min_amount") is None:
            self.add_error("min_amount", _("Give the refund amount the rule starts at."))
        if data.get("max_attempts") == 0:
            self.add_error("max_attempts", _("Allow at least one attempt."))
        return data


class CallForm(forms.Form):
    result = forms.ChoiceField(label=_("What came of the call"), choices=CallResult.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    new_case_subject = forms.CharField(label=_("Subject of the new case"), required=False, max_length=200)


class RecoveryCloseForm(forms.Form):
    reached = forms.BooleanField(label=_("The customer was reached"), required=False)
    resolved = forms.BooleanField(label=_("The problem is resolved"), required=False)
    compensated = forms.BooleanField(label=_("The customer was compensated"), required=False)
    note = forms.CharField(
        label=_("Outcome"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ResponseFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *SurveyKind.choices])
    score_at_most = forms.TypedChoiceField(
        label=_("Score at most"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any score")), *[(str(n), str(n)) for n in range(11)]],
    )
    since = forms.DateField(label=_("Answered since"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filters(self) -> ResponseFilters:
        if not self.is_bound or not self.is_valid():
            return ResponseFilters()
        data = self.cleaned_data
        return ResponseFilters(
            kind=data.get("kind") or "", score_at_most=data.get("score_at_most"), since=data.get("since")
        )
