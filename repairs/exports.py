"""The repair columns of the queue's export (``tickets.exports.queue_kind_columns_register``): when
the queue is filtered to repairs, each row also says the repair's mode and status, the product and
serial, the technician of its latest visit, its coverage, what the warranty cost the merchant, and
the turnaround. Every value comes from the same query (joins and correlated subqueries), so the
export still reads tuples, never a repair or a line per row."""

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Round
from django.utils.translation import gettext_lazy as _

from aftersales.exports import Column
from repairs.models import LineCoverage, LineKind, RepairLine, RepairMode, RepairStatus, Visit

MONEY = DecimalField(max_digits=14, decimal_places=2)
HOURS = DecimalField(max_digits=12, decimal_places=1)


class RepairCoverage(models.TextChoices):
    """The coverage a repair was triaged to, as one word for a spreadsheet (the full answer, coverage
    by coverage, is on the repair)."""

    NOT_TRIAGED = "not_triaged", _("Not triaged yet")
    IN_WARRANTY = "in_warranty", _("In warranty")
    FREE_REPEAT = "free_repeat", _("Free: repeat repair")
    FREE_LEGAL = "free_legal", _("Free: 三包 rule")
    GOODWILL = "goodwill", _("Goodwill")
    VOIDED = "voided", _("Warranty voided by diagnosis")
    OUT_OF_WARRANTY = "out_of_warranty", _("Out of warranty")


def _line_cost() -> Any:
    # What repairs.selectors.costs.line_warranty_cost says of one line: parts at cost, the rest at
    # their price, each rounded to the cent as the line's own amount is.
    return Case(
        When(kind=LineKind.PART, then=Round(F("unit_cost") * F("quantity"), 2)),
        default=Round(F("unit_price") * F("quantity"), 2),
        output_field=MONEY,
    )


def repair_queue_annotate(tickets: QuerySet[Any]) -> QuerySet[Any]:
    repair = "repair_order__"
    eligibility = f"{repair}eligibility"
    warranty_cost = (
        RepairLine.objects.filter(
            repair_order_id=OuterRef(f"{repair}pk"), coverage__in=(LineCoverage.WARRANTY, LineCoverage.SUPPLIER)
        )
        .order_by()
        .values("repair_order_id")
        .annotate(total=Sum(_line_cost()))
        .values("total")
    )
    technician = (
        Visit.objects.filter(repair_id=OuterRef(f"{repair}pk"), technician__isnull=False)
        .order_by("-planned_start", "-pk")
        .values("technician__user__username")[:1]
    )
    turnaround = ExpressionWrapper(
        F(f"{repair}returned_at") - F(f"{repair}requested_at"), output_field=models.DurationField()
    )
    return tickets.annotate(
        export_repair_technician=Subquery(technician),
        export_repair_coverage=Case(
            When(**{f"{repair}isnull": True}, then=Value("")),
            When(**{f"{repair}decided_at__isnull": True}, then=Value(RepairCoverage.NOT_TRIAGED)),
            When(**{f"{eligibility}__has_key": "voided_by_diagnosis"}, then=Value(RepairCoverage.VOIDED)),
            When(**{f"{eligibility}__has_key": "goodwill_amount"}, then=Value(RepairCoverage.GOODWILL)),
            When(**{f"{eligibility}__has_key": "free_as_repeat"}, then=Value(RepairCoverage.FREE_REPEAT)),
            When(
                Q(**{f"{eligibility}__contains": {"coverages": [{"covered": True}]}}),
                then=Value(RepairCoverage.IN_WARRANTY),
            ),
            When(Q(**{f"{repair}legal_floor__free_repair": True}), then=Value(RepairCoverage.FREE_LEGAL)),
            default=Value(RepairCoverage.OUT_OF_WARRANTY),
            output_field=models.CharField(),
        ),
        export_repair_warranty_cost=Case(
            When(**{f"{repair}isnull": True}, then=Value(None)),
            default=Coalesce(Subquery(warranty_cost, output_field=MONEY), Value(Decimal("0.00")), output_field=MONEY),
            output_field=MONEY,
        ),
        export_repair_turnaround_hours=Func(
            turnaround, template="ROUND((EXTRACT(EPOCH FROM %(expressions)s) / 3600.0)::numeric, 1)", output_field=HOURS
        ),
    )


REPAIR_QUEUE_COLUMNS = [
    Column(_("Service mode"), field="repair_order__mode", choices=RepairMode),
    Column(_("Repair status"), field="repair_order__status", choices=RepairStatus),
    Column(_("SKU"), field="repair_order__product__sku"),
    Column(_("Product"), field="repair_order__product__name"),
    Column(_("Serial number"), field="repair_order__serial_number"),
    Column(_("Technician"), field="export_repair_technician"),
    Column(_("Coverage"), field="export_repair_coverage", choices=RepairCoverage),
    Column(_("Warranty cost"), field="export_repair_warranty_cost"),
    Column(_("Turnaround (hours)"), field="export_repair_turnaround_hours"),
]
