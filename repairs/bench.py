"""``bench repairs``: the dispatch planner, slot availability and the last-slot race.
Registered with the bench harness (``aftersales.bench``) in ``RepairsConfig.ready``.

1. **Plan** (no database): one day of ``--technicians`` (300) and ``--jobs`` (3,000) in a 40 × 40 km
   city of 16 districts: each technician lives in one and serves it and its neighbours, holds
   four of six skills at levels 1-3, works 8:00-18:00 with room for 12 visits; each job needs
   one skill at level 1-2 in a two-hour window, 30-60 minutes of work, a priority. VROOM plans it
   within ``--plan-timeout`` seconds; the greedy nearest-feasible-technician baseline plans the
   same day. Reported: the solver's time, that every job is planned or unassigned with a reason,
   and the travel ratio (solver ÷ greedy) in total and per planned visit. Targets: ≤ 60 s,
   ratio ≤ 0.75. The comparison is on the same jobs and the same travel matrix; the headline
   ratio is total travel, which favours the greedy baseline (it leaves more jobs unplanned and so
   drives less), so the per-visit ratio is reported beside it. The solver runs one search that
   gets the whole time limit (``routing.plan_day``, ``searches``): the planning time stays under
   a minute (instance + 50 s of search) and the search is not cut into eight short ones.
2. **Availability** (PostgreSQL): the merchant ``bench-repairs`` with ``--availability-technicians``
   (1,000) technicians, each with a resource calendar of their own (8:00-18:00, six days a week,
   a holiday and a make-up day in the next 30 days), ``--repairs`` (1,000,000) repair orders,
   and three booked visits per technician per day for 30 days. The 14-day slots of an address
   every technician serves are read ``--requests`` times: p50/p95 and the number of queries
   (the same on every read). Target: p95 ≤ 50 ms. Seeded once and reused.
3. **Race**: ``--racers`` (50) threads book the same last place of a window for as many repairs;
   exactly one booking may come of it.
"""

import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aftersales.bench.output import Measurements
from aftersales.exceptions import ApplicationError
from aftersales.models import (
    BusinessCalendar,
    CalendarDay,
    Customer,
    Membership,
    Merchant,
    Product,
    User,
    WorkingHours,
)
from repairs.models import (
    DispatchPolicy,
    RepairMode,
    RepairOrder,
    RepairStatus,
    TechnicianProfile,
    TechnicianWindowLoad,
    Visit,
)
from repairs.routing import JobRequest, TechnicianShift, greedy_plan, plan_day
from repairs.selectors.dispatch import ServiceNeed, available_slots
from repairs.services.dispatch import visit_book
from repairs.services.visit_load import technician_loads_rebuild
from repairs.travel import Point
from tickets.models import Ticket, TicketKind, TicketStatus

BENCH = "repairs"
HELP = "Dispatch: plan a day of 300 technicians and 3,000 jobs, slot availability, the last-slot race."
SLUG = "bench-repairs"
SKILLS = ("taps", "boilers", "washers", "fridges", "aircon", "ovens")
GRID = 4
SOUTH, WEST = 31.0, 121.2
# 0.36° of latitude and 0.42° of longitude at 31° N: about 40 × 40 km
HEIGHT, WIDTH = 0.36, 0.42
POSTAL_CODE = "200001"


# --- 1. the planner ----------------------------------------------------------------------------


def city_day(technicians: int, jobs: int, *, seed: int = 7) -> tuple[list[TechnicianShift], list[JobRequest]]:
    rng = random.Random(seed)  # noqa: S311 -- sample data

    def point() -> Point:
        return Point(SOUTH + rng.uniform(0, HEIGHT), WEST + rng.uniform(0, WIDTH))

    def district(p: Point) -> tuple[int, int]:
        row = min(GRID - 1, int((p.latitude - SOUTH) / HEIGHT * GRID))
        column = min(GRID - 1, int((p.longitude - WEST) / WIDTH * GRID))
        return row, column

    shifts = []
    for i in range(technicians):
        home = point()
        row, column = district(home)
        areas = frozenset(
            f"D{r}{c}"
            for r in range(row - 1, row + 2)
            for c in range(column - 1, column + 2)
            if 0 <= r < GRID and 0 <= c < GRID
        )
        skills = {skill: rng.randint(1, 3) for skill in rng.sample(SKILLS, 4)}
        shifts.append(TechnicianShift(i + 1, home, 8 * 3600, 18 * 3600, 12, skills, areas))
    requests = []
    for j in range(jobs):
        opens = rng.choice((8, 10, 12, 14, 16)) * 3600
        location = point()
        row, column = district(location)
        requests.append(
            JobRequest(
                job_id=j + 1,
                location=location,
                service_seconds=rng.choice((1800, 2700, 3600)),
                window=(opens, opens + 7200),
                required_skills={rng.choice(SKILLS): rng.randint(1, 2)},
                area_keys=frozenset({f"D{row}{column}"}),
                priority=rng.randint(0, 10),
            )
        )
    return shifts, requests


def bench_plan(out: Measurements, log: Callable[[str], None], *, technicians: int, jobs: int, timeout: float) -> None:
    shifts, requests = city_day(technicians, jobs)
    log(f"planning {jobs} jobs for {technicians} technicians (solver timeout {timeout:g} s)")
    greedy = greedy_plan(shifts, requests)
    started = time.perf_counter()
    plan = plan_day(shifts, requests, timeout_seconds=timeout, exploration_level=1)
    seconds = time.perf_counter() - started
    accounted = len(plan.visits) + len(plan.unassigned)
    reasons = Counter(job.reason.value for job in plan.unassigned)
    common = {"technicians": technicians, "jobs": jobs}
    out.emit("plan_seconds", round(seconds, 2), "s", target=60, **common)
    out.emit(
        "plan_jobs_accounted",
        accounted,
        "jobs",
        target=jobs,
        planned=len(plan.visits),
        unassigned=dict(reasons),
        **common,
    )
    ratio = plan.total_travel_seconds / greedy.total_travel_seconds
    per_visit = (plan.total_travel_seconds / max(1, len(plan.visits))) / (
        greedy.total_travel_seconds / max(1, len(greedy.visits))
    )
    out.emit(
        "plan_travel_ratio",
        round(ratio, 3),
        "solver/greedy",
        target=0.75,
        solver_travel_hours=round(plan.total_travel_seconds / 3600, 1),
        greedy_travel_hours=round(greedy.total_travel_seconds / 3600, 1),
        solver_planned=len(plan.visits),
        greedy_planned=len(greedy.visits),
        greedy_unassigned=dict(Counter(job.reason.value for job in greedy.unassigned)),
        **common,
    )
    out.emit("plan_travel_ratio_per_visit", round(per_visit, 3), "solver/greedy", **common)


# --- 2. availability ---------------------------------------------------------------------------


def _merchant() -> Merchant:
    merchant, _ = Merchant.objects.get_or_create(
        slug=SLUG, defaults={"name": "Bench repairs", "default_language": "en", "timezone": "Asia/Shanghai"}
    )
    DispatchPolicy.objects.get_or_create(merchant=merchant, defaults={"visits_per_window": 2})
    return merchant


def _template_repair(merchant: Merchant) -> RepairOrder:
    existing = RepairOrder.objects.filter(merchant=merchant).order_by("pk").first()
    if existing is not None:
        return existing
    customer = Customer.objects.create(merchant=merchant, name="Bench customer", email="bench-repairs@example.com")
    product = Product.objects.create(merchant=merchant, sku="BENCH-TAP", name="Kitchen tap", category="taps")
    ticket = Ticket.objects.create(
        merchant=merchant,
        customer=customer,
        number="RB-00000000",
        kind=TicketKind.REPAIR,
        status=TicketStatus.CLOSED,
        subject="Bench repair",
    )
    return RepairOrder.objects.create(
        merchant=merchant,
        ticket=ticket,
        customer=customer,
        product=product,
        mode=RepairMode.ON_SITE,
        status=RepairStatus.CLOSED,
        fault_description="Bench",
        requested_at=datetime(2025, 1, 1, tzinfo=UTC),
        postal_code=POSTAL_CODE,
        district="Huangpu",
        latitude=Decimal("31.2"),
        longitude=Decimal("121.4"),
    )


def _clone_sql(model: type[Any], overrides: dict[str, str]) -> tuple[str, str]:
    """INSERT … SELECT copying the template row once per ``s`` of a series, with ``overrides``
    (column → SQL expression of ``s`` or of the joined new ticket ``n``) for what must differ."""
    columns = [field.column for field in model._meta.local_concrete_fields if not field.primary_key]
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    select = ", ".join(overrides.get(column, f"tpl.{connection.ops.quote_name(column)}") for column in columns)
    return quoted, select


def seed_repairs(merchant: Merchant, count: int, log: Callable[[str], None]) -> int:
    template = _template_repair(merchant)
    have = RepairOrder.objects.filter(merchant=merchant).count()
    ticket_table = connection.ops.quote_name(Ticket._meta.db_table)
    repair_table = connection.ops.quote_name(RepairOrder._meta.db_table)
    chunk = 100_000
    while have < count:
        size = min(chunk, count - have)
        ticket_columns, ticket_select = _clone_sql(Ticket, {"number": "'RB-' || lpad(s::text, 8, '0')"})
        repair_columns, repair_select = _clone_sql(
            RepairOrder, {"ticket_id": "n.id", "requested_at": "tpl.requested_at + n.seq * interval '1 minute'"}
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ticket_table} ({ticket_columns}) SELECT {ticket_select} "  # noqa: S608 -- names from _meta
                f"FROM {ticket_table} tpl CROSS JOIN generate_series(%s, %s) AS s WHERE tpl.id = %s",
                [have, have + size - 1, template.ticket_id],
            )
            cursor.execute(
                f"INSERT INTO {repair_table} ({repair_columns}) SELECT {repair_select} "  # noqa: S608 -- names from _meta
                f"FROM {repair_table} tpl CROSS JOIN ("
                f"  SELECT t.id, substr(t.number, 4)::int AS seq FROM {ticket_table} t"
                "   WHERE t.merchant_id = %s AND t.number >= %s AND t.number <= %s"
                ") n WHERE tpl.id = %s",
                [merchant.pk, f"RB-{have:08d}", f"RB-{have + size - 1:08d}", template.pk],
            )
        have += size
        log(f"  {have}/{count} repair orders")
    return have


def seed_technicians(merchant: Merchant, count: int, today: date, log: Callable[[str], None]) -> list[int]:
    existing = list(TechnicianProfile.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True))
    if len(existing) >= count:
        return existing[:count]
    rng = random.Random(11)  # noqa: S311 -- sample data
    with transaction.atomic():
        for i in range(len(existing), count):
            user = User.objects.create(username=f"bench-technician-{i:04d}", first_name="Tech", last_name=f"{i:04d}")
            Membership.objects.create(merchant=merchant, user=user, role=Membership.Role.TECHNICIAN)
            calendar = BusinessCalendar.objects.create(
                merchant=merchant, name=f"Technician {i:04d}", timezone=merchant.timezone, is_resource=True
            )
            off = i % 7
            WorkingHours.objects.bulk_create(
                WorkingHours(calendar=calendar, weekday=day, start_minute=8 * 60, end_minute=18 * 60)
                for day in range(7)
                if day != off
            )
            CalendarDay.objects.bulk_create(
                [
                    CalendarDay(
                        calendar=calendar, date=today + timedelta(days=14 + i % 15), kind=CalendarDay.Kind.HOLIDAY
                    ),
                    CalendarDay(
                        calendar=calendar,
                        date=today + timedelta(days=(off - today.weekday()) % 7 + 7),
                        kind=CalendarDay.Kind.WORKING_DAY,
                        works_as=(off + 1) % 7,
                    ),
                ]
            )
            TechnicianProfile.objects.create(
                merchant=merchant,
                user=user,
                skills={skill: rng.randint(1, 3) for skill in SKILLS},
                areas=[POSTAL_CODE, f"2000{i % 90:02d}"],
                home_latitude=Decimal(f"{SOUTH + rng.uniform(0, HEIGHT):.6f}"),
                home_longitude=Decimal(f"{WEST + rng.uniform(0, WIDTH):.6f}"),
                calendar=calendar,
                daily_capacity=8,
            )
    log(f"  {count} technicians with their calendars")
    return list(TechnicianProfile.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True))[:count]


def seed_visits(merchant: Merchant, technicians: list[int], today: date, log: Callable[[str], None]) -> int:
    """Three booked visits a day per technician for 30 days (8:00, 10:00 and 14:00), each on a
    repair of its own; kept between runs (they are reseeded only when missing)."""
    zone = ZoneInfo(merchant.timezone)
    first = datetime.combine(today, clock_time(), tzinfo=zone)
    existing = Visit.objects.filter(merchant=merchant, window_start__gte=first, technician_id__in=technicians)
    if existing.count() == len(technicians) * 90:
        if not TechnicianWindowLoad.objects.filter(merchant=merchant).exists():
            technician_loads_rebuild(merchant=merchant)
        return Visit.objects.filter(merchant=merchant).count()
    Visit.objects.filter(merchant=merchant).delete()
    technician_loads_rebuild(merchant=merchant)
    starts = [
        datetime.combine(today + timedelta(days=d), clock_time(h), tzinfo=zone).astimezone(UTC)
        for d in range(30)
        for h in (8, 10, 14)
    ]
    needed = len(technicians) * len(starts)
    repairs = list(
        RepairOrder.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True)[1 : needed + 1]
    )
    if len(repairs) < needed:
        raise CommandError(f"--repairs must be at least {needed + 1} for {len(technicians)} technicians' visits")
    rows = []
    k = 0
    for technician in technicians:
        for start in starts:
            rows.append(
                Visit(
                    merchant=merchant,
                    repair_id=repairs[k],
                    technician_id=technician,
                    window_start=start,
                    window_end=start + timedelta(hours=2),
                )
            )
            k += 1
    Visit.objects.bulk_create(rows, batch_size=5000)
    # Loaded in bulk past the services: the load counters availability reads are recounted.
    technician_loads_rebuild(merchant=merchant)
    log(f"  {len(rows)} booked visits")
    return len(rows)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_availability(
    out: Measurements, log: Callable[[str], None], *, technicians: int, repairs: int, requests: int
) -> None:
    merchant = _merchant()
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(merchant.timezone)).date()
    log(f"seeding {SLUG}: {technicians} technicians, {repairs} repair orders (reused when present)")
    ids = seed_technicians(merchant, technicians, today, log)
    held = seed_repairs(merchant, repairs, log)
    visits = seed_visits(merchant, ids, today, log)
    with connection.cursor() as cursor:
        for model in (RepairOrder, Visit, TechnicianProfile, WorkingHours, CalendarDay):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    need = ServiceNeed(postal_code=POSTAL_CODE, district="Huangpu", skills={"taps": 1})
    available_slots(merchant, need, now=now)  # warm-up
    samples: list[float] = []
    queries: set[int] = set()
    slots = 0
    # CPU of this process (not PostgreSQL's) per read: on a loaded machine the wall-clock figures
    # mostly measure the wait for a core.
    cpu_started = time.process_time()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            slots = len(available_slots(merchant, need, now=now))
            samples.append((time.perf_counter() - started) * 1000)
        queries.add(len(captured.captured_queries))
    cpu_ms = (time.process_time() - cpu_started) * 1000 / requests
    common = {"technicians": len(ids), "repair_orders": held, "visits": visits, "requests": requests, "slots": slots}
    out.emit("availability_p50", round(statistics.median(samples), 1), "ms", **common)
    out.emit("availability_p95", round(_percentile(samples, 0.95), 1), "ms", target=50, **common)
    out.emit("availability_cpu_per_read", round(cpu_ms, 1), "ms", **common)
    out.emit("availability_queries", sorted(queries), "queries per read", constant=len(queries) == 1, **common)


# --- 3. the race -------------------------------------------------------------------------------


def bench_race(out: Measurements, log: Callable[[str], None], *, racers: int) -> None:
    merchant, _ = Merchant.objects.get_or_create(
        slug=f"{SLUG}-race", defaults={"name": "Bench repairs race", "timezone": "Asia/Shanghai"}
    )
    DispatchPolicy.objects.update_or_create(merchant=merchant, defaults={"visits_per_window": 1})
    Visit.objects.filter(merchant=merchant).delete()
    technician_loads_rebuild(merchant=merchant)  # the last run's visits are gone, so are their counts
    RepairOrder.objects.filter(merchant=merchant).delete()
    Ticket.objects.filter(merchant=merchant).delete()
    if not TechnicianProfile.objects.filter(merchant=merchant).exists():
        user, _ = User.objects.get_or_create(username="bench-race-technician")
        Membership.objects.get_or_create(merchant=merchant, user=user, defaults={"role": Membership.Role.TECHNICIAN})
        calendar = BusinessCalendar.objects.create(
            merchant=merchant, name="Race technician", timezone=merchant.timezone, is_resource=True
        )
        WorkingHours.objects.bulk_create(
            WorkingHours(calendar=calendar, weekday=day, start_minute=8 * 60, end_minute=18 * 60) for day in range(7)
        )
        TechnicianProfile.objects.create(
            merchant=merchant,
            user=user,
            skills={"taps": 3},
            areas=[POSTAL_CODE],
            home_latitude=Decimal("31.2"),
            home_longitude=Decimal("121.4"),
            calendar=calendar,
        )
    customer, _ = Customer.objects.get_or_create(
        merchant=merchant, email="race@example.com", defaults={"name": "Racer"}
    )
    product, _ = Product.objects.get_or_create(
        merchant=merchant, sku="RACE-TAP", defaults={"name": "Tap", "category": "taps"}
    )
    repairs = [
        RepairOrder.objects.create(
            merchant=merchant,
            ticket=Ticket.objects.create(
                merchant=merchant, customer=customer, number=f"RR-{i:06d}", kind=TicketKind.REPAIR, subject="Race"
            ),
            customer=customer,
            product=product,
            mode=RepairMode.ON_SITE,
            status=RepairStatus.IN_WARRANTY,
            fault_description="Race",
            requested_at=datetime.now(UTC),
            postal_code=POSTAL_CODE,
        )
        for i in range(racers)
    ]
    zone = ZoneInfo(merchant.timezone)
    window = datetime.combine(datetime.now(zone).date() + timedelta(days=3), clock_time(10), tzinfo=zone)
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(repair: RepairOrder) -> None:
        try:
            barrier.wait(timeout=60)
            visit_book(repair=repair, window_start=window.astimezone(UTC), actor_customer=customer)
            outcome = "booked"
        except ApplicationError as refusal:
            outcome = refusal.code
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(repair,)) for repair in repairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    booked = Visit.objects.filter(merchant=merchant, window_start=window, status="booked").count()
    out.emit("race_bookings", booked, "visits", target=1, racers=racers, outcomes=dict(Counter(outcomes)))


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--technicians", type=int, default=300, help="Technicians of the planned day (default 300).")
    parser.add_argument("--jobs", type=int, default=3000, help="Jobs of the planned day (default 3000).")
    parser.add_argument("--plan-timeout", type=float, default=50, help="Solver time limit in seconds (default 50).")
    parser.add_argument(
        "--availability-technicians", type=int, default=1000, help="Technicians for availability (default 1000)."
    )
    parser.add_argument(
        "--repairs", type=int, default=1_000_000, help="Repair orders in the database (default 1,000,000)."
    )
    parser.add_argument("--requests", type=int, default=50, help="Availability reads timed (default 50).")
    parser.add_argument("--racers", type=int, default=50, help="Threads booking the last place (default 50).")
    parser.add_argument(
        "--only", choices=("plan", "availability", "race"), action="append", help="Run only these parts (repeatable)."
    )


def command(options: dict, *, stdout, stderr) -> None:
    if min(options["technicians"], options["jobs"], options["requests"], options["racers"]) < 1:
        raise CommandError("--technicians, --jobs, --requests and --racers must be positive.")
    out = Measurements(BENCH, stdout)

    def log(message: str) -> None:
        stderr.write(message, style_func=str)

    parts = options.get("only") or ["plan", "availability", "race"]
    if "plan" in parts:
        bench_plan(out, log, technicians=options["technicians"], jobs=options["jobs"], timeout=options["plan_timeout"])
    if "availability" in parts:
        bench_availability(
            out,
            log,
            technicians=options["availability_technicians"],
            repairs=options["repairs"],
            requests=options["requests"],
        )
    if "race" in parts:
        bench_race(out, log, racers=options["racers"])
