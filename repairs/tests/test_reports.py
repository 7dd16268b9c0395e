"""The repairs report: turnaround median and p90, repeats per serial within 90 days, warranty cost
per unit sold and failure rate per product and diagnosis — exact figures on a small fixed history."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from aftersales.tests.factories import OrderLineFactory
from repairs.models import LineCoverage, RepairLine, RepairStatus
from repairs.reports import repairs_report
from repairs.tests.factories import DiagnosisCodeFactory, RepairOrderFactory

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def test_the_report_gives_exact_figures_for_a_fixed_history(world):
    # Given 10 taps delivered in June (1 from the world's order, 9 more) and four repairs
    OrderLineFactory(
        merchant=world.merchant,
        order__merchant=world.merchant,
        order__delivered_at=T0 + timedelta(days=1),
        product=world.product,
        quantity=9,
    )
    world.order.delivered_at = T0 + timedelta(days=2)
    world.order.save()
    leak = DiagnosisCodeFactory(merchant=world.merchant, code="LEAK")
    hours = [10, 20, 30, 40]
    repairs = []
    for index, turnaround in enumerate(hours):
        requested = T0 + timedelta(days=5 + index * 10)
        repair = RepairOrderFactory(
            merchant=world.merchant,
            product=world.product,
            order_line=world.line,
            serial_number="TAP-0001" if index < 2 else f"TAP-X{index}",
            status=RepairStatus.CLOSED,
            requested_at=requested,
            returned_at=requested + timedelta(hours=turnaround),
            diagnosis_code=leak if index % 2 == 0 else None,
        )
        repairs.append(repair)
    RepairLine.objects.create(
        merchant=world.merchant,
        repair_order=repairs[0],
        kind="labour",
        description="Labour",
        unit_price=Decimal("60.00"),
        coverage=LineCoverage.WARRANTY,
    )
    RepairLine.objects.create(
        merchant=world.merchant,
        repair_order=repairs[1],
        kind="labour",
        description="Paid labour",
        unit_price=Decimal("99.00"),
        coverage=LineCoverage.CUSTOMER,
    )

    # When the report of June and July is read
    report = repairs_report(merchant=world.merchant, start=T0, end=T0 + timedelta(days=61))

    # Then
    assert report.returned == 4
    assert report.turnaround_median == timedelta(hours=25)
    assert report.turnaround_p90 == timedelta(hours=37)
    assert (report.repairs_with_serial, report.repeats_within_90_days) == (4, 1)
    (tap,) = report.products
    assert (tap.units_sold, tap.repairs, tap.warranty_cost) == (10, 4, Decimal("60.00"))
    assert tap.warranty_cost_per_unit == Decimal("6.00")
    assert tap.failure_rate == 0.4
    assert report.failures_by_diagnosis == [
        {"sku": "TAP-1", "diagnosis": "LEAK", "repairs": 2, "failure_rate": 0.2},
        {"sku": "TAP-1", "diagnosis": "", "repairs": 2, "failure_rate": 0.2},
    ]
