"""The one move of a repair along ``REPAIR_TRANSITIONS``, shared by the service families inside
their transactions: it refuses what the table does not allow, saves, queues the status webhook and
moves the ticket's generic status with it; the first time the repair is done, it tells the apps
that listen (``repairs.hooks``)."""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from aftersales.exceptions import TransitionNotAllowed
from aftersales.models import Customer, User
from repairs.hooks import DONE_STATUSES, repair_done
from repairs.models import RepairOrder, RepairStatus
from repairs.services.webhooks import repair_status_changed
from tickets.models import TicketStatus
from tickets.services import ticket_follow_workflow

S = RepairStatus
# Whose move it is on the case hub while the repair is in each state.
TICKET_STATUS: dict[str, str] = {
    S.REQUESTED: TicketStatus.NEW,
    S.IN_WARRANTY: TicketStatus.OPEN,
    S.OUT_OF_WARRANTY: TicketStatus.OPEN,
    S.GOODWILL: TicketStatus.OPEN,
    S.REJECTED: TicketStatus.RESOLVED,
    S.QUOTED: TicketStatus.WAITING_CUSTOMER,
    S.QUOTE_APPROVED: TicketStatus.OPEN,
    S.DECLINED: TicketStatus.OPEN,
    S.EXPIRED: TicketStatus.OPEN,
    S.SCHEDULED: TicketStatus.OPEN,
    S.ON_SITE: TicketStatus.OPEN,
    S.AWAITING_DEVICE: TicketStatus.WAITING_CUSTOMER,
    S.DEVICE_RECEIVED: TicketStatus.OPEN,
    S.DIAGNOSING: TicketStatus.OPEN,
    S.WAITING_PARTS: TicketStatus.WAITING_THIRD_PARTY,
    S.IN_REPAIR: TicketStatus.OPEN,
    S.QC: TicketStatus.OPEN,
    S.READY: TicketStatus.OPEN,
    S.RETURNED: TicketStatus.RESOLVED,
    S.REPLACED: TicketStatus.RESOLVED,
    S.REFUNDED: TicketStatus.RESOLVED,
    S.CLOSED: TicketStatus.CLOSED,
    S.CANCELLED: TicketStatus.CANCELLED,
}
del S


def transition_check(repair_order: RepairOrder, status: str) -> None:
    if not repair_order.can_transition_to(status):
        raise TransitionNotAllowed(
            _("A repair that is %(current)s cannot become %(target)s.")
            % {"current": repair_order.get_status_display(), "target": RepairStatus(status).label},
            extra={"from": repair_order.status, "to": status},
        )


def repair_move(
    repair_order: RepairOrder,
    status: str,
    *,
    actor: User | None = None,
    customer: Customer | None = None,
    fields: Iterable[str] = (),
) -> str:
    """Move the (locked) repair to ``status``, saving ``fields`` with it; returns the previous
    status. The caller appends its event."""
    transition_check(repair_order, status)
    previous, repair_order.status = repair_order.status, status
    repair_order.save(update_fields=["status", *fields, "updated_at"])
    repair_status_changed(repair_order, previous=previous)
    target = TICKET_STATUS[status]
    ticket = repair_order.ticket
    if target == TicketStatus.CLOSED and ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        ticket = ticket_follow_workflow(
            ticket=ticket, status=TicketStatus.RESOLVED, actor_user=actor, actor_customer=customer
        )
    if ticket.status != target and target != TicketStatus.NEW:
        ticket = ticket_follow_workflow(ticket=ticket, status=target, actor_user=actor, actor_customer=customer)
    repair_order.ticket = ticket
    if status in DONE_STATUSES and previous not in DONE_STATUSES:
        repair_done(repair_order)
    return previous
