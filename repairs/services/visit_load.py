"""The technicians' load counters: active visits per technician per booking window
(``TechnicianWindowLoad``) and per local day (``TechnicianDayLoad``).

Every service that books, moves, reassigns, cancels or ends a visit calls ``visit_load_move`` in
its own transaction, after the visit's row is written, so the counters commit or roll back with
the change (a refused booking leaves them as they were). Counters change with ``F()`` updates,
which lock the counter rows they touch; several rows are touched in (technician, key) order, so
two services moving visits between the same technicians queue instead of deadlocking. The
booking race itself is still decided by the technicians' row locks in ``dispatch._place``.

``technician_loads_rebuild`` recounts a merchant's counters from its visits (the migration's
backfill does the same; the bench calls it after seeding visits in bulk; ``manage.py
rebuild_visit_loads`` reports drift and calls it).
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, F
from django.db.models.functions import TruncDate

from aftersales.models import Merchant
from repairs.models import ACTIVE_VISIT_STATUSES, TechnicianDayLoad, TechnicianWindowLoad, Visit

# (technician, window start) → change in active visits
LoadDeltas = Counter[tuple[int, datetime]]


def held_by(technician_id: int | None, status: str) -> int | None:
    """The technician whose counters a visit in ``status`` counts against, if any."""
    return technician_id if technician_id is not None and status in ACTIVE_VISIT_STATUSES else None


def visit_load_delta(
    deltas: LoadDeltas, *, window_start: datetime, was_held_by: int | None, now_held_by: int | None
) -> None:
    """Record in ``deltas`` that a visit of ``window_start`` moved from one holder to another
    (``None``: nobody, i.e. not active or unassigned)."""
    if was_held_by == now_held_by:
        return
    if was_held_by is not None:
        deltas[was_held_by, window_start] -= 1
    if now_held_by is not None:
        deltas[now_held_by, window_start] += 1


def visit_load_move(
    visit: Visit, *, zone: str, was_technician_id: int | None = None, was_status: str | None = None
) -> None:
    """Count ``visit`` as it is now instead of as it was (its technician and status before the
    change; both ``None`` for a new visit). Runs inside the caller's transaction."""
    deltas: LoadDeltas = Counter()
    visit_load_delta(
        deltas,
        window_start=visit.window_start,
        was_held_by=held_by(was_technician_id, was_status) if was_status is not None else None,
        now_held_by=held_by(visit.technician_id, visit.status),
    )
    technician_loads_apply(deltas, merchant_id=visit.merchant_id, zone=zone)


def technician_loads_apply(deltas: LoadDeltas, *, merchant_id: int, zone: str) -> None:
    """Apply window deltas to the window and day counters, in (technician, key) order."""
    windows = sorted((key, delta) for key, delta in deltas.items() if delta)
    if not windows:
        # Nothing moved (a plan that places no visit passes no zone either).
        return
    tz = ZoneInfo(zone)
    days: Counter[tuple[int, date]] = Counter()
    for (technician_id, window_start), delta in windows:
        days[technician_id, window_start.astimezone(tz).date()] += delta
    _ensure_rows(
        merchant_id,
        windows=[key for key, delta in windows if delta > 0],
        days=[key for key, delta in days.items() if delta > 0],
    )
    for (technician_id, window_start), delta in windows:
        TechnicianWindowLoad.objects.filter(technician_id=technician_id, window_start=window_start).update(
            visits=F("visits") + delta
        )
    for (technician_id, day), delta in sorted(days.items()):
        if delta:
            TechnicianDayLoad.objects.filter(technician_id=technician_id, day=day).update(visits=F("visits") + delta)


def _ensure_rows(
    merchant_id: int, *, windows: Iterable[tuple[int, datetime]], days: Iterable[tuple[int, date]]
) -> None:
    # Create-if-absent on the unique constraints; a concurrent insert of the same row is ignored
    # and the F() update that follows counts on whichever row won.
    window_rows = [
        TechnicianWindowLoad(merchant_id=merchant_id, technician_id=t, window_start=start, visits=0)
        for t, start in windows
    ]
    if window_rows:
        TechnicianWindowLoad.objects.bulk_create(window_rows, ignore_conflicts=True)
    day_rows = [TechnicianDayLoad(merchant_id=merchant_id, technician_id=t, day=day, visits=0) for t, day in days]
    if day_rows:
        TechnicianDayLoad.objects.bulk_create(day_rows, ignore_conflicts=True)


def technician_loads_rebuild(*, merchant: Merchant) -> int:
    """Recount ``merchant``'s counters from its active visits (after a bulk load, or to repair a
    drift); returns the number of window counters written."""
    active = Visit.objects.filter(merchant=merchant, status__in=ACTIVE_VISIT_STATUSES, technician__isnull=False)
    with transaction.atomic():
        # A service moving a visit meanwhile must not be lost between the recount and the rows
        # written: the counter tables are locked against writes first (in the services' order,
        # windows then days), so a service that already touched a counter commits before the
        # recount reads the visits, and one that has not yet waits and adds its change after.
        quote = connection.ops.quote_name
        tables = ", ".join(quote(model._meta.db_table) for model in (TechnicianWindowLoad, TechnicianDayLoad))
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        TechnicianWindowLoad.objects.filter(merchant=merchant).delete()
        TechnicianDayLoad.objects.filter(merchant=merchant).delete()
        windows = [
            TechnicianWindowLoad(merchant=merchant, technician_id=t, window_start=start, visits=visits)
            for t, start, visits in active.values("technician_id", "window_start")
            .annotate(visits=Count("pk"))
            .order_by()
            .values_list("technician_id", "window_start", "visits")
        ]
        TechnicianWindowLoad.objects.bulk_create(windows, batch_size=5000)
        TechnicianDayLoad.objects.bulk_create(
            (
                TechnicianDayLoad(merchant=merchant, technician_id=t, day=day, visits=visits)
                for t, day, visits in active.annotate(day=TruncDate("window_start", tzinfo=ZoneInfo(merchant.timezone)))
                .values("technician_id", "day")
                .annotate(visits=Count("pk"))
                .order_by()
                .values_list("technician_id", "day", "visits")
            ),
            batch_size=5000,
        )
    return len(windows)
