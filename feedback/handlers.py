"""What the timers sweep calls when one of feedback's deadlines falls due: each handler finds its
row, and makes one service call that checks the row still waits on that deadline. Registered with
the timers engine by ``FeedbackConfig.ready()``."""

from aftersales.models import Deadline
from aftersales.timers import register as deadline_handler_register
from feedback.deadline_kinds import FOLLOWUP_VISIT, RECOVERY_DUE, SURVEY_NPS, SURVEY_REMINDER, SURVEY_SEND
from feedback.services import followup_mark_due, nps_send, recovery_overdue, survey_remind, survey_send


def _payload_id(deadline: Deadline, name: str) -> int | None:
    value = deadline.payload.get(name)
    return value if isinstance(value, int) else None


def _on_survey_send_due(deadline: Deadline) -> None:
    survey_id = _payload_id(deadline, "survey")
    if survey_id is not None:
        survey_send(survey_id=survey_id)


def _on_survey_reminder_due(deadline: Deadline) -> None:
    survey_id = _payload_id(deadline, "survey")
    if survey_id is not None:
        survey_remind(survey_id=survey_id)


def _on_nps_due(deadline: Deadline) -> None:
    nps_send(ticket=deadline.ticket)


def _on_followup_due(deadline: Deadline) -> None:
    followup_id = _payload_id(deadline, "followup")
    if followup_id is not None:
        followup_mark_due(followup_id=followup_id)


def _on_recovery_due(deadline: Deadline) -> None:
    recovery_id = _payload_id(deadline, "recovery")
    if recovery_id is not None:
        recovery_overdue(recovery_id=recovery_id)


def register_handlers() -> None:
    deadline_handler_register(SURVEY_SEND, on_due=_on_survey_send_due, staff_facing=False)
    deadline_handler_register(SURVEY_REMINDER, on_due=_on_survey_reminder_due, staff_facing=False)
    deadline_handler_register(SURVEY_NPS, on_due=_on_nps_due, staff_facing=False)
    deadline_handler_register(FOLLOWUP_VISIT, on_due=_on_followup_due, staff_facing=False)
    deadline_handler_register(RECOVERY_DUE, on_due=_on_recovery_due)
