"""The feedback lists as downloads (``aftersales.exports``): the responses, the follow-up queue
and the recovery cases, each with the page's own selector and filters, every row of it.

The follow-up and recovery columns name their values in the query, so those exports read tuples.
A response's reasons are codes in a JSON list whose labels depend on the case's kind, so the
responses export reads instances, with the request's language put back per row."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from aftersales.exports import Column
from feedback.models import FollowUpOutcome, FollowUpStatus, RecoveryStatus, RecoveryTrigger, SurveyKind
from feedback.reasons import reasons_for


def _reasons(survey: Any) -> str:
    labels = reasons_for(survey.ticket.kind)
    return "; ".join(str(labels.get(code, code)) for code in survey.reasons)


def _user(user: Any) -> str:
    return str(user) if user is not None else ""


RESPONSE_COLUMNS = [
    Column(_("Answered"), lambda survey: survey.answered_at),
    Column(_("Kind"), lambda survey: SurveyKind(survey.kind).label),
    Column(_("Score"), lambda survey: survey.score),
    Column(_("Ease (CES)"), lambda survey: survey.ces_score),
    Column(_("Reasons"), _reasons),
    Column(_("Comment"), lambda survey: survey.comment),
    Column(_("Case"), lambda survey: survey.ticket.number),
    Column(_("Customer"), lambda survey: survey.customer.name),
    Column(_("Agent"), lambda survey: _user(survey.agent)),
    Column(_("Team"), lambda survey: survey.team.name if survey.team_id else ""),
    Column(_("Technician"), lambda survey: _user(survey.technician)),
    Column(_("Punctuality"), lambda survey: survey.technician_punctuality),
    Column(_("Skill"), lambda survey: survey.technician_skill),
    Column(_("Courtesy"), lambda survey: survey.technician_courtesy),
    Column(_("Times answered"), lambda survey: survey.answer_count),
]

FOLLOWUP_COLUMNS = [
    Column(_("Call at"), field="due_at"),
    Column(_("Status"), field="status", choices=FollowUpStatus),
    Column(_("Rule"), field="rule__name"),
    Column(_("Case"), field="ticket__number"),
    Column(_("Customer"), field="customer__name"),
    Column(_("Phone"), field="customer__phone"),
    Column(_("Calls made"), field="attempts"),
    Column(_("Attempts allowed"), field="max_attempts"),
    Column(_("Outcome"), field="outcome", choices=FollowUpOutcome),
    Column(_("Completed"), field="completed_at"),
]

RECOVERY_COLUMNS = [
    Column(_("Due"), field="due_at"),
    Column(_("Status"), field="status", choices=RecoveryStatus),
    Column(_("Why"), field="trigger", choices=RecoveryTrigger),
    Column(_("Recovery case"), field="recovery_ticket__number"),
    Column(_("Original case"), field="original_ticket__number"),
    Column(_("Customer"), field="recovery_ticket__customer__name"),
    Column(_("Phone"), field="recovery_ticket__customer__phone"),
    Column(_("Supervisor"), field="supervisor__username"),
    Column(_("Customer reached"), field="reached"),
    Column(_("Problem resolved"), field="resolved"),
    Column(_("Compensated"), field="compensated"),
    Column(_("Outcome"), field="outcome_note"),
    Column(_("Closed"), field="closed_at"),
]
