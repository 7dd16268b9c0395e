"""The end of a ticket's life: pending close (the ticket closes itself unless the customer answers
in time) and the merchant's reopen window (a customer message soon after resolution reopens the
ticket; a later one opens a follow-up ticket linked to it)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales import timers
from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import Customer, Deadline, User
from aftersales.services.deadlines import deadline_cancel, deadline_schedule
from aftersales.services.staff import staff_membership_required
from tickets.deadline_kinds import PENDING_CLOSE_KIND as PENDING_CLOSE_KIND  # its home before the selectors read it
from tickets.models import ACTIVE_STATUSES, Ticket, TicketLink, TicketLinkKind, TicketStatus
from tickets.notify import customer_language, notify_customer
from tickets.selectors.routing import support_settings_of
from tickets.services.statuses import status_fields
from tickets.timeline import event_append
from tickets.verbs import RoutingVerb

MAX_PENDING_CLOSE_DAYS = 90


def reopen_window_passed(ticket: Ticket, now: datetime) -> bool:
    """A customer message now opens a follow-up rather than reopening: the ticket is closed, or
    resolved longer ago than the merchant's reopen window."""
    if ticket.status == TicketStatus.CLOSED:
        return True
    if ticket.status != TicketStatus.RESOLVED or ticket.resolved_at is None:
        return False
    window = timedelta(days=support_settings_of(ticket.merchant_id).reopen_window_days)
    return now > ticket.resolved_at + window


def follow_up_link(*, source: Ticket, follow_up: Ticket, customer: Customer) -> TicketLink:
    """Record, in the caller's transaction, that ``follow_up`` was opened by a late message on
    ``source``; both timelines point at the other."""
    link = TicketLink.objects.create(
        merchant_id=source.merchant_id, source=source, target=follow_up, kind=TicketLinkKind.FOLLOW_UP
    )
    event_append(
        source, RoutingVerb.FOLLOW_UP_OPENED, actor_customer=customer, data={"other": follow_up.number}, public=True
    )
    event_append(
        follow_up, RoutingVerb.FOLLOW_UP_OF, actor_customer=customer, data={"other": source.number}, public=True
    )
    return link


def ticket_pending_close(*, ticket: Ticket, actor: User, days: int | None = None) -> Ticket:
    """Wait on the customer, and close the ticket by itself when ``days`` pass without an answer
    (the merchant's default when not given). A customer message cancels it."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=ticket.pk)
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        if days is None:
            days = support_settings_of(ticket.merchant_id).pending_close_days
        if not 1 <= days <= MAX_PENDING_CLOSE_DAYS:
            raise InvalidInput(
                _("Pick from 1 to %(limit)s days.") % {"limit": MAX_PENDING_CLOSE_DAYS},
                code="invalid_days",
                extra={"field": "days"},
            )
        if ticket.status not in ACTIVE_STATUSES:
            raise TransitionNotAllowed(
                _("A ticket that is %(status)s cannot be set to close.") % {"status": ticket.get_status_display()}
            )
        close_at = timezone.now() + timedelta(days=days)
        data = {"close_at": close_at.isoformat(), "days": days}
        if ticket.status != TicketStatus.WAITING_CUSTOMER:
            data["status"] = {"from": ticket.status, "to": TicketStatus.WAITING_CUSTOMER}
            changed = status_fields(ticket, TicketStatus.WAITING_CUSTOMER)
            ticket.save(update_fields=[*changed, "updated_at"])
        deadline_schedule(ticket=ticket, kind=PENDING_CLOSE_KIND, due_at=close_at, user=actor)
        event_append(ticket, RoutingVerb.PENDING_CLOSE_SET, actor_user=actor, data=data)
    return ticket


def ticket_pending_close_cancel(*, ticket: Ticket, actor: User | None = None, customer: Customer | None = None) -> bool:
    """Stop a pending close (staff, or the customer's answer); whether one was pending."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
        if actor is not None:
            staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        if deadline_cancel(ticket=ticket, kind=PENDING_CLOSE_KIND) is None:
            return False
        event_append(ticket, RoutingVerb.PENDING_CLOSE_CANCELLED, actor_user=actor, actor_customer=customer)
    return True


def pending_close_at(ticket: Ticket) -> datetime | None:
    deadline = Deadline.objects.filter(ticket=ticket, kind=PENDING_CLOSE_KIND, state=Deadline.State.PENDING).first()
    return deadline.due_at if deadline else None


def _on_pending_close_due(deadline: Deadline) -> None:
    """The sweep holds the ticket's lock. A ticket no longer waiting on the customer (an agent
    moved it) is left alone."""
    ticket = deadline.ticket
    if ticket.status != TicketStatus.WAITING_CUSTOMER:
        return
    changed = status_fields(ticket, TicketStatus.RESOLVED)
    changed += status_fields(ticket, TicketStatus.CLOSED)
    ticket.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    event_append(
        ticket,
        RoutingVerb.AUTO_CLOSED,
        data={"from": TicketStatus.WAITING_CUSTOMER, "to": TicketStatus.CLOSED, "deadline": deadline.pk},
        public=True,
    )
    with translation.override(customer_language(ticket)):
        status_label = str(TicketStatus.CLOSED.label)
    notify_customer(ticket, "ticket_status", {"status": status_label, "status_code": TicketStatus.CLOSED})


def register_closing_handlers() -> None:
    timers.register(PENDING_CLOSE_KIND, on_due=_on_pending_close_due, staff_facing=False)
