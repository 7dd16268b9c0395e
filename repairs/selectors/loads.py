"""How far the technicians' load counters have drifted from the visits they count: what a visit
changed outside the dispatch services (a queryset update, a data fix, an old admin edit) leaves
behind. Read by ``manage.py rebuild_visit_loads``."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.db.models.functions import TruncDate

from aftersales.models import Merchant
from repairs.models import ACTIVE_VISIT_STATUSES, TechnicianDayLoad, TechnicianWindowLoad, Visit


@dataclass(frozen=True)
class LoadDrift:
    kind: str  # "window" or "day"
    technician_id: int
    key: datetime | date
    stored: int
    counted: int


def technician_load_drift(merchant: Merchant) -> list[LoadDrift]:
    """Every window and day counter of ``merchant`` whose stored number differs from the active
    visits it should count (a missing row counts as 0), window counters first, in key order."""
    active = Visit.objects.filter(merchant=merchant, status__in=ACTIVE_VISIT_STATUSES, technician__isnull=False)
    counted_windows: Counter[tuple[int, datetime | date]] = Counter(
        {
            (technician_id, start): visits
            for technician_id, start, visits in active.values("technician_id", "window_start")
            .annotate(visits=Count("pk"))
            .order_by()
            .values_list("technician_id", "window_start", "visits")
        }
    )
    counted_days: Counter[tuple[int, datetime | date]] = Counter(
        {
            (technician_id, day): visits
            for technician_id, day, visits in active.annotate(
                day=TruncDate("window_start", tzinfo=ZoneInfo(merchant.timezone))
            )
            .values("technician_id", "day")
            .annotate(visits=Count("pk"))
            .order_by()
            .values_list("technician_id", "day", "visits")
        }
    )
    stored_windows: Counter[tuple[int, datetime | date]] = Counter(
        {
            (technician_id, start): visits
            for technician_id, start, visits in TechnicianWindowLoad.objects.filter(merchant=merchant).values_list(
                "technician_id", "window_start", "visits"
            )
        }
    )
    stored_days: Counter[tuple[int, datetime | date]] = Counter(
        {
            (technician_id, day): visits
            for technician_id, day, visits in TechnicianDayLoad.objects.filter(merchant=merchant).values_list(
                "technician_id", "day", "visits"
            )
        }
    )
    drift = []
    for kind, stored, counted in (("window", stored_windows, counted_windows), ("day", stored_days, counted_days)):
        for technician_id, key in sorted(set(stored) | set(counted)):
            if stored[technician_id, key] != counted[technician_id, key]:
                drift.append(
                    LoadDrift(
                        kind=kind,
                        technician_id=technician_id,
                        key=key,
                        stored=stored[technician_id, key],
                        counted=counted[technician_id, key],
                    )
                )
    return drift
