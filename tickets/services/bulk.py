"""Changes to many tickets at once from the queue, through the same services as the ticket page.

The rule: each ticket is changed on its own, in its own transaction, by the service that changes
one (assignment, status, priority, tags), which appends that ticket's one event. A refusal of one
ticket (a status its workflow does not allow, say) leaves that ticket exactly as it was and does
not stop the others; the outcome of every ticket is returned, so the page says which changed and
which were refused, and why. Tickets are taken in number order, each locked only while it changes.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError, InvalidInput
from aftersales.models import Membership, User
from tickets.models import Team, Ticket
from tickets.selectors import tickets_visible_to
from tickets.services.tickets import (
    ticket_assign,
    ticket_change_priority,
    ticket_change_status,
    ticket_set_tags,
)

# One submission changes at most this many tickets (a queue page holds fewer).
BULK_LIMIT = 100


class BulkAction:
    ASSIGN = "assign"
    STATUS = "status"
    PRIORITY = "priority"
    TAG = "tag"
    ALL = (ASSIGN, STATUS, PRIORITY, TAG)


@dataclass(frozen=True)
class BulkOutcome:
    number: str
    ok: bool
    code: str = ""
    message: str = ""


def tickets_bulk_change(
    *,
    membership: Membership,
    numbers: Sequence[str],
    action: str,
    assignee: User | None = None,
    team: Team | None = None,
    status: str = "",
    priority: int | None = None,
    tags: Iterable[str] = (),
) -> list[BulkOutcome]:
    """Apply one change to each ticket named (numbers the member may see; others are reported as
    not found, as a ticket page would be), each as its own use case. See the module's rule."""
    if action not in BulkAction.ALL:
        raise InvalidInput(_("Pick what to change."), code="invalid_bulk_action", extra={"field": "action"})
    wanted = sorted({number.strip().upper() for number in numbers if number.strip()})
    if not wanted:
        raise InvalidInput(_("Select at least one ticket."), code="no_tickets", extra={"field": "tickets"})
    if len(wanted) > BULK_LIMIT:
        raise InvalidInput(
            _("Change at most %(limit)s tickets at once.") % {"limit": BULK_LIMIT},
            code="too_many_tickets",
            extra={"field": "tickets"},
        )
    tag_names = [name.strip() for name in tags if name.strip()]
    if action == BulkAction.TAG and not tag_names:
        raise InvalidInput(_("Enter the tag to add."), code="tag_required", extra={"field": "tag"})
    if action == BulkAction.PRIORITY and priority is None:
        raise InvalidInput(_("Pick a priority."), code="priority_required", extra={"field": "priority"})
    if action == BulkAction.STATUS and not status:
        raise InvalidInput(_("Pick a status."), code="status_required", extra={"field": "status"})
    actor = membership.user
    found = {ticket.number: ticket for ticket in tickets_visible_to(membership).filter(number__in=wanted)}
    outcomes = []
    for number in wanted:
        ticket = found.get(number)
        if ticket is None:
            outcomes.append(BulkOutcome(number, ok=False, code="not_found", message=_("No such ticket.")))
            continue
        try:
            _change_one(ticket, actor, action, assignee, team, status, priority, tag_names)
        except ApplicationError as refusal:
            outcomes.append(BulkOutcome(number, ok=False, code=refusal.code, message=str(refusal.message)))
        else:
            outcomes.append(BulkOutcome(number, ok=True))
    return outcomes


def _change_one(
    ticket: Ticket,
    actor: User,
    action: str,
    assignee: User | None,
    team: Team | None,
    status: str,
    priority: int | None,
    tag_names: list[str],
) -> None:
    if action == BulkAction.ASSIGN:
        ticket_assign(ticket=ticket, actor=actor, assignee=assignee, team=team)
    elif action == BulkAction.STATUS:
        ticket_change_status(ticket=ticket, actor=actor, status=status)
    elif action == BulkAction.PRIORITY and priority is not None:
        ticket_change_priority(ticket=ticket, actor=actor, priority=priority)
    elif action == BulkAction.TAG:
        # Added to the tags the ticket has, read under its lock so a tag set meanwhile is kept.
        with transaction.atomic():
            locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
            current = list(locked.tags.values_list("name", flat=True))
            ticket_set_tags(ticket=locked, actor=actor, names=[*current, *tag_names])
