"""Starting and stopping feedback's deadlines on the timers engine."""

from datetime import datetime

from aftersales.models import Deadline
from aftersales.services.deadlines import deadline_cancel, deadline_meet, deadline_schedule
from feedback.deadline_kinds import FOLLOWUP_VISIT, RECOVERY_DUE, SURVEY_NPS, SURVEY_REMINDER, SURVEY_SEND
from tickets.models import Ticket


def survey_send_schedule(*, ticket: Ticket, survey_id: int, at: datetime) -> Deadline:
    return deadline_schedule(ticket=ticket, kind=SURVEY_SEND, due_at=at, payload={"survey": survey_id})


def survey_send_cancel(*, ticket: Ticket) -> None:
    deadline_cancel(ticket=ticket, kind=SURVEY_SEND)


def survey_reminder_schedule(*, ticket: Ticket, survey_id: int, at: datetime) -> Deadline:
    return deadline_schedule(ticket=ticket, kind=SURVEY_REMINDER, due_at=at, payload={"survey": survey_id})


def survey_reminder_meet(*, ticket: Ticket) -> None:
    deadline_meet(ticket=ticket, kind=SURVEY_REMINDER)


def nps_schedule(*, ticket: Ticket, at: datetime) -> Deadline:
    return deadline_schedule(ticket=ticket, kind=SURVEY_NPS, due_at=at)


def nps_cancel(*, ticket: Ticket) -> None:
    deadline_cancel(ticket=ticket, kind=SURVEY_NPS)


def followup_schedule(*, ticket: Ticket, followup_id: int, at: datetime) -> Deadline:
    return deadline_schedule(
        ticket=ticket, kind=FOLLOWUP_VISIT, key=str(followup_id), due_at=at, payload={"followup": followup_id}
    )


def followup_cancel(*, ticket: Ticket, followup_id: int) -> None:
    deadline_cancel(ticket=ticket, kind=FOLLOWUP_VISIT, key=str(followup_id))


def recovery_due_schedule(*, ticket: Ticket, recovery_id: int, at: datetime) -> Deadline:
    return deadline_schedule(ticket=ticket, kind=RECOVERY_DUE, due_at=at, payload={"recovery": recovery_id})


def recovery_due_meet(*, ticket: Ticket) -> None:
    deadline_meet(ticket=ticket, kind=RECOVERY_DUE)
