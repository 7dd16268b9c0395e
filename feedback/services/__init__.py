"""Every write of feedback, one module per family; what other modules use is re-exported here."""

from tickets.models import Ticket

from .followups import followup_mark_due, followup_record_call, followups_on_ticket_status, followups_trigger
from .recovery import recovery_close, recovery_open, recovery_overdue
from .settings import followup_rule_save, survey_settings_save
from .surveys import (
    nps_send,
    survey_remind,
    survey_respond,
    survey_schedule,
    survey_send,
    survey_url,
    surveys_on_ticket_status,
)


def feedback_on_ticket_status(*, ticket: Ticket, previous: str, status: str) -> None:
    """The hub's status listener (``tickets.hooks``), inside the status change's transaction."""
    surveys_on_ticket_status(ticket=ticket, previous=previous, status=status)
    followups_on_ticket_status(ticket=ticket, previous=previous, status=status)


__all__ = [
    "feedback_on_ticket_status",
    "followup_mark_due",
    "followup_record_call",
    "followup_rule_save",
    "followups_on_ticket_status",
    "followups_trigger",
    "nps_send",
    "recovery_close",
    "recovery_open",
    "recovery_overdue",
    "survey_remind",
    "survey_respond",
    "survey_schedule",
    "survey_send",
    "survey_settings_save",
    "survey_url",
    "surveys_on_ticket_status",
]
