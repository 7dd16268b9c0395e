"""Reads of cases that pages, the API and tasks share. Each starts from the request's merchant."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, JSONObject
from django.utils.translation import gettext_lazy as _

from aftersales import timers
from aftersales.compiled import CompiledRead
from aftersales.models import Customer, Deadline, Membership, Merchant, Order, OrderLine, User
from tickets.models import (
    ACTIVE_STATUSES,
    Attachment,
    Macro,
    Message,
    SlaPolicy,
    SupportSettings,
    Tag,
    Team,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketLink,
)
from tickets.queue_filters import extra_condition
from tickets.selectors.routing import LINK_SIDES_IN, LINK_SIDES_OUT
from tickets.selectors.rows import instances, prefetched, rows_array

# The queue order: most urgent first, then the oldest. It matches the partial index
# ``ticket_queue_active`` so that a page of the queue is an index range scan.
QUEUE_ORDERING = ("-priority", "created_at", "id")
RECENT_ORDERING = ("-created_at", "-id")


def tickets_of(merchant: Merchant) -> QuerySet[Ticket]:
    return Ticket.objects.filter(merchant=merchant)


def tickets_visible_to(membership: Membership) -> QuerySet[Ticket]:
    """What a staff member may see: technicians their assigned repairs, warehouse the returns."""
    return _tickets_visible(merchant_id=membership.merchant_id, role=membership.role, user_id=membership.user_id)


def _tickets_visible(*, merchant_id: int, role: str, user_id: int) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(merchant_id=merchant_id)
    if role == Membership.Role.TECHNICIAN:
        return tickets.filter(kind=TicketKind.REPAIR, assignee_id=user_id)
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
    extra: tuple[tuple[str, str], ...] = ()  # filters workflow apps register (tickets.queue_filters)


def ticket_queue(*, membership: Membership, filters: TicketFilters) -> QuerySet[Ticket]:
    tickets = tickets_visible_to(membership).select_related("customer", "assignee", "order")
    return tickets.filter(queue_condition(membership=membership, filters=filters)).order_by(*QUEUE_ORDERING)


def queue_condition(*, membership: Membership, filters: TicketFilters) -> Q:
    """The queue's filters as one condition on the tickets the member sees (``tickets_visible_to``):
    the queue's page and the counts of saved views read the same."""
    condition = Q()
    if filters.status == "all":
        pass
    elif filters.status:
        condition &= Q(status=filters.status)
    else:
        condition &= Q(status__in=ACTIVE_STATUSES)
    if filters.kind:
        condition &= Q(kind=filters.kind)
    if filters.priority:
        condition &= Q(priority=filters.priority)
    if filters.assignee == "me":
        condition &= Q(assignee_id=membership.user_id)
    elif filters.assignee == "none":
        condition &= Q(assignee__isnull=True)
    elif filters.assignee.isdigit():
        condition &= Q(assignee_id=int(filters.assignee))
    q = filters.q.strip()
    if q:
        condition &= _search(membership.merchant, q)
    if filters.extra:
        condition &= extra_condition(filters.extra)
    return condition


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
        .select_related("customer", "assignee", "team", "order", "order__store", "store", "sla_policy")
        .prefetch_related("tags", "order_lines")
        .filter(number=number.upper())
        .first()
    )


def ticket_page_of(*, membership: Membership, number: str) -> Ticket | None:
    """The ticket of the staff ticket page, in one query with what its boxes list beside it (read
    back by ``ticket_page_lists``): its tags and the merchant's first tag names, the merchant's
    staff, teams and active macros and support settings, and, as far as the member may see them,
    the customer's other cases, the ticket's links and its possible duplicates.

    The statement is built and compiled once per process and role (``CompiledRead``): building
    and compiling it cost ~18 ms of CPU a request, running it ~0.5 ms."""
    return _TICKET_PAGE.first(
        # One statement per role: a role's filters (``_tickets_visible``) are part of its SQL.
        shape=membership.role,
        merchant_id=membership.merchant_id,
        user_id=membership.user_id,
        number=number.upper(),
    )


def _ticket_page_query(*, shape: str, merchant_id: int, user_id: int, number: str) -> QuerySet[Ticket]:
    visible = _tickets_visible(merchant_id=merchant_id, role=shape, user_id=user_id)
    settings = SupportSettings.objects.filter(merchant_id=OuterRef("merchant_id")).order_by("id")
    first_tags = Tag.objects.filter(merchant_id=OuterRef("merchant_id")).order_by("name").values("pk")
    tags = (
        Tag.objects.filter(merchant_id=OuterRef("merchant_id"))
        .annotate(
            on_ticket=Exists(
                Ticket.tags.through.objects.filter(ticket_id=OuterRef(OuterRef("pk")), tag_id=OuterRef("pk"))
            )
        )
        .filter(Q(pk__in=first_tags[:KNOWN_TAGS_SHOWN]) | Q(on_ticket=True))
        .order_by("name")
    )
    staff = Membership.objects.filter(merchant_id=OuterRef("merchant_id"), is_active=True, user__is_active=True)
    duplicate_days = Coalesce(
        Subquery(settings.values("duplicate_window_days")[:1]), Value(SupportSettings.DEFAULT_DUPLICATE_WINDOW_DAYS)
    )
    duplicates = (
        visible.annotate(order_key=Coalesce("order_id", Value(0)))
        .filter(
            customer_id=OuterRef("customer_id"),
            kind=OuterRef("kind"),
            status__in=ACTIVE_STATUSES,
            order_key=Coalesce(OuterRef("order_id"), Value(0)),
            created_at__gte=ExpressionWrapper(
                OuterRef("created_at")
                - ExpressionWrapper(Value(timedelta(days=1)) * duplicate_days, output_field=models.DurationField()),
                output_field=models.DateTimeField(),
            ),
        )
        .exclude(pk=OuterRef("pk"))
        .order_by("-created_at", "-id")[:DUPLICATES_SHOWN]
    )
    links = TicketLink.objects.filter(
        Q(source_id=OuterRef("pk"), target_id__in=visible.values("pk"))
        | Q(target_id=OuterRef("pk"), source_id__in=visible.values("pk"))
    ).order_by("created_at", "id")
    return (
        visible.select_related("customer", "assignee", "team", "order", "order__store", "store", "sla_policy")
        .annotate(
            support_duplicate_window_days=Subquery(settings.values("duplicate_window_days")[:1]),
            support_pending_close_days=Subquery(settings.values("pending_close_days")[:1]),
            page_tags=ArraySubquery(tags.values(row=JSONObject(id="pk", name="name", on_ticket="on_ticket"))),
            page_staff=ArraySubquery(
                staff.order_by("user__first_name", "user__username").values(
                    row=JSONObject(
                        id="user_id",
                        username="user__username",
                        first_name="user__first_name",
                        last_name="user__last_name",
                    )
                )
            ),
            page_teams=rows_array(
                Team.objects.filter(merchant_id=OuterRef("merchant_id")).order_by("name"), fields=_TEAM_COLUMNS
            ),
            page_macros=rows_array(
                Macro.objects.filter(merchant_id=OuterRef("merchant_id"), is_active=True).order_by("name", "id"),
                fields=_MACRO_COLUMNS,
            ),
            page_other_tickets=rows_array(
                visible.filter(customer_id=OuterRef("customer_id"))
                .exclude(pk=OuterRef("pk"))
                .order_by(*RECENT_ORDERING)[:OTHER_TICKETS_SHOWN],
                fields=_TICKET_COLUMNS,
            ),
            page_duplicates=rows_array(duplicates, fields=_TICKET_COLUMNS),
            page_links=rows_array(links, fields=_LINK_COLUMNS, related=_LINK_ENDS),
        )
        .filter(number=number)
        .order_by("pk")[:1]
    )


_TICKET_PAGE = CompiledRead(
    _ticket_page_query, params={"merchant_id": int, "user_id": int, "number": str}, prepared=True
)


DUPLICATES_SHOWN = 5
OTHER_TICKETS_SHOWN = 10
# The columns the page shows of the rows beside the ticket (the rest are deferred).
_TICKET_COLUMNS = (
    "id",
    "merchant_id",
    "number",
    "kind",
    "status",
    "subject",
    "system_subject",
    "customer_id",
    "order_id",
    "created_at",
)
_LINK_COLUMNS = ("id", "merchant_id", "source_id", "target_id", "kind", "created_at")
_LINK_ENDS = {"source": (Ticket, _TICKET_COLUMNS), "target": (Ticket, _TICKET_COLUMNS)}
_TEAM_COLUMNS = ("id", "merchant_id", "name")
_MACRO_COLUMNS = ("id", "merchant_id", "name", "owner_id", "is_active")


@dataclass(frozen=True)
class TicketPageLists:
    """What ``ticket_page_of`` read beside the ticket, as the ORM would have read it."""

    tags: list[Tag]
    known_tag_names: list[str]  # the merchant's first tags by name, offered while typing
    staff_choices: list[tuple[int, str]]  # (user id, name) of the merchant's active staff
    teams: list[Team]
    macros: list[Macro]
    other_tickets: list[Ticket]
    duplicates: list[Ticket]  # only for a ticket still open
    links: list[tuple[str, TicketLink, Ticket]]  # as ``ticket_links`` gives them
    support_settings: SupportSettings


def ticket_page_lists(ticket: Ticket) -> TicketPageLists:
    page: Any = ticket  # the columns ``ticket_page_of`` annotated
    tags = [Tag(pk=row["id"], merchant_id=ticket.merchant_id, name=row["name"]) for row in page.page_tags]
    on_ticket = {row["id"] for row in page.page_tags if row["on_ticket"]}
    staff = [
        User(pk=row["id"], username=row["username"], first_name=row["first_name"], last_name=row["last_name"])
        for row in page.page_staff
    ]
    links = []
    for link in instances(TicketLink, page.page_links, fields=_LINK_COLUMNS, related=_LINK_ENDS):
        if link.source_id == ticket.pk:
            links.append((LINK_SIDES_OUT[link.kind], link, link.target))
        else:
            links.append((LINK_SIDES_IN[link.kind], link, link.source))
    if page.support_duplicate_window_days is None:  # the defaults, unsaved: the merchant saved none
        support_settings = SupportSettings(merchant_id=ticket.merchant_id)
    else:
        support_settings = SupportSettings(
            merchant_id=ticket.merchant_id,
            duplicate_window_days=page.support_duplicate_window_days,
            pending_close_days=page.support_pending_close_days,
        )
    return TicketPageLists(
        tags=[tag for tag in tags if tag.pk in on_ticket],
        known_tag_names=[tag.name for tag in tags[:KNOWN_TAGS_SHOWN]],
        staff_choices=[(user.pk, str(user)) for user in staff],
        teams=instances(Team, page.page_teams, fields=_TEAM_COLUMNS),
        macros=instances(Macro, page.page_macros, fields=_MACRO_COLUMNS),
        other_tickets=instances(Ticket, page.page_other_tickets, fields=_TICKET_COLUMNS),
        duplicates=instances(Ticket, page.page_duplicates, fields=_TICKET_COLUMNS) if ticket.is_active else [],
        links=links,
        support_settings=support_settings,
    )


KNOWN_TAGS_SHOWN = 200


def ticket_page_order_lines(*, ticket: Ticket) -> tuple[list[OrderLine], set[int]]:
    """The lines of the ticket's order, and the ids of those the ticket names, in one query."""
    if ticket.order_id is None:
        return [], set()
    lines = _TICKET_PAGE_ORDER_LINES.rows(
        shape=None, merchant_id=ticket.merchant_id, order_id=ticket.order_id, ticket_id=ticket.pk
    )
    annotated: list[Any] = lines  # with the query's ``in_ticket``
    return lines, {line.pk for line in annotated if line.in_ticket}


def _ticket_page_order_lines_query(
    *, shape: None, merchant_id: int, order_id: int, ticket_id: int
) -> QuerySet[OrderLine]:
    in_ticket = Exists(Ticket.order_lines.through.objects.filter(ticket_id=ticket_id, orderline_id=OuterRef("pk")))
    return (
        OrderLine.objects.filter(merchant_id=merchant_id, order_id=order_id)
        .select_related("product")
        .annotate(in_ticket=in_ticket)
        .order_by("pk")
    )


_TICKET_PAGE_ORDER_LINES = CompiledRead(
    _ticket_page_order_lines_query, params={"merchant_id": int, "order_id": int, "ticket_id": int}, prepared=True
)


# What the customer never sees: internal notes and staff's summaries of phone calls.
STAFF_ONLY_MESSAGE_KINDS = (Message.Kind.NOTE, Message.Kind.PHONE)


def ticket_timeline(*, ticket: Ticket, public_only: bool) -> QuerySet[TicketEvent]:
    events = (
        TicketEvent.objects.filter(merchant_id=ticket.merchant_id, ticket=ticket)
        .select_related("actor_user", "actor_customer", "message")
        .prefetch_related("message__attachments")
        .order_by("created_at", "id")
    )
    return events.filter(is_public=True) if public_only else events


def ticket_page_timeline(*, ticket: Ticket) -> list[TicketEvent]:
    """The whole timeline of the staff ticket page, as ``ticket_timeline`` reads it, in one query
    compiled once per process: each message's attachments come in the events' query (a short
    list per message, ``rows_array``) instead of a second round trip built and compiled per
    request by ``prefetch_related``."""
    events = _TICKET_PAGE_TIMELINE.rows(shape=None, merchant_id=ticket.merchant_id, ticket_id=ticket.pk)
    for event in events:
        if event.message is not None:
            annotated: Any = event  # the query's annotation
            prefetched(
                event.message,
                "attachments",
                instances(Attachment, annotated.page_attachments, fields=_TIMELINE_ATTACHMENT_COLUMNS),
            )
    return events


# What the timeline shows of an attachment (its link, name, kind and size) and what ties it to its case.
_TIMELINE_ATTACHMENT_COLUMNS = (
    "id",
    "created_at",
    "merchant_id",
    "ticket_id",
    "message_id",
    "original_name",
    "content_type",
    "size",
)


def _ticket_page_timeline_query(*, shape: None, merchant_id: int, ticket_id: int) -> QuerySet[TicketEvent]:
    attachments = Attachment.objects.filter(merchant_id=merchant_id, message_id=OuterRef("message_id")).order_by(
        "created_at", "id"
    )
    return (
        TicketEvent.objects.filter(merchant_id=merchant_id, ticket_id=ticket_id)
        .select_related("actor_user", "actor_customer", "message")
        # The actors' names only (``TicketEvent.actor_display``): a user's or a customer's every
        # column, 40 times a page, was a third of the timeline's read.
        .only(
            *(field.name for field in TicketEvent._meta.concrete_fields),
            *(f"actor_user__{name}" for name in ("id", "username", "first_name", "last_name")),
            *(f"actor_customer__{name}" for name in ("id", "merchant", "name", "email", "phone")),
            *(f"message__{field.name}" for field in Message._meta.concrete_fields),
        )
        .annotate(page_attachments=rows_array(attachments, fields=_TIMELINE_ATTACHMENT_COLUMNS))
        .order_by("created_at", "id")
    )


_TICKET_PAGE_TIMELINE = CompiledRead(
    _ticket_page_timeline_query, params={"merchant_id": int, "ticket_id": int}, prepared=True
)


def ticket_messages(*, ticket: Ticket, public_only: bool) -> QuerySet[Message]:
    messages = (
        Message.objects.filter(merchant_id=ticket.merchant_id, ticket=ticket)
        .select_related("author_user", "author_customer")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )
    return messages.exclude(kind__in=STAFF_ONLY_MESSAGE_KINDS) if public_only else messages


def tickets_of_order(*, order: Order) -> QuerySet[Ticket]:
    return Ticket.objects.filter(merchant_id=order.merchant_id, order=order).order_by("-created_at", "-id")


def customer_ticket_history(*, customer: Customer, limit: int = 10) -> list[Ticket]:
    return list(
        Ticket.objects.filter(merchant_id=customer.merchant_id, customer=customer).order_by(*RECENT_ORDERING)[:limit]
    )


def attachment_for_staff(*, membership: Membership, attachment_id: int) -> Attachment | None:
    visible = tickets_visible_to(membership).values("pk")
    return (
        Attachment.objects.filter(merchant=membership.merchant, pk=attachment_id, ticket_id__in=visible)
        .select_related("message")
        .first()
    )


def attachment_for_customer(*, merchant: Merchant, order_ids: list[int], attachment_id: int) -> Attachment | None:
    """A customer sees attachments of their verified orders' tickets, never of internal notes."""
    return (
        Attachment.objects.filter(merchant=merchant, pk=attachment_id, ticket__order_id__in=order_ids)
        .exclude(message__kind__in=STAFF_ONLY_MESSAGE_KINDS)
        .first()
    )


# --- the staff dashboard's queue, one keyset page at a time ---------------------------------------

QUEUE_PAGE_SIZE = 50


class QueueSort(models.TextChoices):
    ATTENTION = "attention", _("Needs attention")
    DEADLINE = "deadline", _("Next deadline")


# Soonest deadline first, tickets without one last. It matches the partial index
# ``ticket_queue_deadline`` (a B-tree is ascending with nulls last unless told otherwise).
DEADLINE_ORDERING = (F("next_deadline_at").asc(nulls_last=True), "id")


@dataclass(frozen=True)
class QueueKey:
    """Where a row stands in its sort order: a page starts strictly after or before one.

    The key names its sort, so a cursor taken in one order is never read as a place in the other.
    """

    id: int
    sort: str = QueueSort.ATTENTION
    priority: int | None = None
    created_at: datetime | None = None
    next_deadline_at: datetime | None = None

    @classmethod
    def of(cls, ticket: Ticket, sort: str = QueueSort.ATTENTION) -> "QueueKey":
        if sort == QueueSort.DEADLINE:
            return cls(sort=sort, next_deadline_at=ticket.next_deadline_at, id=ticket.pk)
        return cls(sort=QueueSort.ATTENTION, priority=ticket.priority, created_at=ticket.created_at, id=ticket.pk)


@dataclass(frozen=True)
class QueuePage:
    tickets: Sequence[Ticket]
    next_key: QueueKey | None  # set when a later page exists
    previous_key: QueueKey | None  # set when an earlier page exists


def ticket_queue_page(
    *,
    membership: Membership,
    filters: TicketFilters,
    sort: str = QueueSort.ATTENTION,
    after: QueueKey | None = None,
    before: QueueKey | None = None,
    size: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """A page of the queue by keyset, never OFFSET: page 200 costs what page 1 costs, and a ticket
    that is answered while someone pages on does not shift every later row by one.

    One row more than the page is read to learn whether another page follows. Each row carries
    ``next_warn_at``, the warning time of the deadline behind ``next_deadline_at``, read in the
    same query so the countdown can show "due soon" without a query per row. A cursor taken in
    another sort order is ignored: the first page is shown.
    """
    order = _QUEUE_ORDERS.get(sort) or _QUEUE_ORDERS[QueueSort.ATTENTION]
    sort = order.sort
    after = after if after is not None and after.sort == sort else None
    before = before if before is not None and before.sort == sort else None
    if after is None and before is None and size == QUEUE_PAGE_SIZE and filters == TicketFilters():
        # The queue as it opens: the same statement at every load but for the member, compiled
        # once (building and compiling it was ~2 ms of the page's CPU, running it ~0.4 ms).
        rows = _QUEUE_FIRST_PAGE.rows(
            shape=(membership.role, sort), merchant_id=membership.merchant_id, user_id=membership.user_id
        )
        return QueuePage(
            tickets=rows[:size],
            next_key=QueueKey.of(rows[size - 1], sort) if len(rows) > size else None,
            previous_key=None,
        )
    tickets = _queue_read(membership=membership, filters=filters)
    if before is not None:
        # Walk backwards in the reversed order, then turn the rows round again.
        rows = list(tickets.filter(order.before(before)).order_by(*order.backward)[: size + 1])
        has_earlier = len(rows) > size
        rows = rows[:size][::-1]
        return QueuePage(
            tickets=rows,
            next_key=QueueKey.of(rows[-1], sort) if rows else None,
            previous_key=QueueKey.of(rows[0], sort) if rows and has_earlier else None,
        )
    tickets = tickets.order_by(*order.forward)
    if after is not None:
        tickets = tickets.filter(order.after(after))
    rows = list(tickets[: size + 1])
    has_later = len(rows) > size
    rows = rows[:size]
    return QueuePage(
        tickets=rows,
        next_key=QueueKey.of(rows[-1], sort) if has_later else None,
        previous_key=QueueKey.of(rows[0], sort) if rows and after is not None else None,
    )


# The columns a row of the queue shows (``queue_rows``) and its cursor orders by: a page reads and
# builds nothing else (the user's password, the order's amounts and addresses, the customer's
# notes), ~2,900 bytes a row before, ~400 after.
_QUEUE_COLUMNS = (
    "id",
    "merchant_id",
    "number",
    "kind",
    "status",
    "priority",
    "subject",
    "system_subject",
    "escalation_level",
    "created_at",
    "next_deadline_at",
    "customer__id",
    "customer__name",
    "customer__email",
    "customer__phone",
    "order__id",
    "order__external_number",
    "assignee__id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)


def _queue_read(*, membership: Membership, filters: TicketFilters) -> QuerySet[Ticket]:
    return (
        ticket_queue(membership=membership, filters=filters)
        .only(*_QUEUE_COLUMNS)
        .annotate(next_warn_at=_next_warn_at())
    )


def _queue_first_page_query(*, shape: tuple[str, str], merchant_id: int, user_id: int) -> QuerySet[Ticket]:
    role, sort = shape
    # An unsaved membership carries the values the queue's read takes from one: the same
    # queryset as the page's, so the compiled statement cannot drift from it.
    member = Membership(merchant_id=merchant_id, user_id=user_id, role=role)
    return _queue_read(membership=member, filters=TicketFilters()).order_by(*_QUEUE_ORDERS[sort].forward)[
        : QUEUE_PAGE_SIZE + 1
    ]


# Prepared in each database session: planning it took longer than running it (~0.6 ms, ~0.25 ms).
_QUEUE_FIRST_PAGE = CompiledRead(_queue_first_page_query, params={"merchant_id": int, "user_id": int}, prepared=True)


def _next_warn_at() -> Subquery:
    # The same deadline ``ticket_refresh_next_deadline`` takes its due time from.
    return Subquery(
        Deadline.objects.filter(
            ticket_id=OuterRef("pk"), state=Deadline.State.PENDING, kind__in=timers.staff_facing_kinds()
        )
        .order_by("due_at", "id")
        .values("warn_at")[:1]
    )


def _queue_after(key: QueueKey) -> Q:
    # QUEUE_ORDERING is (-priority, created_at, id): "after" is lower priority, or the same
    # priority and younger, or the same instant and a higher id.
    return (
        Q(priority__lt=key.priority)
        | Q(priority=key.priority, created_at__gt=key.created_at)
        | Q(priority=key.priority, created_at=key.created_at, id__gt=key.id)
    )


def _queue_before(key: QueueKey) -> Q:
    return (
        Q(priority__gt=key.priority)
        | Q(priority=key.priority, created_at__lt=key.created_at)
        | Q(priority=key.priority, created_at=key.created_at, id__lt=key.id)
    )


def _deadline_after(key: QueueKey) -> Q:
    # DEADLINE_ORDERING is (next_deadline_at nulls last, id): after a dated row come the later
    # dates, the same date with a higher id, and every undated row; after an undated row, only
    # undated rows with a higher id.
    if key.next_deadline_at is None:
        return Q(next_deadline_at__isnull=True, id__gt=key.id)
    return (
        Q(next_deadline_at__gt=key.next_deadline_at)
        | Q(next_deadline_at=key.next_deadline_at, id__gt=key.id)
        | Q(next_deadline_at__isnull=True)
    )


def _deadline_before(key: QueueKey) -> Q:
    if key.next_deadline_at is None:
        return Q(next_deadline_at__isnull=False) | Q(next_deadline_at__isnull=True, id__lt=key.id)
    return Q(next_deadline_at__lt=key.next_deadline_at) | Q(next_deadline_at=key.next_deadline_at, id__lt=key.id)


@dataclass(frozen=True)
class _QueueOrder:
    sort: str
    forward: tuple[Any, ...]
    backward: tuple[Any, ...]
    after: Callable[[QueueKey], Q]
    before: Callable[[QueueKey], Q]


_QUEUE_ORDERS: dict[str, _QueueOrder] = {
    QueueSort.ATTENTION: _QueueOrder(
        sort=QueueSort.ATTENTION,
        forward=QUEUE_ORDERING,
        backward=("priority", "-created_at", "-id"),
        after=_queue_after,
        before=_queue_before,
    ),
    QueueSort.DEADLINE: _QueueOrder(
        sort=QueueSort.DEADLINE,
        forward=DEADLINE_ORDERING,
        backward=(F("next_deadline_at").desc(nulls_first=True), "-id"),
        after=_deadline_after,
        before=_deadline_before,
    ),
}


def teams_of(merchant: Merchant) -> QuerySet[Team]:
    return Team.objects.filter(merchant=merchant).order_by("name")


def teams_of_member(membership: Membership) -> QuerySet[Team]:
    """The teams of the merchant the member is on (a saved view may be shared with one of them)."""
    return _teams_of_member_query(shape=None, merchant_id=membership.merchant_id, user_id=membership.user_id)


def _teams_of_member_query(*, shape: None, merchant_id: int, user_id: int) -> QuerySet[Team]:
    return Team.objects.filter(merchant_id=merchant_id, members=user_id).order_by("name")


# Read on every load of the queue (the menu of teams to share a view with): compiled once.
_TEAMS_OF_MEMBER = CompiledRead(_teams_of_member_query, params={"merchant_id": int, "user_id": int}, prepared=True)


def teams_of_member_listed(membership: Membership) -> list[Team]:
    """``teams_of_member``, read by its compiled statement."""
    return _TEAMS_OF_MEMBER.rows(shape=None, merchant_id=membership.merchant_id, user_id=membership.user_id)


def tags_of(merchant: Merchant) -> QuerySet[Tag]:
    return Tag.objects.filter(merchant=merchant).order_by("name")


# --- the customer portal: what a session that proved some orders may read ------------------------


def tickets_of_orders(*, merchant: Merchant, order_ids: list[int]) -> QuerySet[Ticket]:
    """The requests on a portal session's verified orders, the most recently changed first."""
    return tickets_of(merchant).filter(order_id__in=order_ids).order_by("-updated_at", "-id")


def ticket_for_customer(*, merchant: Merchant, order_ids: list[int], number: str) -> Ticket | None:
    """A request the portal may show: only one on an order the session verified."""
    return (
        tickets_of(merchant)
        .filter(order_id__in=order_ids, number=number.upper())
        .select_related("customer", "order")
        .first()
    )


def customer_other_tickets(*, membership: Membership, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    """The customer's other cases, newest first, as far as this staff member may open them
    (a technician is not shown the subjects of cases that are not theirs)."""
    return list(
        tickets_visible_to(membership)
        .filter(customer_id=ticket.customer_id)
        .exclude(pk=ticket.pk)
        .order_by(*RECENT_ORDERING)[:limit]
    )


def tickets_for_api(*, merchant: Merchant | None, membership: Membership | None = None) -> QuerySet[Ticket]:
    """What an API request may read: every ticket of an API key's merchant, or, for a staff
    session, what that staff member may see. Brings the rows a ticket's summary shows."""
    if merchant is None:
        return Ticket.objects.none()
    if membership is None:
        tickets = tickets_of(merchant)
    elif membership.merchant_id == merchant.pk:
        tickets = tickets_visible_to(membership)
    else:
        return Ticket.objects.none()
    return tickets.select_related("customer", "assignee", "team", "order", "store").prefetch_related("tags")


# The columns a ticket's summary (tickets.api.serializers.ticket_summary) shows, and those its
# list's cursor orders by: a page of 50 reads and builds nothing else (the user's password, the
# customer's addresses, the order's amounts).
_LISTED_COLUMNS = (
    "id",
    "merchant_id",
    "number",
    "kind",
    "status",
    "priority",
    "channel",
    "subject",
    "store_id",
    "escalation_level",
    "created_at",
    "updated_at",
    "status_changed_at",
    "first_responded_at",
    "last_customer_message_at",
    "resolved_at",
    "closed_at",
    "sla_policy_id",
    "next_deadline_at",
    "customer__id",
    "customer__name",
    "customer__email",
    "customer__phone",
    "customer__tier",
    "order__id",
    "order__external_number",
    "order__store_id",
    "assignee__id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "team__id",
    "team__name",
)


def tickets_listed_for_api(*, merchant: Merchant | None, membership: Membership | None = None) -> QuerySet[Ticket]:
    """``tickets_for_api`` with only the columns a list's summaries show."""
    tickets = tickets_for_api(merchant=merchant, membership=membership)
    return tickets.select_related(None).select_related("customer", "assignee", "team", "order").only(*_LISTED_COLUMNS)


def ticket_rows_listed(tickets: QuerySet[Ticket]) -> "QuerySet[Ticket, dict[str, Any]]":
    """A list's tickets (``tickets_listed_for_api``, filtered) as plain rows of the columns its
    summaries show, keyed as ``values()`` keys them (``customer__name``): a page of 50 builds no
    model instance (five a row with the related rows, ~1.5 ms of a page's CPU). The tags come
    from ``ticket_tag_names``."""
    rows: QuerySet[Ticket, dict[str, Any]] = tickets.prefetch_related(None).values(*_LISTED_COLUMNS)
    return rows


def ticket_tag_names(ticket_ids: Sequence[int]) -> dict[int, list[str]]:
    """The names of each ticket's tags, by name (as ``Tag`` orders them), in one query. The ids
    come from a read that started from the request's merchant; a tag is its ticket's merchant's."""
    names: dict[int, list[str]] = {}
    if not ticket_ids:
        return names
    through = Ticket.tags.through.objects.filter(ticket_id__in=ticket_ids).order_by("tag__name", "tag_id")
    for ticket_id, name in through.values_list("ticket_id", "tag__name"):
        names.setdefault(ticket_id, []).append(name)
    return names


def ticket_for_api(*, merchant: Merchant | None, membership: Membership | None, number: str) -> Ticket | None:
    return (
        tickets_for_api(merchant=merchant, membership=membership)
        .select_related("order__store")
        .prefetch_related("order_lines")
        .filter(number=number.strip().upper())
        .first()
    )


def tickets_matching(tickets: QuerySet[Ticket], *, merchant: Merchant, q: str) -> QuerySet[Ticket]:
    """Narrow ``tickets`` to a ticket number, an order number, or a customer's e-mail, phone or name."""
    q = q.strip()
    return tickets.filter(_search(merchant, q)) if q else tickets


# --- SLA state for the API ------------------------------------------------------------------------


def ticket_deadlines(*, ticket: Ticket) -> QuerySet[Deadline]:
    """Every timer of the ticket with its pauses, newest first: the record of its clocks."""
    return (
        Deadline.objects.filter(merchant_id=ticket.merchant_id, ticket=ticket)
        .prefetch_related("pauses")
        .order_by("-started_at", "-id")
    )


def sla_policies_of(merchant: Merchant) -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.filter(merchant=merchant).select_related("calendar").prefetch_related("match_stores")
