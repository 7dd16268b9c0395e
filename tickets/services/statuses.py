"""A status move whose event the caller writes. The hub's status change appends a status event of
its own around it; a macro, a merge or a closing records all its changes in one event instead."""

from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import TransitionNotAllowed
from tickets import sla
from tickets.models import Ticket, TicketStatus


def status_fields(ticket: Ticket, status: str) -> list[str]:
    """Move the locked ticket by the status table, keep its timestamps and SLA clocks, and return
    the fields to save."""
    if not ticket.can_transition_to(status):
        raise TransitionNotAllowed(
            _("A ticket that is %(current)s cannot become %(target)s.")
            % {"current": ticket.get_status_display(), "target": TicketStatus(status).label},
            extra={"from": ticket.status, "to": status},
        )
    now = timezone.now()
    previous = ticket.status
    ticket.status = status
    ticket.status_changed_at = now
    changed = ["status", "status_changed_at"]
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at = now
        changed.append("resolved_at")
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
        changed.append("closed_at")
    elif previous == TicketStatus.RESOLVED:
        ticket.resolved_at = None
        changed.append("resolved_at")
    sla.sla_on_status(ticket, previous, status, now)
    return changed
