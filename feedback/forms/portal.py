"""The customer's survey form: the same on the signed link's page and on the case page."""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.models import Survey, SurveyKind
from feedback.models.surveys import CES_SCORES, CSAT_SCORES, NPS_SCORES, TECHNICIAN_SCORES
from feedback.reasons import reasons_for
from feedback.services.surveys import MAX_COMMENT_LENGTH


def _scale(bounds: tuple[int, int]) -> list[tuple[str, str]]:
    return [(str(value), str(value)) for value in range(bounds[0], bounds[1] + 1)]


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect)
    reasons = forms.MultipleChoiceField(
        label=_("What made the difference? (optional)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    comment = forms.CharField(
        label=_("Anything else you want to tell us?"),
        required=False,
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    ces_score = forms.TypedChoiceField(
        label=_("How easy was it to get your problem handled? (1 very hard, 7 very easy)"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=_scale(CES_SCORES),
        widget=forms.RadioSelect,
    )
    technician_punctuality = forms.TypedChoiceField(
        label=_("The technician arrived on time"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=_scale(TECHNICIAN_SCORES),
        widget=forms.RadioSelect,
    )
    technician_skill = forms.TypedChoiceField(
        label=_("The technician knew the job"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=_scale(TECHNICIAN_SCORES),
        widget=forms.RadioSelect,
    )
    technician_courtesy = forms.TypedChoiceField(
        label=_("The technician was courteous"),
        coerce=int,
        empty_value=None,
        required=False,
        choices=_scale(TECHNICIAN_SCORES),
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, survey: Survey, ces_enabled: bool, **kwargs: Any) -> None:
        if survey.score is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "score": survey.score,
                "reasons": survey.reasons,
                "comment": survey.comment,
                "ces_score": survey.ces_score,
                "technician_punctuality": survey.technician_punctuality,
                "technician_skill": survey.technician_skill,
                "technician_courtesy": survey.technician_courtesy,
            }
        super().__init__(*args, **kwargs)
        score = cast(forms.ChoiceField, self.fields["score"])
        if survey.kind == SurveyKind.CSAT:
            score.label = _("How satisfied are you with how we handled your request? (1 very unhappy, 5 very happy)")
            score.choices = _scale(CSAT_SCORES)
            reasons = cast(forms.MultipleChoiceField, self.fields["reasons"])
            reasons.choices = [(code, label) for code, label in reasons_for(survey.ticket.kind).items()]
        else:
            score.label = _("How likely are you to recommend us to a friend? (0 not at all, 10 extremely)")
            score.choices = _scale(NPS_SCORES)
            del self.fields["reasons"]
        if survey.kind != SurveyKind.CSAT or not ces_enabled:
            del self.fields["ces_score"]
        if not survey.has_technician_questions:
            for name in ("technician_punctuality", "technician_skill", "technician_courtesy"):
                del self.fields[name]

    @property
    def technician_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in ("technician_punctuality", "technician_skill", "technician_courtesy")
            if name in self.fields
        ]

    def answer(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "score": data["score"],
            "reasons": data.get("reasons") or [],
            "comment": data.get("comment") or "",
            "ces_score": data.get("ces_score"),
            "technician_punctuality": data.get("technician_punctuality"),
            "technician_skill": data.get("technician_skill"),
            "technician_courtesy": data.get("technician_courtesy"),
        }
