"""The quality cohorts count three kinds of defect claim on a delivered unit: a merchant-
responsible return, a repair diagnosed as a product defect, and a product-quality complaint."""

from datetime import date, timedelta

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, ProductFactory
from feedback.models import QualityCohort
from feedback.services import quality_cohorts_refresh, quality_run
from feedback.tests.builders import claim, delivered, local, ticket_at
from feedback.tests.factories import QualitySettingsFactory
from repairs.models import DiagnosisCode, RepairStatus, Responsibility
from repairs.tests.dispatch_factories import OnSiteRepairFactory
from returns.models import Responsibility as ReturnResponsibility
from returns.tests.factories import ReturnReasonFactory
from tickets.models import Complaint, ComplaintCategory, TicketKind, TicketStatus

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)
WINDOW = 30


@pytest.fixture
def shop():
    return MerchantFactory(timezone="Asia/Shanghai")


def _diagnosis(shop, responsibility):
    return DiagnosisCode.objects.create(
        merchant=shop, code=f"code-{responsibility}", name=str(responsibility), responsibility=responsibility
    )


def _repair(line, diagnosis, *, days_after, status=RepairStatus.IN_REPAIR):
    return OnSiteRepairFactory(
        merchant=line.merchant,
        customer=line.order.customer,
        order_line=line,
        product=line.product,
        diagnosis_code=diagnosis,
        status=status,
        requested_at=local(2026, 3, 2) + timedelta(days=days_after),
    )


def _complaint(line, category, *, days_after, status=TicketStatus.OPEN):
    ticket = ticket_at(
        line.merchant,
        local(2026, 3, 2) + timedelta(days=days_after),
        kind=TicketKind.COMPLAINT,
        customer=line.order.customer,
        order=line.order,
        status=status,
    )
    ticket.order_lines.add(line)
    return Complaint.objects.create(merchant=line.merchant, ticket=ticket, category=category)


def _defect_units(shop, product) -> int:
    quality_cohorts_refresh(merchant=shop, first_day=DAY, last_day=DAY, claim_window_days=WINDOW)
    return QualityCohort.objects.get(merchant=shop, product=product, delivered_on=DAY).defect_units


def test_defect_repairs_and_quality_complaints_count_beside_merchant_responsible_returns(shop):
    # given: ten units delivered
    product = ProductFactory(merchant=shop, category="kettles")
    line = delivered(shop, product, 10, local(2026, 3, 2))
    claim(line, ReturnReasonFactory(merchant=shop, responsibility=ReturnResponsibility.MERCHANT), 2, local(2026, 3, 5))
    defect = _diagnosis(shop, Responsibility.PRODUCT_DEFECT)
    # one defect repair counts; user damage, a cancelled repair and one past the window do not
    _repair(line, defect, days_after=4)
    _repair(line, _diagnosis(shop, Responsibility.CUSTOMER), days_after=4)
    _repair(line, defect, days_after=5, status=RepairStatus.CANCELLED)
    _repair(line, defect, days_after=WINDOW + 1)
    # one product-quality complaint counts; a delivery complaint and a cancelled case do not
    _complaint(line, ComplaintCategory.PRODUCT_QUALITY, days_after=6)
    _complaint(line, ComplaintCategory.DELIVERY, days_after=6)
    _complaint(line, ComplaintCategory.PRODUCT_QUALITY, days_after=7, status=TicketStatus.CANCELLED)

    # then: 2 returned + 1 repaired + 1 complained
    assert _defect_units(shop, product) == 4


def test_claims_never_count_more_units_than_were_delivered(shop):
    # given: two units, each returned and then also repaired and complained about
    product = ProductFactory(merchant=shop, category="kettles")
    line = delivered(shop, product, 2, local(2026, 3, 2))
    claim(line, ReturnReasonFactory(merchant=shop, responsibility=ReturnResponsibility.MERCHANT), 2, local(2026, 3, 5))
    _repair(line, _diagnosis(shop, Responsibility.PRODUCT_DEFECT), days_after=4)
    _complaint(line, ComplaintCategory.PRODUCT_QUALITY, days_after=6)

    assert _defect_units(shop, product) == 2


def test_an_alert_raised_on_repairs_and_complaints_names_their_diagnoses_and_cases(shop):
    # given: six kettles, 100 units a day on the 7 mature days; the peers 2 returns a day, the bad
    # one 6 returned units, 2 defect repairs and 2 quality complaints a day (10 claims a day)
    today = date(2026, 4, 30)
    window = 14
    last_mature = today - timedelta(days=window + 1)
    owner = MembershipFactory(merchant=shop, role=Membership.Role.SUPERVISOR).user
    QualitySettingsFactory(merchant=shop, owner=owner, claim_window_days=window)
    fault = ReturnReasonFactory(merchant=shop, name="Stopped working", responsibility=ReturnResponsibility.MERCHANT)
    leak = DiagnosisCode.objects.create(
        merchant=shop, code="leak", name="Leaking seal", responsibility=Responsibility.PRODUCT_DEFECT
    )
    peers = [ProductFactory(merchant=shop, sku=f"KETTLE-{n}", category="kettles") for n in range(5)]
    bad = ProductFactory(merchant=shop, sku="KETTLE-BAD", category="kettles")
    for offset in range(7):
        day = last_mature - timedelta(days=offset)
        delivered_at = local(day.year, day.month, day.day)
        for product in peers:
            claim(delivered(shop, product, 100, delivered_at), fault, 2, delivered_at + timedelta(days=3))
        line = delivered(shop, bad, 100, delivered_at)
        claim(line, fault, 6, delivered_at + timedelta(days=3))
        for _ in range(2):
            _repair(line, leak, days_after=(day - DAY).days + 4)
            _complaint(line, ComplaintCategory.PRODUCT_QUALITY, days_after=(day - DAY).days + 5)

    # when
    [alert] = quality_run(merchant=shop, today=today).alerts

    # then: 42 returned units, 14 repairs and 14 complaints
    assert (alert.sku, alert.delivered_units, alert.defect_units) == ("KETTLE-BAD", 700, 70)
    assert alert.top_reasons == [
        {"reason": "Stopped working", "units": 42, "cases": 7},
        {"reason": "Leaking seal", "units": 14, "cases": 14},
        {"reason": "Product quality", "units": 14, "cases": 14},
    ]
    assert len(alert.ticket_ids) == 7 + 14 + 14
