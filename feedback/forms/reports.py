"""The dashboard's forms of feedback: the KPI home's filters and the decisions on an alert."""

from datetime import date
from typing import cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from aftersales.models import Merchant
from feedback.models import AlertStatus
from feedback.selectors import KpiFilters, agents_of, period_of, stores_of, teams_of
from tickets.models import TicketKind

PERIODS = ((7, _("Last 7 days")), (30, _("Last 30 days")), (90, _("Last 90 days")))
DEFAULT_PERIOD_DAYS = 30
LONGEST_PERIOD_DAYS = 366


class KpiFilterForm(forms.Form):
    period = forms.TypedChoiceField(
        label=_("Period"), choices=PERIODS, coerce=int, required=False, initial=DEFAULT_PERIOD_DAYS
    )
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    store = forms.TypedChoiceField(label=_("Store"), coerce=int, required=False, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)
    agent = forms.TypedChoiceField(label=_("Agent"), coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args, merchant: Merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        if isinstance(self.data, QueryDict) and not self.data.get("period"):
            # The figures then cover the default period: the select says so (it showed "Last 7
            # days", its first option, above 30 days of figures).
            data = self.data.copy()
            data["period"] = str(DEFAULT_PERIOD_DAYS)
            self.data = data
        cast(forms.ChoiceField, self.fields["store"]).choices = [
            ("", _("Every store")),
            *[(store.pk, store.name) for store in stores_of(merchant)],
        ]
        cast(forms.ChoiceField, self.fields["team"]).choices = [
            ("", _("Every team")),
            *[(team.pk, team.name) for team in teams_of(merchant)],
        ]
        cast(forms.ChoiceField, self.fields["agent"]).choices = [
            ("", _("Everyone")),
            *[(user.pk, user.get_username()) for user in agents_of(merchant)],
        ]
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", _("Every kind")), *TicketKind.choices]

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The period must start before it ends."), code="period_order")
            if (end - start).days >= LONGEST_PERIOD_DAYS:
                raise forms.ValidationError(_("Choose a period of at most a year."), code="period_too_long")
        elif start or end:
            raise forms.ValidationError(
                _("Give both the first and the last day, or pick a period."), code="period_half"
            )
        return data

    def filters(self, today: date | None = None) -> KpiFilters:
        """The filters asked for; an invalid choice falls back to the default (the form says why)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if data.get("start") and data.get("end"):
            start, end = data["start"], data["end"]
        else:
            start, end = period_of(self.merchant, days=data.get("period") or DEFAULT_PERIOD_DAYS, today=today)
        return KpiFilters(
            start=start,
            end=end,
            store_id=data.get("store"),
            team_id=data.get("team"),
            agent_id=data.get("agent"),
            kind=data.get("kind") or "",
        )


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [("", _("Every status")), *AlertStatus.choices]

    def chosen_status(self) -> str:
        return self.cleaned_data.get("status", "") if self.is_bound and self.is_valid() else ""


class AlertAcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AlertDismissForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this not a quality problem?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
