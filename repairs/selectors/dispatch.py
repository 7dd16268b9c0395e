"""Reads of dispatch: which technicians may take a repair at an address, which booking windows are
free, a technician's day, the visits of a day for the board.

Slot availability runs in a constant number of queries whatever the number of technicians, days
or repairs: the qualified technicians (one query), their time off in the horizon (one), the
saturated windows and days from the load counters the dispatch services keep in the same
transaction as every visit change (two). The dispatch policy (one) and the calendars with their
hours and special days (two) are configuration, kept per process until they change
(``dispatch_policy_kept``, ``calendar_specs``), and read only when they are not kept.
Everything after that is arithmetic in memory.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import CharField, Count, Func, JSONField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast, Concat, TruncDate
from django.db.models.lookups import Exact, GreaterThanOrEqual

from aftersales.business_time import CalendarSpec, Range
from aftersales.config_cache import config_cached
from aftersales.models import BusinessCalendar, CalendarDay, Merchant, Product, WorkingHours
from repairs.models import (
    ACTIVE_VISIT_STATUSES,
    DiagnosisCode,
    DispatchPolicy,
    LocationKind,
    PartStock,
    RepairOrder,
    TechnicianDayLoad,
    TechnicianProfile,
    TechnicianTimeOff,
    TechnicianWindowLoad,
    Visit,
)
from repairs.routing import DayPlan, JobRequest, Pin, TechnicianShift, plan_day
from repairs.travel import Point, TravelModel

SLOT_DAYS = 14
WINDOW_HOURS = 2


def dispatch_policy(merchant: Merchant) -> DispatchPolicy:
    """The merchant's dispatch rules, or the defaults (unsaved) when it has set none."""
    return DispatchPolicy.objects.filter(merchant=merchant).first() or DispatchPolicy(merchant=merchant)


def dispatch_policy_kept(merchant: Merchant) -> DispatchPolicy:
    """``dispatch_policy`` as this process keeps it under the merchant's configuration version (a
    change is seen here at once, elsewhere within a second): for the windows offered, which the
    booking checks again under its locks with the policy read from the database."""
    return config_cached("repairs.dispatch_policy", partial(dispatch_policy, merchant), merchant_id=merchant.pk)


@dataclass(frozen=True)
class ServiceNeed:
    """What a repair asks of a technician: where, and which skills at which level."""

    postal_code: str
    district: str
    skills: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of_repair(cls, repair: RepairOrder) -> "ServiceNeed":
        return cls.at_address(repair.product, postal_code=repair.postal_code, district=repair.district)

    @classmethod
    def at_address(cls, product: Product, *, postal_code: str, district: str) -> "ServiceNeed":
        """What a repair of ``product`` at this address will ask, before the repair exists (the
        portal's request form offers its windows)."""
        category = product.category
        return cls(postal_code=postal_code, district=district, skills={category: 1} if category else {})


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime


class QualifiedTechnician(NamedTuple):
    # A tuple, not a dataclass: a read makes a thousand of them, straight from the rows.
    technician_id: int
    calendar_id: int | None
    daily_capacity: int


class _JsonbTypeof(Func):
    function = "jsonb_typeof"
    output_field = CharField()


def qualified_technicians_queryset(merchant: Merchant, need: ServiceNeed) -> QuerySet[TechnicianProfile]:
    """Active technicians of ``merchant`` who serve the address and hold every skill asked at its
    level or above. The level is checked in the database on the JSON value itself: a number,
    compared as a number (10 is above 9); a level stored as a string ("3") or a boolean never
    counts, so ``skills`` need not be fetched and decoded for a thousand technicians."""
    areas = Q(areas=[])
    for key in (need.postal_code, need.district):
        if key:
            areas |= Q(areas__contains=[key])
    queryset = TechnicianProfile.objects.filter(merchant=merchant, is_active=True).filter(areas)
    for skill, level in need.skills.items():
        held = KeyTransform(skill, "skills")
        # jsonb compares a number with a number numerically; the type check first keeps out a
        # boolean (which jsonb orders above every number) and a string.
        queryset = queryset.filter(
            Q(skills__has_key=skill),
            Exact(_JsonbTypeof(held), "number"),
            GreaterThanOrEqual(held, Value(level, output_field=JSONField())),
        )
    return queryset.order_by("pk")


def qualified_technicians(merchant: Merchant, need: ServiceNeed) -> list[QualifiedTechnician]:
    rows = qualified_technicians_queryset(merchant, need).values_list("pk", "calendar_id", "daily_capacity")
    return list(map(QualifiedTechnician._make, rows))


def _folded_hours() -> Subquery:
    """A calendar's weekly hours as one sorted array of ``weekday:start:end``."""
    text = Concat(
        Cast("weekday", CharField()),
        Value(":"),
        Cast("start_minute", CharField()),
        Value(":"),
        Cast("end_minute", CharField()),
        output_field=CharField(),
    )
    return Subquery(
        WorkingHours.objects.filter(calendar=OuterRef("pk"))
        .order_by()
        .values("calendar")
        .annotate(folded=ArrayAgg(text, order_by=("weekday", "start_minute", "end_minute")))
        .values("folded")
    )


def _folded_days() -> Subquery:
    """A calendar's holidays and extra working days as one sorted array of ``date:kind:works_as``."""
    text = Concat(
        Cast("date", CharField()),
        Value(":"),
        "kind",
        Value(":"),
        Cast("works_as", CharField()),
        output_field=CharField(),
    )
    return Subquery(
        CalendarDay.objects.filter(calendar=OuterRef("pk"))
        .order_by()
        .values("calendar")
        .annotate(folded=ArrayAgg(text, order_by=("date", "kind")))
        .values("folded")
    )


def _spec(zone: str, hours: Iterable[str], days: Iterable[str]) -> CalendarSpec:
    weekly: dict[int, list[Range]] = defaultdict(list)
    for folded in hours:
        weekday, start, end = (int(part) for part in folded.split(":"))
        weekly[weekday].append((start, end))
    holidays: set[date] = set()
    extra: dict[date, int] = {}
    for folded in days:
        day_text, kind, works_as = folded.split(":")
        day = date.fromisoformat(day_text)
        if kind == CalendarDay.Kind.HOLIDAY:
            holidays.add(day)
        else:
            extra[day] = int(works_as)
    return CalendarSpec(
        tz=ZoneInfo(zone),
        weekly={weekday: tuple(sorted(ranges)) for weekday, ranges in weekly.items()},
        holidays=frozenset(holidays),
        extra_working_days=extra,
    )


def _merchant_calendar_specs(merchant: Merchant) -> dict[int | None, CalendarSpec]:
    """Every calendar of the merchant as a spec, keyed by its id, and under ``None`` what a
    technician without a calendar of their own works by: the merchant's default calendar, or a
    plain working week when it has none. Two queries."""
    default_id = (
        BusinessCalendar.objects.filter(merchant=merchant, team__isnull=True, is_resource=False)
        .values_list("pk", flat=True)
        .first()
    )
    # One row per calendar of the merchant with its hours and special days folded into arrays by
    # the database (a thousand rows, not eight thousand, and no list of a thousand ids to send);
    # calendars with the same hours and days share one spec object, parsed once, and the slot
    # walk then looks at each pattern once a day, not at each technician's calendar.
    rows = (
        BusinessCalendar.objects.filter(merchant=merchant)
        .annotate(folded_hours=_folded_hours(), folded_days=_folded_days())
        .order_by()
        .values_list("pk", "timezone", "folded_hours", "folded_days")
    )
    shared: dict[tuple[object, ...], CalendarSpec] = {}
    specs: dict[int | None, CalendarSpec] = {}
    for calendar_id, zone, hours, days in rows:
        signature = (zone, tuple(hours or ()), tuple(days or ()))
        if signature not in shared:
            shared[signature] = _spec(zone, hours or (), days or ())
        specs[calendar_id] = shared[signature]
    # No calendar at all: the merchant's office hours are unknown, so a plain working week.
    default_spec = specs.get(default_id) if default_id is not None else None
    specs[None] = default_spec if default_spec is not None else _office_week(merchant)
    return specs


def calendar_specs(merchant: Merchant, calendar_ids: Iterable[int | None]) -> dict[int | None, CalendarSpec]:
    """The calendars of these technicians as specs (``None`` keys the merchant's default, which a
    technician without a calendar of their own works by).

    Every calendar of the merchant is read and parsed once per process and kept under the
    merchant's configuration version (``aftersales.config_cache``): calendars, their hours and
    special days and the merchant itself are configuration rows, whose writes bump it after
    commit, so every process reads a changed calendar again within a second, and a transaction
    that changed one reads it from the database until it ends. No query at all while kept."""
    specs = config_cached(
        "repairs.calendar_specs", partial(_merchant_calendar_specs, merchant), merchant_id=merchant.pk
    )
    wanted = {calendar_id for calendar_id in calendar_ids if calendar_id is not None}
    # A copy per read (the kept one is shared by every request of the process); a technician's
    # calendar of another merchant is not among them and falls back to the default, as before.
    picked: dict[int | None, CalendarSpec] = {
        calendar_id: specs[calendar_id] for calendar_id in wanted if calendar_id in specs
    }
    picked[None] = specs[None]
    return picked


def _office_week(merchant: Merchant) -> CalendarSpec:
    return CalendarSpec(tz=ZoneInfo(merchant.timezone), weekly=dict.fromkeys(range(5), ((9 * 60, 18 * 60),)))


def windows_on(spec: CalendarSpec, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The two-hour booking windows inside the working ranges of ``day``, from each range's start
    (a range of 8:00-18:00 gives 8-10, 10-12, 12-14, 14-16 and 16-18)."""
    return _windows(str(spec.tz), day, spec.ranges_on(day))


@lru_cache(maxsize=4096)
def _windows(zone: str, day: date, ranges: tuple[Range, ...]) -> tuple[tuple[datetime, datetime], ...]:
    # Windows depend only on the zone, the day and its ranges: a thousand technicians' calendars
    # share a handful of patterns, so each is worked out once.
    tz = ZoneInfo(zone)
    windows: list[tuple[datetime, datetime]] = []
    for start_minute, end_minute in ranges:
        minute = start_minute
        while minute + WINDOW_HOURS * 60 <= end_minute:
            local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
            windows.append((local.astimezone(UTC), (local + timedelta(hours=WINDOW_HOURS)).astimezone(UTC)))
            minute += WINDOW_HOURS * 60
    return tuple(windows)


@dataclass(frozen=True)
class _Load:
    """Only the saturated pairs: a window where a technician holds as many visits as a window
    takes, a day where they hold their daily capacity. Everything else is free, so the query
    returns a handful of rows however many visits are booked."""

    full_days: set[tuple[int, date]]
    full_windows: set[tuple[int, datetime]]


def _load(
    merchant: Merchant,
    technicians: Sequence[QualifiedTechnician],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    per_window: int,
) -> _Load:
    """The saturated windows and days of the horizon from the load counters the services keep
    (``TechnicianWindowLoad``, ``TechnicianDayLoad``): two index ranges over the rows at or above
    the threshold, however many visits and repairs the merchant has. The qualified technicians
    are picked out here."""
    capacity = {t.technician_id: t.daily_capacity for t in technicians}
    if not capacity:
        return _Load(full_days=set(), full_windows=set())
    full_windows = {
        (technician_id, window_start)
        for technician_id, window_start in TechnicianWindowLoad.objects.filter(
            merchant=merchant, visits__gte=per_window, window_start__gte=start, window_start__lt=end
        ).values_list("technician_id", "window_start")
        if technician_id in capacity
    }
    full_days = {
        (technician_id, day)
        for technician_id, day, visits in TechnicianDayLoad.objects.filter(
            merchant=merchant,
            visits__gte=min(capacity.values()),
            day__gte=start.astimezone(zone).date(),
            day__lte=end.astimezone(zone).date(),
        ).values_list("technician_id", "day", "visits")
        if technician_id in capacity and visits >= capacity[technician_id]
    }
    return _Load(full_days=full_days, full_windows=full_windows)


def load_from_visits(
    merchant: Merchant,
    technicians: Sequence[QualifiedTechnician],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    per_window: int,
) -> _Load:
    """The same answer as ``_load``, counted from the visits themselves (a month of them on
    every read): what the counters must always equal; the tests compare the two."""
    capacity = {t.technician_id: t.daily_capacity for t in technicians}
    if not capacity:
        return _Load(full_days=set(), full_windows=set())
    active = Visit.objects.filter(
        merchant=merchant,
        status__in=ACTIVE_VISIT_STATUSES,
        window_start__gte=start,
        window_start__lt=end,
        technician__isnull=False,
    )
    full_windows = {
        (technician_id, window_start)
        for technician_id, window_start in active.values("technician_id", "window_start")
        .annotate(visits=Count("pk"))
        .filter(visits__gte=per_window)
        .order_by()
        .values_list("technician_id", "window_start")
        if technician_id in capacity
    }
    smallest = min(capacity.values())
    full_days = {
        (technician_id, day)
        for technician_id, day, visits in active.annotate(day=TruncDate("window_start", tzinfo=zone))
        .values("technician_id", "day")
        .annotate(visits=Count("pk"))
        .filter(visits__gte=smallest)
        .order_by()
        .values_list("technician_id", "day", "visits")
        if technician_id in capacity and visits >= capacity[technician_id]
    }
    return _Load(full_days=full_days, full_windows=full_windows)


def visits_per_technician_on(technician_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, int]:
    """Active visits each technician holds between ``start`` and ``end`` (a day, when booking)."""
    return dict(
        Visit.objects.filter(
            technician_id__in=technician_ids,
            status__in=ACTIVE_VISIT_STATUSES,
            window_start__gte=start,
            window_start__lt=end,
        )
        .values("technician_id")
        .annotate(visits=Count("pk"))
        .order_by()
        .values_list("technician_id", "visits")
    )


def _time_off(
    merchant: Merchant, technician_ids: Sequence[int], first: date, last: date
) -> dict[int, list[tuple[date, date]]]:
    """Time off of the merchant's technicians overlapping ``first``..``last``, kept for
    ``technician_ids`` (read through the merchant, not a list of a thousand ids)."""
    wanted = set(technician_ids)
    away: dict[int, list[tuple[date, date]]] = defaultdict(list)
    for technician_id, starts_on, ends_on in TechnicianTimeOff.objects.filter(
        technician__merchant=merchant, starts_on__lte=last, ends_on__gte=first
    ).values_list("technician_id", "starts_on", "ends_on"):
        if technician_id in wanted:
            away[technician_id].append((starts_on, ends_on))
    return away


@dataclass(frozen=True)
class Availability:
    """Everything needed to tell whether a technician is free in a window, loaded once."""

    technicians: list[QualifiedTechnician]
    specs: dict[int | None, CalendarSpec]
    load: _Load
    away: dict[int, list[tuple[date, date]]]
    zone: ZoneInfo

    def windows_of(self, calendar_id: int | None, day: date) -> tuple[tuple[datetime, datetime], ...]:
        return windows_on(self.specs.get(calendar_id) or self.specs[None], day)

    def free_in(self, technician: QualifiedTechnician, window_start: datetime, window_end: datetime) -> bool:
        spec = self.specs.get(technician.calendar_id) or self.specs[None]
        day = window_start.astimezone(spec.tz).date()
        if (window_start, window_end) not in self.windows_of(technician.calendar_id, day):
            return False
        if any(starts_on <= day <= ends_on for starts_on, ends_on in self.away.get(technician.technician_id, ())):
            return False
        if (technician.technician_id, window_start.astimezone(self.zone).date()) in self.load.full_days:
            return False
        return (technician.technician_id, window_start) not in self.load.full_windows

    def free_technicians(self, window_start: datetime, window_end: datetime) -> list[QualifiedTechnician]:
        return [t for t in self.technicians if self.free_in(t, window_start, window_end)]


def availability_load(
    merchant: Merchant,
    need: ServiceNeed,
    *,
    start: datetime,
    end: datetime,
    policy: DispatchPolicy,
    exclude_technicians: Sequence[int] = (),
    from_visits: bool = False,
) -> Availability:
    """What availability needs between ``start`` and ``end``; ``from_visits`` counts the visits
    instead of reading the counters (the reference the tests hold the counters to)."""
    count = load_from_visits if from_visits else _load
    technicians = [t for t in qualified_technicians(merchant, need) if t.technician_id not in exclude_technicians]
    ids = [t.technician_id for t in technicians]
    zone = ZoneInfo(merchant.timezone)
    specs = calendar_specs(merchant, {t.calendar_id for t in technicians})
    return Availability(
        technicians=technicians,
        specs=specs,
        load=count(
            merchant, technicians, start - timedelta(days=1), end + timedelta(days=1), zone, policy.visits_per_window
        ),
        away=_time_off(merchant, ids, (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()),
        zone=zone,
    )


def available_slots(
    merchant: Merchant,
    need: ServiceNeed,
    *,
    now: datetime,
    days: int = SLOT_DAYS,
    limit: int | None = None,
    from_visits: bool = False,
) -> list[Slot]:
    """The booking windows of the next ``days`` local days in which at least one qualified
    technician serving the address is working, not away, and has room that day and in that window."""
    zone = ZoneInfo(merchant.timezone)
    today = now.astimezone(zone).date()
    horizon_start = datetime.combine(today, time(), tzinfo=zone).astimezone(UTC)
    horizon_end = datetime.combine(today + timedelta(days=days), time(), tzinfo=zone).astimezone(UTC)
    policy = dispatch_policy_kept(merchant)
    availability = availability_load(
        merchant, need, start=horizon_start, end=horizon_end, policy=policy, from_visits=from_visits
    )
    earliest = now + timedelta(hours=policy.booking_lead_hours)
    candidates: set[tuple[datetime, datetime]] = set()
    # Only the calendars someone qualified works by: a window no technician has is never offered.
    specs = availability.specs
    used = (specs.get(calendar_id) or specs[None] for calendar_id in {t.calendar_id for t in availability.technicians})
    patterns = [(str(spec.tz), spec) for spec in {id(spec): spec for spec in used}.values()]
    for offset in range(days):
        day = today + timedelta(days=offset)
        # A hundred calendars have a handful of different days: each day's windows are made once.
        for zone_name, ranges in {(zone_name, spec.ranges_on(day)) for zone_name, spec in patterns}:
            candidates.update(_windows(zone_name, day, ranges))
    slots: list[Slot] = []
    for window_start, window_end in sorted(candidates):
        if window_start < earliest or window_start >= horizon_end:
            continue
        if any(availability.free_in(t, window_start, window_end) for t in availability.technicians):
            slots.append(Slot(window_start, window_end))
            if limit is not None and len(slots) >= limit:
                break
    return slots


def technician_for_user(merchant: Merchant, user_id: int) -> TechnicianProfile | None:
    return TechnicianProfile.objects.filter(merchant=merchant, user_id=user_id, is_active=True).first()


def technicians_of(merchant: Merchant) -> QuerySet[TechnicianProfile]:
    return TechnicianProfile.objects.filter(merchant=merchant).select_related("user", "calendar").order_by("pk")


def day_bounds(merchant: Merchant, day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(merchant.timezone)
    start = datetime.combine(day, time(), tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def visits_of_day(merchant: Merchant, day: date) -> QuerySet[Visit]:
    """The day's visits that still hold a place (booked, on the way, on site), for the board and
    the planner, with their repair, product and technician read in the same query."""
    start, end = day_bounds(merchant, day)
    return (
        Visit.objects.filter(
            merchant=merchant, status__in=ACTIVE_VISIT_STATUSES, window_start__gte=start, window_start__lt=end
        )
        .select_related("repair", "repair__product", "repair__customer", "technician", "technician__user")
        .order_by("technician_id", "sequence", "window_start", "pk")
    )


def technician_day(merchant: Merchant, technician: TechnicianProfile, day: date) -> QuerySet[Visit]:
    """One technician's visits of ``day`` in the planned order, everything the phone view shows."""
    start, end = day_bounds(merchant, day)
    return (
        Visit.objects.filter(merchant=merchant, technician=technician, window_start__gte=start, window_start__lt=end)
        .exclude(status="cancelled")
        .select_related("repair", "repair__product", "repair__customer", "repair__ticket")
        .order_by("sequence", "planned_start", "window_start", "pk")
    )


@dataclass(frozen=True)
class PlanningInputs:
    """A day of one merchant as the planner sees it; ``unlocated`` are visits whose address has
    no coordinates (the dispatcher places them by hand)."""

    day: date
    technicians: list[TechnicianShift]
    jobs: list[JobRequest]
    unlocated: list[int]


def _seconds(instant: datetime, midnight: datetime) -> int:
    return int((instant - midnight).total_seconds())


def _is_level(value: object) -> bool:
    """A skill's level counts only when it is a JSON number, as ``qualified_technicians`` checks it
    in SQL: a boolean (``true``, which Python takes for 1) or a string never does."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def planning_inputs(merchant: Merchant, day: date, *, from_instant: datetime | None = None) -> PlanningInputs:
    """The technicians working ``day`` (their calendar's hours, not away; from ``from_instant`` on
    when re-planning the rest of a day) and its booked visits as jobs. A visit already under way,
    or pinned, keeps its technician and start."""
    zone = ZoneInfo(merchant.timezone)
    midnight = datetime.combine(day, time(), tzinfo=zone)
    profiles = list(
        TechnicianProfile.objects.filter(merchant=merchant, is_active=True)
        .order_by("pk")
        .values_list("pk", "skills", "areas", "home_latitude", "home_longitude", "calendar_id", "daily_capacity")
    )
    ids = [row[0] for row in profiles]
    specs = calendar_specs(merchant, {row[5] for row in profiles})
    away = _time_off(merchant, ids, day, day)
    visits = list(visits_of_day(merchant, day))
    earliest = _seconds(from_instant, midnight) if from_instant is not None else 0
    technicians: list[TechnicianShift] = []
    for pk, skills, areas, latitude, longitude, calendar_id, capacity in profiles:
        if pk in away:
            continue
        spec = specs.get(calendar_id) or specs[None]
        ranges = spec.ranges_on(day)
        if not ranges:
            continue
        technicians.append(
            TechnicianShift(
                technician_id=pk,
                home=Point(float(latitude), float(longitude)),
                shift_start=max(ranges[0][0] * 60, earliest),
                shift_end=ranges[-1][1] * 60,
                capacity=capacity,
                skills={k: int(v) for k, v in (skills or {}).items() if _is_level(v)},
                areas=frozenset(str(a) for a in (areas or [])),
            )
        )
    jobs: list[JobRequest] = []
    unlocated: list[int] = []
    for visit in visits:
        repair = visit.repair
        if repair.latitude is None or repair.longitude is None:
            unlocated.append(visit.pk)
            continue
        fixed = visit.pinned or visit.status != "booked"
        pin = None
        if fixed and visit.technician_id is not None:
            start = visit.planned_start or visit.checked_in_at or visit.window_start
            pin = Pin(technician_id=visit.technician_id, start=max(_seconds(start, midnight), earliest))
        category = repair.product.category
        jobs.append(
            JobRequest(
                job_id=visit.pk,
                location=Point(float(repair.latitude), float(repair.longitude)),
                service_seconds=visit.service_minutes * 60,
                window=(_seconds(visit.window_start, midnight), _seconds(visit.window_end, midnight)),
                required_skills={category: 1} if category else {},
                area_keys=frozenset(key for key in (repair.postal_code, repair.district) if key),
                pin=pin,
            )
        )
    return PlanningInputs(day=day, technicians=technicians, jobs=jobs, unlocated=unlocated)


def travel_model(merchant: Merchant) -> TravelModel:
    """Haversine at the merchant's average speed, or the routing server of the settings."""
    return TravelModel(
        speed_kmh=float(dispatch_policy(merchant).travel_speed_kmh),
        detour_factor=float(getattr(settings, "REPAIRS_DETOUR_FACTOR", 1.3)),
        routing_url=str(getattr(settings, "REPAIRS_ROUTING_URL", "")),
    )


@dataclass(frozen=True)
class PlanPreview:
    inputs: PlanningInputs
    plan: DayPlan


def plan_preview(
    merchant: Merchant, day: date, *, from_instant: datetime | None = None, timeout_seconds: float | None = 30
) -> PlanPreview:
    """The solver's plan of ``day`` as it would be applied; nothing is written."""
    inputs = planning_inputs(merchant, day, from_instant=from_instant)
    plan = plan_day(inputs.technicians, inputs.jobs, travel=travel_model(merchant), timeout_seconds=timeout_seconds)
    return PlanPreview(inputs=inputs, plan=plan)


def merchants_for_evening_plan(now: datetime, *, hour: int) -> list[int]:
    """Merchants with active technicians whose local time is in ``hour`` now (the evening plan
    runs once an hour on beat; each merchant is planned in its own evening)."""
    rows = (
        Merchant.objects.filter(pk__in=TechnicianProfile.objects.filter(is_active=True).values("merchant_id"))
        .order_by("pk")
        .values_list("pk", "timezone")
    )
    return [pk for pk, zone in rows if now.astimezone(ZoneInfo(zone)).hour == hour]


def repair_of_number(merchant: Merchant, number: str) -> RepairOrder | None:
    """The repair of the merchant's case ``number``, with what availability needs read beside it."""
    return (
        RepairOrder.objects.filter(merchant=merchant, ticket__number=number)
        .select_related("merchant", "product", "customer", "ticket")
        .first()
    )


def visit_of(merchant: Merchant, visit_id: int) -> Visit | None:
    return Visit.objects.filter(merchant=merchant, pk=visit_id).select_related("repair", "technician").first()


def technician_of(merchant: Merchant, technician_id: int) -> TechnicianProfile | None:
    return TechnicianProfile.objects.filter(merchant=merchant, pk=technician_id).select_related("user").first()


def serial_history(merchant: Merchant, serial_number: str, *, excluding: int) -> list[RepairOrder]:
    """Earlier repairs of the same serial, newest first: what the technician should know."""
    if not serial_number:
        return []
    return list(
        RepairOrder.objects.filter(merchant=merchant, serial_number=serial_number)
        .exclude(pk=excluding)
        .select_related("ticket", "diagnosis_code")
        .order_by("-requested_at")[:10]
    )


def pending_visits_of_day(merchant: Merchant, day: date) -> QuerySet[Visit]:
    """The day's booked visits without a technician: the board's unassigned column."""
    return visits_of_day(merchant, day).filter(technician__isnull=True)


def repair_for_customers(merchant: Merchant, number: str, customer_ids: Iterable[int]) -> RepairOrder | None:
    """A repair of one of the portal session's verified customers, by its case number."""
    return (
        RepairOrder.objects.filter(
            merchant=merchant, ticket__number=number.strip().upper(), customer_id__in=customer_ids
        )
        .select_related("merchant", "product", "customer", "ticket")
        .first()
    )


def active_visit_of(repair: RepairOrder) -> Visit | None:
    return (
        Visit.objects.filter(repair=repair, status__in=ACTIVE_VISIT_STATUSES)
        .select_related("repair", "repair__ticket", "technician")
        .first()
    )


def van_stock_of(merchant: Merchant, user_id: int) -> QuerySet[PartStock]:
    """The parts in the technician's van (a stock location of kind van held by them) with some on hand."""
    return (
        PartStock.objects.filter(
            merchant=merchant, location__kind=LocationKind.VAN, location__holder_id=user_id, on_hand__gt=0
        )
        .select_related("part", "location")
        .order_by("part__name", "pk")
    )


def diagnosis_codes_for_repair(repair: RepairOrder) -> QuerySet[DiagnosisCode]:
    return (
        DiagnosisCode.objects.filter(merchant_id=repair.merchant_id, is_active=True)
        .filter(Q(category="") | Q(category=repair.product.category))
        .order_by("code")
    )
