"""The repairs report, read: turnaround (request to returned) median and p90, repeat repairs per
serial within 90 days, warranty cost per unit sold per product, failure rate per product and
diagnosis. Aggregated by PostgreSQL in a fixed number of queries (no rollup table yet)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Aggregate,
    Case,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Sum,
    When,
)

from aftersales.models import Merchant, OrderLine
from repairs.models import LineCoverage, LineKind, RepairLine, RepairOrder

REPEAT_WINDOW = timedelta(days=90)
MONEY = DecimalField(max_digits=14, decimal_places=2)


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(f) WITHIN GROUP (ORDER BY x)``; works on intervals too."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), output_field=DurationField(), **extra)


@dataclass(frozen=True)
class ProductFigures:
    product_id: int
    sku: str
    name: str
    units_sold: int
    repairs: int
    warranty_cost: Decimal

    @property
    def warranty_cost_per_unit(self) -> Decimal | None:
        return (self.warranty_cost / self.units_sold).quantize(Decimal("0.01")) if self.units_sold else None

    @property
    def failure_rate(self) -> float | None:
        return self.repairs / self.units_sold if self.units_sold else None


@dataclass(frozen=True)
class RepairsReport:
    returned: int
    turnaround_median: timedelta | None
    turnaround_p90: timedelta | None
    repairs_with_serial: int
    repeats_within_90_days: int
    products: list[ProductFigures]
    failures_by_diagnosis: list[dict[str, Any]]


def repairs_report(*, merchant: Merchant, start: datetime, end: datetime) -> RepairsReport:
    """Repairs requested in ``[start, end)`` (turnaround: returned in it), units delivered in it."""
    requested = RepairOrder.objects.filter(merchant=merchant, requested_at__gte=start, requested_at__lt=end)
    turnaround = ExpressionWrapper(F("returned_at") - F("requested_at"), output_field=DurationField())
    returned = RepairOrder.objects.filter(
        merchant=merchant, returned_at__isnull=False, returned_at__gte=start, returned_at__lt=end
    ).aggregate(
        count=Count("pk"),
        median=PercentileCont(turnaround, 0.5),
        p90=PercentileCont(turnaround, 0.9),
    )
    earlier = RepairOrder.objects.filter(
        merchant=merchant,
        serial_number=OuterRef("serial_number"),
        requested_at__lt=OuterRef("requested_at"),
        requested_at__gte=OuterRef("requested_at") - REPEAT_WINDOW,
    )
    with_serial = requested.exclude(serial_number="")
    repeats = with_serial.annotate(is_repeat=Exists(earlier)).filter(is_repeat=True).count()
    sold = {
        row["product_id"]: row["units"]
        for row in OrderLine.objects.filter(
            merchant=merchant, order__delivered_at__gte=start, order__delivered_at__lt=end
        )
        .values("product_id")
        .annotate(units=Sum("quantity"))
    }
    line_cost = Case(
        When(kind=LineKind.PART, then=F("unit_cost") * F("quantity")),
        default=F("unit_price") * F("quantity"),
        output_field=MONEY,
    )
    costs = {
        row["repair_order__product_id"]: row["claim_cost"]
        for row in RepairLine.objects.filter(
            repair_order__in=requested, coverage__in=(LineCoverage.WARRANTY, LineCoverage.SUPPLIER)
        )
        .values("repair_order__product_id")
        .annotate(claim_cost=Sum(line_cost))
    }
    counts = list(
        requested.values("product_id", "product__sku", "product__name")
        .annotate(repairs=Count("pk"))
        .order_by("product__sku")
    )
    products = [
        ProductFigures(
            product_id=row["product_id"],
            sku=row["product__sku"],
            name=row["product__name"],
            units_sold=sold.get(row["product_id"], 0),
            repairs=row["repairs"],
            warranty_cost=(costs.get(row["product_id"]) or Decimal("0")).quantize(Decimal("0.01")),
        )
        for row in counts
    ]
    by_diagnosis = [
        {
            "sku": row["product__sku"],
            "diagnosis": row["diagnosis_code__code"] or "",
            "repairs": row["repairs"],
            "failure_rate": row["repairs"] / sold[row["product_id"]] if sold.get(row["product_id"]) else None,
        }
        for row in requested.values("product_id", "product__sku", "diagnosis_code__code")
        .annotate(repairs=Count("pk"))
        .order_by("product__sku", "diagnosis_code__code")
    ]
    return RepairsReport(
        returned=returned["count"],
        turnaround_median=returned["median"],
        turnaround_p90=returned["p90"],
        repairs_with_serial=with_serial.count(),
        repeats_within_90_days=repeats,
        products=products,
        failures_by_diagnosis=by_diagnosis,
    )
