"""What the timers sweep calls when one of repairs' deadlines falls due. Registered with the
timers engine by ``RepairsConfig.ready()``."""

from aftersales.models import Deadline
from aftersales.timers import register as deadline_handler_register
from repairs.services.dispatch import visit_remind
from repairs.timers import VISIT_REMINDER


def _on_visit_reminder_due(deadline: Deadline) -> None:
    visit_id = deadline.payload.get("visit") if isinstance(deadline.payload, dict) else None
    if isinstance(visit_id, int):
        visit_remind(visit_id=visit_id)


def register_handlers() -> None:
    deadline_handler_register(VISIT_REMINDER, on_due=_on_visit_reminder_due, staff_facing=False)
