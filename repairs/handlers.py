"""What the timers sweep calls when one of repairs' deadlines falls due: find the repair, check it
still waits on that deadline, make one service call. Registered by ``RepairsConfig.ready()``."""

from aftersales.models import Deadline
from aftersales.timers import register as deadline_handler_register
from repairs.deadline_kinds import AUTO_CLOSE, QUOTE_EXPIRY
from repairs.models import RepairOrder, RepairStatus
from repairs.services import repair_auto_close, repair_quote_expire
from repairs.services.dispatch import visit_remind
from repairs.timers import VISIT_REMINDER


def _repair_of(deadline: Deadline) -> RepairOrder | None:
    return RepairOrder.objects.filter(ticket_id=deadline.ticket_id).first()


def _on_quote_expiry_due(deadline: Deadline) -> None:
    repair_order = _repair_of(deadline)
    if repair_order is not None and repair_order.status == RepairStatus.QUOTED:
        repair_quote_expire(repair_order=repair_order)


def _on_auto_close_due(deadline: Deadline) -> None:
    repair_order = _repair_of(deadline)
    if repair_order is not None and repair_order.status == RepairStatus.RETURNED:
        repair_auto_close(repair_order=repair_order)


def _on_visit_reminder_due(deadline: Deadline) -> None:
    visit_id = deadline.payload.get("visit") if isinstance(deadline.payload, dict) else None
    if isinstance(visit_id, int):
        visit_remind(visit_id=visit_id)


def register_handlers() -> None:
    deadline_handler_register(QUOTE_EXPIRY, on_due=_on_quote_expiry_due, staff_facing=False)
    deadline_handler_register(AUTO_CLOSE, on_due=_on_auto_close_due, staff_facing=False)
    deadline_handler_register(VISIT_REMINDER, on_due=_on_visit_reminder_due, staff_facing=False)
