"""``bench sweep``: the timers sweep on PostgreSQL.

1. Idle: with N pending deadlines of which none are due, how long one sweep takes, and whether its
   claim query reads the partial index ``deadline_pending_due``.
2. Throughput: 10,000 due reminders fired by one process, each writing its ticket event and its
   notification row (broker publishes go to an in-memory transport: the broker is not measured).
3. Lateness: 10,000 deadlines falling due over two sweep intervals, swept every interval; fire time
   minus due time.

The data lives under the merchant ``bench-sweep``; the fired rows of steps 2 and 3 are removed
afterwards, the pending ones are reused by the next run.
"""

import math
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftersales.bench.output import Measurements
from aftersales.celery import app as celery_app
from aftersales.models import Customer, Deadline, Membership, Merchant, Notification, User
from aftersales.services.deadlines import deadlines_sweep
from tickets.deadline_kinds import REMINDER_KIND
from tickets.models import Ticket, TicketEvent

BENCH = "sweep"
SLUG = "bench-sweep"
TICKETS = 1000
IDLE_SWEEPS = 200


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def _fixture() -> tuple[Merchant, User, list[int]]:
    merchant, _ = Merchant.objects.get_or_create(slug=SLUG, defaults={"name": "Bench sweep"})
    user, _ = User.objects.get_or_create(username="bench-sweep-agent", defaults={"email": "agent@bench.example"})
    Membership.objects.get_or_create(merchant=merchant, user=user)
    customer, _ = Customer.objects.get_or_create(merchant=merchant, email="buyer@bench.example")
    existing = Ticket.objects.filter(merchant=merchant).count()
    Ticket.objects.bulk_create(
        Ticket(
            merchant=merchant,
            number=f"BS-{n:06d}",
            kind="support",
            channel="api",
            subject=f"Sweep bench {n}",
            customer=customer,
        )
        for n in range(existing + 1, TICKETS + 1)
    )
    return merchant, user, list(Ticket.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True))


def _insert_deadlines(
    merchant: Merchant, user: User, ticket_ids: list[int], *, count: int, key_prefix: str, due_sql: str, log
) -> None:
    """Set-based insert of ``count`` reminders; ``due_sql`` is an SQL expression of ``n`` (1…count)."""
    table = Deadline._meta.db_table
    step = 100_000
    for start in range(1, count + 1, step):
        stop = min(count, start + step - 1)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} (created_at, updated_at, merchant_id, ticket_id, kind, key, state,
                    started_at, due_at, next_fire_at, attempts, last_error, user_id, payload)
                SELECT now(), now(), %s, (%s::bigint[])[1 + (n %% %s)], %s, %s || n, 'pending',
                    now(), {due_sql}, {due_sql}, 0, '', %s, jsonb_build_object('note', '')
                FROM generate_series(%s, %s) AS n
                """,  # noqa: S608 (table name from the model's _meta; every value is a parameter)
                [merchant.pk, ticket_ids, len(ticket_ids), REMINDER_KIND, key_prefix, user.pk, start, stop],
            )
        log(f"  {stop:,} / {count:,} deadlines written")


def _cleanup_fired(merchant: Merchant) -> None:
    with transaction.atomic():
        Deadline.objects.filter(merchant=merchant).exclude(state=Deadline.State.PENDING).delete()
        TicketEvent.objects.filter(merchant=merchant).delete()
        Notification.objects.filter(merchant=merchant).delete()


def run(*, pending: int, due: int, interval: float, out: Measurements, log: Callable[[str], None]) -> None:
    # Publishes after commit go to memory: the broker is not what is measured.
    celery_app.conf.broker_url = "memory://"  # type: ignore[misc]  # a setting, settable at runtime; the stubs make it read-only
    celery_app.conf.task_always_eager = False
    merchant, user, ticket_ids = _fixture()
    _cleanup_fired(merchant)
    # Anything else of this merchant that is due would skew the counts: push it into the future.
    Deadline.objects.filter(merchant=merchant, state="pending").update(
        due_at=timezone.now() + timedelta(days=365), next_fire_at=timezone.now() + timedelta(days=365)
    )
    have = Deadline.objects.filter(merchant=merchant, state="pending").count()
    if have < pending:
        log(f"Writing {pending - have:,} future deadlines…")
        _insert_deadlines(
            merchant,
            user,
            ticket_ids,
            count=pending - have,
            key_prefix=f"idle-{time.time_ns()}-",
            due_sql="now() + interval '365 days' + n * interval '1 second'",
            log=log,
        )
    elif have > pending:
        extra = (
            Deadline.objects.filter(merchant=merchant, state="pending").order_by("-pk").values("pk")[: have - pending]
        )
        Deadline.objects.filter(pk__in=list(extra.values_list("pk", flat=True))).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Deadline._meta.db_table}")
    total_pending = Deadline.objects.filter(state="pending").count()

    # 1. Idle sweeps.
    for _ in range(10):
        deadlines_sweep()
    samples = []
    for _ in range(IDLE_SWEEPS):
        started_ns = time.perf_counter_ns()
        result = deadlines_sweep()
        samples.append((time.perf_counter_ns() - started_ns) / 1e6)
        if result.handled != 0:
            raise RuntimeError(f"nothing should be due in the idle phase, the sweep handled {result.handled}")
    measured: dict[str, float] = {"pending_deadlines": total_pending, "due": 0, "sweeps": IDLE_SWEEPS}
    out.emit("idle_sweep_p50", round(statistics.median(samples), 3), "ms", **measured)
    out.emit("idle_sweep_p95", round(_percentile(samples, 0.95), 3), "ms", **measured)
    out.emit("idle_sweep_max", round(max(samples), 3), "ms", **measured)
    with CaptureQueriesContext(connection) as captured:
        deadlines_sweep()
    claim = next(q["sql"] for q in captured.captured_queries if "SKIP LOCKED" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + claim)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    out.emit(
        "idle_sweep_uses_partial_index",
        "deadline_pending_due" in plan,
        "bool",
        queries_per_sweep=len(captured.captured_queries),
        plan=plan,
        **measured,
    )

    # 2. Throughput: `due` reminders all due now, one process.
    log(f"Writing {due:,} due deadlines…")
    _insert_deadlines(
        merchant,
        user,
        ticket_ids,
        count=due,
        key_prefix=f"due-{time.time_ns()}-",
        due_sql="now() - interval '1 second'",
        log=log,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Deadline._meta.db_table}")
    events_before = TicketEvent.objects.filter(merchant=merchant).count()
    notifications_before = Notification.objects.filter(merchant=merchant).count()
    started = time.perf_counter()
    result = deadlines_sweep()
    elapsed = time.perf_counter() - started
    events = TicketEvent.objects.filter(merchant=merchant).count() - events_before
    notifications = Notification.objects.filter(merchant=merchant).count() - notifications_before
    measured = {
        "pending_deadlines": total_pending,
        "due": due,
        "fired": result.fired,
        "events": events,
        "notifications": notifications,
        "batches": result.batches,
        "seconds": round(elapsed, 3),
    }
    out.emit("fire_rate", round(result.fired / elapsed, 1), "deadlines/s", **measured)
    _cleanup_fired(merchant)

    # 3. Lateness: due times spread over two intervals, one sweep per interval.
    spread = 2 * interval
    log(f"Writing {due:,} deadlines due over the next {spread:.0f} s, sweeping every {interval:.0f} s…")
    _insert_deadlines(
        merchant,
        user,
        ticket_ids,
        count=due,
        key_prefix=f"late-{time.time_ns()}-",
        due_sql=f"now() + interval '2 seconds' + (n::float / {due} * {spread}) * interval '1 second'",
        log=log,
    )
    give_up = time.monotonic() + spread + 10 * interval + 120
    while time.monotonic() < give_up:
        deadlines_sweep()
        if not Deadline.objects.filter(
            merchant=merchant, kind=REMINDER_KIND, key__startswith="late-", state="pending"
        ).exists():
            break
        time.sleep(interval)
    lateness = [
        (fired - due_at).total_seconds()
        for fired, due_at in Deadline.objects.filter(
            merchant=merchant, key__startswith="late-", state="fired"
        ).values_list("fired_at", "due_at")
        if fired is not None  # a fired deadline always has its time
    ]
    measured = {"deadlines": due, "fired": len(lateness), "sweep_interval_s": interval, "target_p99_s": interval + 5}
    out.emit("lateness_p50", round(statistics.median(lateness), 3), "s", **measured)
    out.emit("lateness_p99", round(_percentile(lateness, 0.99), 3), "s", **measured)
    out.emit("lateness_max", round(max(lateness), 3), "s", **measured)
    doubles = (
        TicketEvent.objects.filter(merchant=merchant, verb="reminder_due")
        .values("data__deadline")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    out.emit("fired_twice", doubles, "deadlines", deadlines=due)
    _cleanup_fired(merchant)
