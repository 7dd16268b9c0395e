"""Every write of feedback, one module per family: surveys, follow-ups, recovery, settings, the
quality run and its alerts' decisions, the KPI rollups' refresh; re-exported here."""

from tickets.models import Ticket

from .followups import (
    followup_mark_due,
    followup_record_call,
    followups_on_repair_done,
    followups_on_ticket_status,
    followups_trigger,
)
from .quality import (
    QualityRun,
    quality_alert_acknowledge,
    quality_alert_dismiss,
    quality_cohorts_refresh,
    quality_run,
    quality_settings_of,
)
from .recovery import recovery_close, recovery_open, recovery_overdue
from .rollups import rollups_refresh
from .settings import followup_rule_save, survey_settings_save
from .surveys import (
    nps_send,
    survey_remind,
    survey_respond,
    survey_schedule,
    survey_send,
    survey_url,
    surveys_on_ticket_merged,
    surveys_on_ticket_status,
)


def feedback_on_ticket_status(*, ticket: Ticket, previous: str, status: str) -> None:
    """The hub's status listener (``tickets.hooks``), inside the status change's transaction."""
    surveys_on_ticket_status(ticket=ticket, previous=previous, status=status)
    followups_on_ticket_status(ticket=ticket, previous=previous, status=status)


__all__ = [
    "QualityRun",
    "feedback_on_ticket_status",
    "followup_mark_due",
    "followup_record_call",
    "followup_rule_save",
    "followups_on_repair_done",
    "followups_on_ticket_status",
    "followups_trigger",
    "nps_send",
    "quality_alert_acknowledge",
    "quality_alert_dismiss",
    "quality_cohorts_refresh",
    "quality_run",
    "quality_settings_of",
    "recovery_close",
    "recovery_open",
    "recovery_overdue",
    "rollups_refresh",
    "survey_remind",
    "survey_respond",
    "survey_schedule",
    "survey_send",
    "survey_settings_save",
    "survey_url",
    "surveys_on_ticket_merged",
    "surveys_on_ticket_status",
]
