"""Benchmark data, written with set-based SQL into the real tables and found again on the next run.

The data set is a number of merchants whose slug starts with ``bench-``, one agent each, a block of
customers each, and tickets numbered ``BN-0000001`` upwards per merchant (one ticket in ten is in
an active status). Growing or shrinking it to a size touches only the difference, so a second run
reuses what the first one wrote.

Columns are filled from the model: the ones this module knows get a generated value, a nullable
column stays NULL and a column with a default gets it, so a field added to the models later does
not break the benchmark (a required field with no default does, with its name in the message).
"""

import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from aftersales.models import Customer, Membership, Merchant, User
from tickets.models import ACTIVE_STATUSES, Ticket, TicketChannel, TicketKind, TicketPriority, TicketStatus

SLUG_PREFIX = "bench-"
NUMBER_PREFIX = "BN-"
NUMBER_DIGITS = 7
CUSTOMER_EMAIL_PREFIX = "bench-"
CUSTOMER_EMAIL_DOMAIN = "@customers.example"
# One ticket in ten is active (in the queue); ticket 1 of each merchant is one of them.
ACTIVE_EVERY = 10
FINAL_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED)
# Weighted like a real desk: mostly normal, some high, few urgent or low.
PRIORITY_MIX = (
    TicketPriority.LOW,
    TicketPriority.NORMAL,
    TicketPriority.NORMAL,
    TicketPriority.NORMAL,
    TicketPriority.HIGH,
    TicketPriority.HIGH,
    TicketPriority.URGENT,
)
# Merchants per INSERT statement: progress is reported after each.
MERCHANTS_PER_STATEMENT = 10


class BenchDataError(Exception):
    pass


@dataclass(frozen=True)
class BenchMerchant:
    position: int  # 1-based, the number in the slug
    merchant_id: int
    agent_id: int


@dataclass(frozen=True)
class DataSize:
    tickets: int
    active_tickets: int


def bench_number(seq: int) -> str:
    return f"{NUMBER_PREFIX}{seq:0{NUMBER_DIGITS}d}"


def _insert_columns(
    model: type[models.Model], known: dict[str, tuple[str, list[Any]]]
) -> tuple[list[str], list[str], list[Any]]:
    """The columns to insert into, their SQL expressions, and the expressions' parameters."""
    columns, expressions, params = [], [], []
    for field in model._meta.local_concrete_fields:
        if field.primary_key or field.column is None:  # concrete fields all have their column
            continue
        if field.name in known:
            expression, expression_params = known[field.name]
        elif field.null or getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            continue
        elif field.has_default():
            expression, expression_params = "%s", [field.get_db_prep_save(field.get_default(), connection)]
        else:
            raise BenchDataError(
                f"The benchmark does not know how to fill {model.__name__}.{field.name}: "
                "give it a default, or teach aftersales/bench/seed.py its value."
            )
        columns.append(connection.ops.quote_name(field.column))
        expressions.append(expression)
        params.extend(expression_params)
    return columns, expressions, params


def ensure_merchants(count: int) -> list[BenchMerchant]:
    """Merchants ``bench-01`` … with one agent each, created on the first run and reused after."""
    merchants = []
    with transaction.atomic():
        for position in range(1, count + 1):
            merchant, _created = Merchant.objects.get_or_create(
                slug=f"{SLUG_PREFIX}{position:02d}",
                defaults={"name": f"Bench merchant {position:02d}", "default_language": "en"},
            )
            agent, created = User.objects.get_or_create(
                username=f"bench-agent-{position:02d}",
                defaults={"first_name": "Bench", "last_name": f"Agent {position:02d}", "language": "en"},
            )
            if created:
                agent.set_unusable_password()
                agent.save(update_fields=["password"])
            Membership.objects.get_or_create(
                merchant=merchant, user=agent, defaults={"role": Membership.Role.AGENT, "is_active": True}
            )
            merchants.append(BenchMerchant(position=position, merchant_id=merchant.pk, agent_id=agent.pk))
    return merchants


# ``bench-01``, ``bench-02`` …; other benchmarks keep their own ``bench-<name>`` merchants.
SLUG_PATTERN = rf"^{SLUG_PREFIX}[0-9]+$"


def all_bench_merchant_ids() -> list[int]:
    return list(Merchant.objects.filter(slug__regex=SLUG_PATTERN).values_list("pk", flat=True))


def ensure_customers(merchants: list[BenchMerchant], per_merchant: int) -> int:
    """At least ``per_merchant`` bench customers for each merchant; returns how many were added."""
    ids = [m.merchant_id for m in merchants]
    existing = dict(
        Customer.objects.filter(merchant_id__in=ids, email__startswith=CUSTOMER_EMAIL_PREFIX)
        .values("merchant_id")
        .annotate(n=models.Count("pk"))
        .values_list("merchant_id", "n")
    )
    first = [existing.get(merchant_id, 0) + 1 for merchant_id in ids]
    known: dict[str, tuple[str, list[Any]]] = {
        "created_at": ("now()", []),
        "updated_at": ("now()", []),
        "merchant": ("b.merchant_id", []),
        "name": ("'Bench customer ' || s", []),
        "email": ("%s || s || %s", [CUSTOMER_EMAIL_PREFIX, CUSTOMER_EMAIL_DOMAIN]),
        "phone": ("''", []),
        "wechat_openid": ("''", []),
        "tier": ("CASE WHEN s %% 20 = 0 THEN %s ELSE %s END", [Customer.Tier.VIP, Customer.Tier.REGULAR]),
        "language": ("''", []),
    }
    columns, expressions, params = _insert_columns(Customer, known)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Customer._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} "
        "FROM unnest(%s::bigint[], %s::int[]) AS b(merchant_id, first_seq) "
        "CROSS JOIN LATERAL generate_series(b.first_seq, %s) AS s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [*params, ids, first, per_merchant])
        return max(cursor.rowcount, 0)


def _ticket_insert_sql(customers_per_merchant: int) -> tuple[str, list]:
    active_case = "g.active"
    known: dict[str, tuple[str, list[Any]]] = {
        "created_at": ("g.created", []),
        "updated_at": ("g.created", []),
        "merchant": ("g.merchant_id", []),
        "number": ("%s || lpad(g.seq::text, %s, '0')", [NUMBER_PREFIX, NUMBER_DIGITS]),
        "kind": ("(%s::text[])[1 + g.seq %% %s]", [list(TicketKind.values), len(TicketKind.values)]),
        "status": (
            f"CASE WHEN {active_case} THEN (%s::text[])[1 + (g.seq / %s) %% %s] ELSE (%s::text[])[1 + g.seq %% %s] END",
            [
                [str(status) for status in ACTIVE_STATUSES],
                ACTIVE_EVERY,
                len(ACTIVE_STATUSES),
                [str(status) for status in FINAL_STATUSES],
                len(FINAL_STATUSES),
            ],
        ),
        "priority": ("(%s::int[])[1 + (g.seq / 7) %% %s]", [[int(p) for p in PRIORITY_MIX], len(PRIORITY_MIX)]),
        "channel": ("(%s::text[])[1 + (g.seq / 3) %% %s]", [list(TicketChannel.values), len(TicketChannel.values)]),
        "subject": ("'Bench case ' || g.seq", []),
        "customer": ("c.id", []),
        "assignee": ("CASE WHEN g.seq %% 3 = 0 THEN g.agent_id END", []),
        "escalation_level": ("0", []),
        "first_responded_at": (f"CASE WHEN {active_case} THEN NULL ELSE g.created + interval '2 hours' END", []),
        "status_changed_at": ("g.created + interval '1 hour'", []),
        "resolved_at": (f"CASE WHEN {active_case} THEN NULL ELSE g.created + interval '1 day' END", []),
        # Active tickets carry a deadline, some already overdue; the queue sorts on it.
        "next_deadline_at": (
            f"CASE WHEN {active_case} THEN now() + ((g.seq %% 97) - 24) * interval '1 hour' END",
            [],
        ),
    }
    columns, expressions, params = _insert_columns(Ticket, known)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Ticket._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM ("
        "  SELECT b.merchant_id, b.agent_id, s AS seq, (s %% %s = 1) AS active,"
        # Thirty minutes apart per merchant, merchants a few seconds apart, from a fixed start so
        # that a ticket keeps its time when the data set grows.
        "         timestamptz '2025-01-01 00:00:00+00' + s * interval '30 minutes'"
        "           + b.position * interval '7 seconds' AS created"
        "  FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::int[], %s::int[])"
        "       AS b(merchant_id, agent_id, position, first_seq, last_seq)"
        "  CROSS JOIN LATERAL generate_series(b.first_seq, b.last_seq) AS s"
        ") g JOIN ("
        "  SELECT id, merchant_id, row_number() OVER (PARTITION BY merchant_id ORDER BY id) AS rn"
        f"  FROM {connection.ops.quote_name(Customer._meta.db_table)}"
        "  WHERE merchant_id = ANY(%s) AND email LIKE %s"
        f") c ON c.merchant_id = g.merchant_id AND c.rn = 1 + g.seq %% {int(customers_per_merchant)}"
    )
    return sql, params


def _current_last_numbers(merchant_ids: list[int]) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT merchant_id, max(number) FROM {connection.ops.quote_name(Ticket._meta.db_table)} "
            "WHERE merchant_id = ANY(%s) AND number LIKE %s GROUP BY merchant_id",
            [merchant_ids, NUMBER_PREFIX + "%"],
        )
        return {merchant_id: int(number[len(NUMBER_PREFIX) :]) for merchant_id, number in cursor.fetchall()}


def resize_tickets(
    merchants: list[BenchMerchant], *, targets: dict[int, int], customers_per_merchant: int, progress=None
) -> tuple[int, int]:
    """Make each merchant hold tickets BN-1 … BN-``targets[merchant_id]``; other bench merchants none.

    Returns (inserted, deleted). Only the difference to what is there is written.
    """
    table = connection.ops.quote_name(Ticket._meta.db_table)
    others = [merchant_id for merchant_id in all_bench_merchant_ids() if merchant_id not in targets]
    ids = [m.merchant_id for m in merchants]
    deleted = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # Bench tickets have no timeline or messages, so nothing refers to them.
        if others:
            cursor.execute(
                f"DELETE FROM {table} WHERE merchant_id = ANY(%s) AND number LIKE %s", [others, NUMBER_PREFIX + "%"]
            )
            deleted += max(cursor.rowcount, 0)
        cursor.execute(
            f"DELETE FROM {table} t USING unnest(%s::bigint[], %s::text[]) AS w(merchant_id, last_number) "
            "WHERE t.merchant_id = w.merchant_id AND t.number LIKE %s AND t.number > w.last_number",
            [ids, [bench_number(targets[merchant_id]) for merchant_id in ids], NUMBER_PREFIX + "%"],
        )
        deleted += max(cursor.rowcount, 0)

    last = _current_last_numbers(ids)
    missing = [m for m in merchants if last.get(m.merchant_id, 0) < targets[m.merchant_id]]
    sql, params = _ticket_insert_sql(customers_per_merchant)
    inserted = 0
    for start in range(0, len(missing), MERCHANTS_PER_STATEMENT):
        chunk = missing[start : start + MERCHANTS_PER_STATEMENT]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    *params,
                    ACTIVE_EVERY,
                    [m.merchant_id for m in chunk],
                    [m.agent_id for m in chunk],
                    [m.position for m in chunk],
                    [last.get(m.merchant_id, 0) + 1 for m in chunk],
                    [targets[m.merchant_id] for m in chunk],
                    [m.merchant_id for m in chunk],
                    CUSTOMER_EMAIL_PREFIX + "%",
                ],
            )
            inserted += max(cursor.rowcount, 0)
        if progress:
            progress(f"  {min(start + len(chunk), len(missing))}/{len(missing)} merchants filled")
    return inserted, deleted


def analyze(*, compact: bool = False) -> None:
    """Fresh planner statistics (and, outside a transaction, a visibility map) after bulk writes.

    ``compact`` rewrites the tables and their indexes: after a shrink, the small stage is then
    measured on a small table, not on the empty pages of the large one.
    """
    tables = [connection.ops.quote_name(model._meta.db_table) for model in (Ticket, Customer)]
    with connection.cursor() as cursor:
        for table in tables:
            if connection.in_atomic_block:
                cursor.execute(f"ANALYZE {table}")
            elif compact:
                cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")
            else:
                cursor.execute(f"VACUUM (ANALYZE) {table}")


def data_size(merchant_ids: list[int]) -> DataSize:
    """The bench's numbered tickets (``BN-…``): the conversation ticket of the ticket page is not
    one of the stage's."""
    counts = Ticket.objects.filter(merchant_id__in=merchant_ids, number__startswith=NUMBER_PREFIX).aggregate(
        tickets=models.Count("pk"),
        active=models.Count("pk", filter=models.Q(status__in=ACTIVE_STATUSES)),
    )
    return DataSize(tickets=counts["tickets"], active_tickets=counts["active"])


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


# --- one ticket with a conversation, for the ticket page ------------------------------------------

CONVERSATION_SUBJECT = "Bench conversation"
CONVERSATION_MESSAGES = 20  # after the opening message: customer replies, staff replies and notes


def ensure_conversation_ticket(bench_merchant: BenchMerchant) -> str:
    """A support ticket of the measured merchant with what a real page shows: a customer, an order
    with two lines, SLA clocks, and a conversation of 20 messages after the opening one (customer
    messages, public replies and internal notes), a third of them with an attachment. Written
    through the services once and found again by its subject; returns its number.

    The attachments are rows only (their files are not on disk): the page shows their names and
    links, it never opens them.
    """
    # Imported here: the queue bench needs none of the hub's services.
    from aftersales.models import Order as OrderModel
    from aftersales.models import OrderLine, Product, Store
    from tickets.models import Attachment, Message, SlaPolicy
    from tickets.services import ticket_create, ticket_customer_message, ticket_note, ticket_reply

    merchant = Merchant.objects.get(pk=bench_merchant.merchant_id)
    found = Ticket.objects.filter(merchant=merchant, subject=CONVERSATION_SUBJECT).values_list("number", flat=True)
    if found:
        return found[0]
    agent = User.objects.get(pk=bench_merchant.agent_id)
    SlaPolicy.objects.get_or_create(
        merchant=merchant,
        name="Bench support",
        defaults={
            "position": 1,
            "first_response_minutes": 60,
            "next_response_minutes": 120,
            "resolution_minutes": 60 * 24 * 3,
        },
    )
    customer = Customer.objects.filter(merchant=merchant).order_by("pk").first() or Customer.objects.create(
        merchant=merchant, name="Bench customer", email="bench-conversation@customers.example"
    )
    store, _created = Store.objects.get_or_create(
        merchant=merchant, external_id="bench-store", defaults={"name": "Bench store", "platform": Store.Platform.TMALL}
    )
    now = timezone.now()
    order = OrderModel.objects.create(
        merchant=merchant,
        store=store,
        customer=customer,
        external_number=f"BENCH-{now:%Y%m%d%H%M%S}",
        currency="CNY",
        placed_at=now - timedelta(days=6),
        shipped_at=now - timedelta(days=5),
        delivered_at=now - timedelta(days=3),
        contact_email=customer.email,
    )
    lines = []
    for number in (1, 2):
        product, _created = Product.objects.get_or_create(
            merchant=merchant,
            sku=f"BENCH-SKU-{number}",
            defaults={"name": f"Bench product {number}", "category": "apparel", "warranty_months": 12},
        )
        lines.append(
            OrderLine.objects.create(
                merchant=merchant,
                order=order,
                line_number=str(number),
                product=product,
                sku=product.sku,
                name=product.name,
                quantity=2,
                unit_price=Decimal("199.00"),
            )
        )
    ticket = ticket_create(
        merchant=merchant,
        kind=TicketKind.SUPPORT,
        subject=CONVERSATION_SUBJECT,
        body="The zip of the jacket broke after two days. What can I do?",
        customer=customer,
        channel=TicketChannel.PORTAL,
        order=order,
        order_lines=lines[:1],
        created_by=None,
        assignee=agent,
    )
    for index in range(CONVERSATION_MESSAGES):
        body = f"Message {index + 1} of the conversation, long enough to wrap once on the page. " * 2
        match index % 4:
            case 0 | 2:
                message = ticket_customer_message(ticket=ticket, customer=customer, body=body)
            case 1:
                message = ticket_reply(ticket=ticket, actor=agent, body=body)
            case _:
                message = ticket_note(ticket=ticket, actor=agent, body=body)
        if index % 3 == 0:
            Attachment.objects.create(
                merchant=merchant,
                ticket=ticket,
                message=message,
                file=f"bench/conversation/photo-{index + 1}.jpg",
                original_name=f"photo-{index + 1}.jpg",
                content_type="image/jpeg",
                size=120_000 + index,
                sha256=f"{index:064d}",
                uploaded_by_customer=customer if message.kind == Message.Kind.CUSTOMER else None,
                uploaded_by_user=None if message.kind == Message.Kind.CUSTOMER else agent,
            )
    return ticket.number
