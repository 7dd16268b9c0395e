"""The daily quality run (feedback.services.quality) on real rows: cohorts, alerts, decisions."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership, Notification
from aftersales.tests.factories import MembershipFactory, MerchantFactory, ProductFactory
from feedback.models import AlertStatus, QualityAlert, QualityAlertEvent, QualityCohort
from feedback.services import quality_alert_acknowledge, quality_alert_dismiss, quality_run
from feedback.tests.builders import claim, delivered, local
from feedback.tests.factories import QualitySettingsFactory
from returns.tests.factories import ReturnReasonFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 30)
WINDOW = 14
LAST_MATURE = TODAY - timedelta(days=WINDOW + 1)
UNITS_PER_DAY = 100


def _at(day: date, hour: int = 10):
    return local(day.year, day.month, day.day, hour)


@pytest.fixture
def shop():
    """Six kettles, 100 units each delivered on each of the 7 mature days: five with 2 fault
    claims a day, one (KETTLE-BAD) with 10; and carrier damage on a peer that must not count."""
    merchant = MerchantFactory.create(timezone="Asia/Shanghai")
    owner = MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    QualitySettingsFactory.create(merchant=merchant, owner=owner, claim_window_days=WINDOW)
    fault = ReturnReasonFactory.create(merchant=merchant, name="Stopped working", responsibility="merchant")
    crushed = ReturnReasonFactory.create(merchant=merchant, name="Crushed in transit", responsibility="courier")
    products = [ProductFactory.create(merchant=merchant, sku=f"KETTLE-{n}", category="kettles") for n in range(5)]
    bad = ProductFactory.create(merchant=merchant, sku="KETTLE-BAD", category="kettles")
    for offset in range(7):
        day = LAST_MATURE - timedelta(days=offset)
        for product in products:
            line = delivered(merchant, product, UNITS_PER_DAY, _at(day))
            claim(line, fault, 2, _at(day + timedelta(days=3)))
        line = delivered(merchant, bad, UNITS_PER_DAY, _at(day))
        claim(line, fault, 10, _at(day + timedelta(days=3)))
    damaged = delivered(merchant, products[0], UNITS_PER_DAY, _at(LAST_MATURE))
    claim(damaged, crushed, 60, _at(LAST_MATURE + timedelta(days=1)))
    agent = MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user
    return {"merchant": merchant, "owner": owner, "bad": bad, "agent": agent, "products": products}


def test_the_run_flags_the_sku_above_its_category_and_tells_the_quality_owner(shop):
    # When the morning's run goes
    run = quality_run(merchant=shop["merchant"], today=TODAY)

    # Then one alert names the failing SKU, its rate against its peers', the reasons and cases
    [alert] = run.alerts
    assert run.last_mature_day == LAST_MATURE
    assert alert.sku == "KETTLE-BAD"
    assert alert.status == AlertStatus.OPEN
    assert alert.method == "laney"
    assert alert.delivered_units == 700
    assert alert.defect_units == 70
    assert alert.rate == Decimal("0.100000")
    # the peers: 70 claims over 3,600 units (the damaged delivery's 100 units count, its claim not)
    assert alert.baseline_rate == Decimal("0.019444")
    assert alert.top_reasons == [{"reason": "Stopped working", "units": 70, "cases": 7}]
    assert len(alert.ticket_ids) == 7
    assert alert.cohort_end == LAST_MATURE
    assert list(alert.events.values_list("verb", flat=True)) == [QualityAlertEvent.Verb.RAISED]
    # The carrier damage (60 units) is not a defect claim: the peer's cohort counts 2
    peer_cohort = QualityCohort.objects.get(product=shop["products"][0], delivered_on=LAST_MATURE)
    assert (peer_cohort.delivered_units, peer_cohort.defect_units) == (200, 2)
    [notification] = Notification.objects.filter(template="quality_alert")
    assert notification.recipient == shop["owner"].email


def test_a_second_run_the_same_day_raises_nothing_new(shop):
    quality_run(merchant=shop["merchant"], today=TODAY)

    again = quality_run(merchant=shop["merchant"], today=TODAY)

    assert again.alerts == []
    assert QualityAlert.objects.filter(merchant=shop["merchant"]).count() == 1
    assert Notification.objects.filter(template="quality_alert").count() == 1


def test_a_dismissed_alert_stops_counting_and_is_not_raised_again_on_the_same_cohorts(shop):
    [alert] = quality_run(merchant=shop["merchant"], today=TODAY).alerts

    quality_alert_dismiss(alert=alert, actor=shop["owner"], reason="Batch 42 recalled already.")
    tomorrow = quality_run(merchant=shop["merchant"], today=TODAY + timedelta(days=1))

    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    assert alert.note == "Batch 42 recalled already."
    assert alert.dismissed_by == shop["owner"]
    assert list(alert.events.values_list("verb", "note")) == [
        ("raised", ""),
        ("dismissed", "Batch 42 recalled already."),
    ]
    assert tomorrow.alerts == []


def test_dismissing_without_a_reason_is_refused_and_changes_nothing(shop):
    [alert] = quality_run(merchant=shop["merchant"], today=TODAY).alerts

    with pytest.raises(InvalidInput):
        quality_alert_dismiss(alert=alert, actor=shop["owner"], reason="  ")

    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert alert.events.count() == 1


def test_an_agent_cannot_decide_an_alert(shop):
    [alert] = quality_run(merchant=shop["merchant"], today=TODAY).alerts

    with pytest.raises(PermissionRefused):
        quality_alert_acknowledge(alert=alert, actor=shop["agent"])

    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert alert.acknowledged_by is None
    assert alert.events.count() == 1


def test_an_acknowledged_alert_cannot_be_acknowledged_twice_and_can_still_be_dismissed(shop):
    [alert] = quality_run(merchant=shop["merchant"], today=TODAY).alerts
    quality_alert_acknowledge(alert=alert, actor=shop["owner"], note="Asked the factory.")

    with pytest.raises(TransitionNotAllowed):
        quality_alert_acknowledge(alert=alert, actor=shop["owner"])
    quality_alert_dismiss(alert=alert, actor=shop["owner"], reason="Factory fixed the seal.")

    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    assert list(alert.events.values_list("verb", flat=True)) == ["raised", "acknowledged", "dismissed"]


def test_young_cohorts_do_not_count_until_their_window_has_passed(shop):
    # Given the same deliveries, evaluated a week earlier: the failing week is not mature yet
    run = quality_run(merchant=shop["merchant"], today=TODAY - timedelta(days=7))

    assert run.alerts == []


def test_one_merchants_run_never_reads_another_merchants_cohorts(shop):
    other = MerchantFactory.create()

    run = quality_run(merchant=other, today=TODAY)

    assert run.alerts == []
    assert run.products == 0
    assert not QualityCohort.objects.filter(merchant=other).exists()
