"""Reads of cases that pages, the API and tasks share. Each starts from the request's merchant."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from aftersales.models import Customer, Membership, Merchant, Order
from tickets.models import ACTIVE_STATUSES, Attachment, Message, Ticket, TicketEvent, TicketKind

# The queue order: most urgent first, then the oldest. It matches the partial index
# ``ticket_queue_active`` so that a page of the queue is an index range scan.
QUEUE_ORDERING = ("-priority", "created_at", "id")
RECENT_ORDERING = ("-created_at", "-id")


def tickets_of(merchant: Merchant) -> QuerySet[Ticket]:
    return Ticket.objects.filter(merchant=merchant)


def tickets_visible_to(membership: Membership) -> QuerySet[Ticket]:
    """What a staff member may see: technicians their assigned repairs, warehouse the returns."""
    tickets = tickets_of(membership.merchant)
    role = membership.role
    if role == Membership.Role.TECHNICIAN:
        return tickets.filter(kind=TicketKind.REPAIR, assignee_id=membership.user_id)
    if role == Membership.Role.WAREHOUSE:
        return tickets.filter(kind__in=(TicketKind.RETURN, TicketKind.EXCHANGE, TicketKind.REPAIR))
    return tickets


@dataclass(frozen=True)
class TicketFilters:
    kind: str = ""
    status: str = ""  # "" means every active status; "all" means every status
    assignee: str = ""  # a user id, "me", or "none"
    priority: int | None = None
    q: str = ""


def ticket_queue(*, membership: Membership, filters: TicketFilters) -> QuerySet[Ticket]:
    tickets = tickets_visible_to(membership).select_related("customer", "assignee", "order")
    if filters.status == "all":
        pass
    elif filters.status:
        tickets = tickets.filter(status=filters.status)
    else:
        tickets = tickets.filter(status__in=ACTIVE_STATUSES)
    if filters.kind:
        tickets = tickets.filter(kind=filters.kind)
    if filters.priority:
        tickets = tickets.filter(priority=filters.priority)
    if filters.assignee == "me":
        tickets = tickets.filter(assignee_id=membership.user_id)
    elif filters.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        tickets = tickets.filter(assignee_id=int(filters.assignee))
    q = filters.q.strip()
    if q:
        tickets = tickets.filter(_search(membership.merchant, q))
    return tickets.order_by(*QUEUE_ORDERING)


def _search(merchant: Merchant, q: str) -> Q:
    """A ticket number, an order number, or a customer's e-mail, phone or name."""
    upper = q.upper()
    condition = Q(number=upper) | Q(order__external_number=q)
    customer_ids = (
        Customer.objects.filter(merchant=merchant)
        .filter(Q(email=q.lower()) | Q(phone=q) | Q(phone=f"+86{q}") | Q(name__icontains=q))
        .values("pk")[:200]
    )
    return condition | Q(customer_id__in=customer_ids)


def ticket_by_number(*, membership: Membership, number: str) -> Ticket | None:
    return (
        tickets_visible_to(membership)
        .select_related("customer", "assignee", "team", "order", "order__store", "store")
        .prefetch_related("tags", "order_lines")
        .filter(number=number.upper())
        .first()
    )


def ticket_timeline(*, ticket: Ticket, public_only: bool) -> QuerySet[TicketEvent]:
    events = (
        TicketEvent.objects.filter(merchant_id=ticket.merchant_id, ticket=ticket)
        .select_related("actor_user", "actor_customer", "message")
        .prefetch_related("message__attachments")
        .order_by("created_at", "id")
    )
    return events.filter(is_public=True) if public_only else events


def ticket_messages(*, ticket: Ticket, public_only: bool) -> QuerySet[Message]:
    messages = (
        Message.objects.filter(merchant_id=ticket.merchant_id, ticket=ticket)
        .select_related("author_user", "author_customer")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    return messages.exclude(kind=Message.Kind.NOTE) if public_only else messages


def tickets_of_order(*, order: Order) -> QuerySet[Ticket]:
    return Ticket.objects.filter(merchant_id=order.merchant_id, order=order).order_by("-created_at", "-id")


def customer_ticket_history(*, customer: Customer, limit: int = 10) -> list[Ticket]:
    return list(
        Ticket.objects.filter(merchant_id=customer.merchant_id, customer=customer).order_by(*RECENT_ORDERING)[:limit]
    )


def attachment_for_staff(*, membership: Membership, attachment_id: int) -> Attachment | None:
    visible = tickets_visible_to(membership).values("pk")
    attachment = (
        Attachment.objects.filter(merchant=membership.merchant, pk=attachment_id, ticket_id__in=visible)
        .select_related("message")
        .first()
    )
    return attachment


def attachment_for_customer(*, merchant: Merchant, order_ids: list[int], attachment_id: int) -> Attachment | None:
    """A customer sees attachments of their verified orders' tickets, never of internal notes."""
    return (
        Attachment.objects.filter(merchant=merchant, pk=attachment_id, ticket__order_id__in=order_ids)
        .exclude(message__kind=Message.Kind.NOTE)
        .first()
    )
