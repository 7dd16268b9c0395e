"""Reads of the managers' pages: technicians with today's presence, the parts catalogue with its
stock, stock per location with its recent movements. Each starts from the request's merchant."""

from datetime import date

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum

from aftersales.models import BusinessCalendar, Merchant
from repairs.models import (
    ACTIVE_VISIT_STATUSES,
    Part,
    PartStock,
    ProfileChange,
    StockLocation,
    StockMovement,
    TechnicianProfile,
    TechnicianTimeOff,
    Visit,
    VisitStatus,
)
from repairs.selectors.dispatch import day_bounds

RECENT = 30


def technicians_with_presence(merchant: Merchant, today: date) -> QuerySet[TechnicianProfile]:
    """Every technician with ``off_today``, ``on_site_now`` and ``visits_today``, in one query."""
    start, end = day_bounds(merchant, today)
    return (
        TechnicianProfile.objects.filter(merchant=merchant)
        .select_related("user", "calendar")
        .annotate(
            off_today=Exists(
                TechnicianTimeOff.objects.filter(technician=OuterRef("pk"), starts_on__lte=today, ends_on__gte=today)
            ),
            on_site_now=Exists(Visit.objects.filter(technician=OuterRef("pk"), status=VisitStatus.ON_SITE)),
            visits_today=Count(
                "visits",
                filter=Q(
                    visits__status__in=(*ACTIVE_VISIT_STATUSES, VisitStatus.COMPLETED),
                    visits__window_start__gte=start,
                    visits__window_start__lt=end,
                ),
            ),
        )
        .order_by("-is_active", "user__first_name", "user__username", "pk")
    )


def technician_for_page(merchant: Merchant, technician_id: int) -> TechnicianProfile | None:
    return (
        TechnicianProfile.objects.filter(merchant=merchant, pk=technician_id)
        .select_related("user", "calendar")
        .prefetch_related(
            Prefetch("time_off", queryset=TechnicianTimeOff.objects.order_by("-starts_on")),
            Prefetch("changes", queryset=ProfileChange.objects.select_related("actor").order_by("-pk")),
        )
        .first()
    )


def time_off_of(technician: TechnicianProfile, time_off_id: int) -> TechnicianTimeOff | None:
    return TechnicianTimeOff.objects.filter(technician=technician, pk=time_off_id).first()


def calendars_of(merchant: Merchant) -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.filter(merchant=merchant).order_by("name", "pk")


def parts_with_stock(merchant: Merchant) -> QuerySet[Part]:
    return (
        Part.objects.filter(merchant=merchant)
        .annotate(on_hand=Sum("stock__on_hand", default=0), reserved=Sum("stock__reserved", default=0))
        .order_by("part_number")
    )


def part_for_page(merchant: Merchant, part_id: int) -> Part | None:
    return (
        Part.objects.filter(merchant=merchant, pk=part_id)
        .prefetch_related(
            "compatible_products",
            Prefetch("stock", queryset=PartStock.objects.select_related("location").order_by("location__name")),
            Prefetch("changes", queryset=ProfileChange.objects.select_related("actor").order_by("-pk")),
        )
        .first()
    )


def stock_locations_with_stock(merchant: Merchant) -> list[StockLocation]:
    return list(
        StockLocation.objects.filter(merchant=merchant)
        .select_related("holder", "service_centre")
        .prefetch_related(
            Prefetch("stock", queryset=PartStock.objects.select_related("part").order_by("part__part_number"))
        )
        .order_by("-is_active", "kind", "name")
    )


def active_locations_of(merchant: Merchant) -> QuerySet[StockLocation]:
    return StockLocation.objects.filter(merchant=merchant, is_active=True).order_by("kind", "name")


def location_of(merchant: Merchant, location_id: int) -> StockLocation | None:
    return StockLocation.objects.filter(merchant=merchant, pk=location_id).first()


def stock_row_of(merchant: Merchant, stock_id: int) -> PartStock | None:
    return PartStock.objects.filter(merchant=merchant, pk=stock_id).select_related("part", "location").first()


def recent_movements(merchant: Merchant) -> list[StockMovement]:
    return list(
        StockMovement.objects.filter(merchant=merchant)
        .select_related("stock__part", "stock__location", "counterpart", "actor")
        .order_by("-pk")[:RECENT]
    )
