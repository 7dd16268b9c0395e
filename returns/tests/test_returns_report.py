"""The returns report: refund and stage times, return rates by product and reason, resolution
mix and the share approved by policy, over whole days of the merchant's time zone."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.factories import (
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from returns.models import RefundExecution, ReturnPolicy, ReturnReason, ReturnRequest
from returns.reports import returns_report
from returns.services import (
    refund_confirm_manual,
    return_request_approve,
    return_request_cancel,
    return_request_create,
    return_request_receive,
    return_request_settle,
    return_shipping_choose,
    return_tracking_add,
)

pytestmark = pytest.mark.django_db

ALL_RESOLUTIONS = ["refund", "store_credit", "exchange", "refund_only", "keep_item"]
NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30"}


def shanghai(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of 2026 on a Shanghai wall clock (UTC+8, no DST)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def travel(instant: datetime):
    return time_machine.travel(instant, tick=False)


def make_shop() -> dict:
    """A Shanghai merchant whose socks are approved by policy and whose mugs wait for a person."""
    merchant = MerchantFactory.create(timezone="Asia/Shanghai")
    policy = ReturnPolicy.objects.create(merchant=merchant, return_address="1 Warehouse Road, Hangzhou")
    policy.rules.create(
        position=1,
        name="Socks approve themselves",
        match_categories=["socks"],
        window_days=15,
        allowed_resolutions=ALL_RESOLUTIONS,
        auto_approve=True,
    )
    policy.rules.create(position=2, name="Everything else", window_days=15, allowed_resolutions=ALL_RESOLUTIONS)
    return {
        "merchant": merchant,
        "changed_mind": ReturnReason.objects.create(
            merchant=merchant, code="changed_mind", name="Changed my mind", responsibility="customer"
        ),
        "defect": ReturnReason.objects.create(
            merchant=merchant, code="defect", name="Defective", responsibility="merchant"
        ),
        "mug": ProductFactory.create(merchant=merchant, sku="MUG", name="Mug", category="kitchen"),
        "socks": ProductFactory.create(merchant=merchant, sku="SOCKS", name="Socks", category="socks"),
        "supervisor": MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user,
        "warehouse": MembershipFactory.create(merchant=merchant, role=Membership.Role.WAREHOUSE).user,
        "agent": MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user,
    }


def delivered_line(shop: dict, product: str, quantity: int, *, delivered_at: datetime):
    order = OrderFactory.create(
        merchant=shop["merchant"],
        placed_at=delivered_at - timedelta(days=3),
        shipped_at=delivered_at - timedelta(days=2),
        delivered_at=delivered_at,
    )
    return OrderLineFactory.create(order=order, product=shop[product], quantity=quantity, unit_price=Decimal("50.00"))


def submit(shop: dict, line, quantity: int, *, reason: str, resolution: str = "refund", at: datetime):
    with travel(at):
        return return_request_create(
            order=line.order,
            customer=line.order.customer,
            lines=[(line, quantity)],
            reason=shop[reason],
            resolution=resolution,
        )


def approve(shop: dict, return_request, *, at: datetime):
    with travel(at):
        return return_request_approve(return_request=return_request, actor=shop["supervisor"])


def refund_paid(shop: dict, return_request, *, at: datetime):
    """Shipped back, received and settled ten minutes before ``at``; the payout confirmed at ``at``."""
    with travel(at - timedelta(minutes=10)):
        customer = return_request.customer
        return_shipping_choose(return_request=return_request, method="drop_off", customer=customer)
        return_tracking_add(
            return_request=return_request,
            carrier="SF Express",
            tracking_number=f"SF{return_request.pk:010d}",
            customer=customer,
        )
        return_request_receive(return_request=return_request, actor=shop["warehouse"])
        return_request_settle(return_request=return_request, actor=shop["supervisor"])
    with travel(at):
        refund_confirm_manual(
            execution=RefundExecution.objects.get(refund__return_request=return_request),
            actor=shop["supervisor"],
            reference=f"PAYOUT-{return_request.pk}",
        )


@pytest.fixture
def shop():
    """November 2026 in Shanghai: 10 mugs and 5 socks delivered (the first orders 00:05 on the 1st,
    still October in UTC), 3 mugs of October; returns paid out 60, 120 and 300 minutes after they
    were submitted, one store-credit return never paid, one withdrawn, one of October 31st."""
    shop = make_shop()
    november_first = shanghai(11, 1, 0, 5)
    mugs_a = delivered_line(shop, "mug", 4, delivered_at=november_first)
    mugs_b = delivered_line(shop, "mug", 6, delivered_at=november_first)
    socks = delivered_line(shop, "socks", 5, delivered_at=november_first)
    october_mugs = delivered_line(shop, "mug", 3, delivered_at=shanghai(10, 25, 12))

    late_october = submit(shop, october_mugs, 1, reason="changed_mind", at=shanghai(10, 31, 23, 30))
    approve(shop, late_october, at=shanghai(10, 31, 23, 40))

    first = submit(shop, mugs_a, 2, reason="changed_mind", at=shanghai(11, 1, 0, 10))
    approve(shop, first, at=shanghai(11, 1, 0, 40))
    refund_paid(shop, first, at=shanghai(11, 1, 1, 10))

    second = submit(shop, mugs_b, 1, reason="defect", at=shanghai(11, 4, 10))
    approve(shop, second, at=shanghai(11, 4, 10, 30))
    refund_paid(shop, second, at=shanghai(11, 4, 12))

    by_policy = submit(shop, socks, 1, reason="defect", at=shanghai(11, 5, 10))
    refund_paid(shop, by_policy, at=shanghai(11, 5, 15))

    store_credit = submit(shop, mugs_b, 1, reason="changed_mind", resolution="store_credit", at=shanghai(11, 6, 9))
    approve(shop, store_credit, at=shanghai(11, 6, 10, 30))

    withdrawn = submit(shop, socks, 1, reason="changed_mind", at=shanghai(11, 7, 9))
    with travel(shanghai(11, 7, 10)):
        return_request_cancel(return_request=withdrawn, customer=withdrawn.customer)

    shop["returns"] = {"first": first, "second": second, "by_policy": by_policy, "store_credit": store_credit}
    return shop


@pytest.fixture
def other_shop():
    """Another merchant in the same month: a sock approved by policy and paid out in ten minutes."""
    other = make_shop()
    socks = delivered_line(other, "socks", 7, delivered_at=shanghai(11, 2, 9))
    theirs = submit(other, socks, 3, reason="defect", at=shanghai(11, 3, 9))
    refund_paid(other, theirs, at=shanghai(11, 3, 9, 10))
    return other


def _login(client, user):
    client.force_login(user)
    return client


def _report(client, user):
    with travel(shanghai(12, 1, 12)):
        return _login(client, user).get(reverse("dashboard:returns_report"), NOVEMBER)


def test_the_refund_time_is_the_median_and_p90_from_submission_to_the_first_payout(client, shop, other_shop):
    response = _report(client, shop["supervisor"])

    assert response.status_code == 200
    refund_time = response.context["report"].refund_time
    # 60, 120 and 300 minutes: the median is the middle one, p90 interpolates 80% of the way to 300.
    assert (refund_time.count, refund_time.median_minutes, refund_time.p90_minutes) == (
        3,
        Decimal("120.0"),
        Decimal("264.0"),
    )
    html = response.content.decode()
    assert 'data-minutes="120.0"' in html
    assert 'data-minutes="264.0"' in html


def test_each_stage_is_timed_from_submission_to_its_first_event_in_the_period(client, shop, other_shop):
    response = _report(client, shop["supervisor"])

    stages = {
        stage.verb: (stage.durations.count, stage.durations.median_minutes, stage.durations.p90_minutes)
        for stage in response.context["report"].stage_times
    }
    # Approved after 0, 0 (two socks by policy, at once: one later withdrawn, yet it was approved),
    # 30, 30 and 90 minutes; October's approval is not November's. p90 is 60% of the way 30 → 90.
    assert stages["return_approved"] == (5, Decimal("30.0"), Decimal("66.0"))
    assert stages["return_in_transit"] == (3, Decimal("110.0"), Decimal("254.0"))
    assert stages["return_received"] == (3, Decimal("110.0"), Decimal("254.0"))
    assert stages["return_inspected"] == (0, None, None)
    assert stages["return_completed"] == (3, Decimal("120.0"), Decimal("264.0"))


def test_the_return_rate_by_product_is_returned_units_over_units_delivered_in_the_period(client, shop, other_shop):
    response = _report(client, shop["supervisor"])

    report = response.context["report"]
    rows = [(row.sku, row.delivered_units, row.returned_units, row.rate_percent) for row in report.by_product]
    # The withdrawn sock and October's mug are not returns of November; October's 3 mugs not deliveries.
    assert rows == [("MUG", 10, 4, Decimal("40.0")), ("SOCKS", 5, 1, Decimal("20.0"))]
    assert (report.delivered_units, report.returned_units, report.return_rate_percent) == (15, 5, Decimal("33.3"))
    assert "40.0%" in response.content.decode()


def test_returns_by_reason_count_requests_and_units_against_every_unit_delivered(client, shop, other_shop):
    response = _report(client, shop["supervisor"])

    rows = [
        (row.name, row.returns, row.returned_units, row.rate_percent) for row in response.context["report"].by_reason
    ]
    assert rows == [("Changed my mind", 2, 3, Decimal("20.0")), ("Defective", 2, 2, Decimal("13.3"))]


def test_the_resolution_mix_and_the_share_approved_by_policy(client, shop, other_shop):
    response = _report(client, shop["supervisor"])

    report = response.context["report"]
    assert [(row.resolution, row.returns, row.share_percent) for row in report.resolutions] == [
        ("refund", 3, Decimal("75.0")),
        ("store_credit", 1, Decimal("25.0")),
        ("exchange", 0, Decimal("0.0")),
        ("refund_only", 0, Decimal("0.0")),
        ("keep_item", 0, Decimal("0.0")),
    ]
    assert (report.returns, report.approved, report.auto_approved, report.auto_approved_percent) == (
        4,
        4,
        1,
        Decimal("25.0"),
    )
    assert "Approved by policy: 1 of 4 approved returns (25.0%)." in response.content.decode()


def test_an_approval_by_a_person_is_not_counted_as_by_policy_even_with_the_same_note(shop):
    # Given a staff approval that happens to carry the policy's words
    line = delivered_line(shop, "mug", 1, delivered_at=shanghai(11, 10, 9))
    return_request = submit(shop, line, 1, reason="defect", at=shanghai(11, 10, 10))
    with travel(shanghai(11, 10, 11)):
        return_request_approve(return_request=return_request, actor=shop["supervisor"], note="Approved by policy.")

    # When the report is computed for that day
    report = returns_report(merchant=shop["merchant"], start=shanghai(11, 10, 0), end=shanghai(11, 11, 0))

    # Then the approval is a person's
    assert (report.approved, report.auto_approved) == (1, 0)


def test_the_period_is_whole_days_in_the_merchants_time_zone(client, shop):
    _login(client, shop["supervisor"])
    with travel(shanghai(12, 1, 12)):
        october = client.get(reverse("dashboard:returns_report"), {"start": "2026-10-31", "end": "2026-10-31"})
        first_of_november = client.get(
            reverse("dashboard:returns_report"), {"start": "2026-11-01", "end": "2026-11-01"}
        )

    assert october.context["report"].returns == 1  # 23:30 on the 31st, Shanghai time
    assert october.context["report"].delivered_units == 0
    first = first_of_november.context["report"]
    assert (first.returns, first.returned_units, first.delivered_units) == (1, 2, 15)
    assert (first.refund_time.count, first.refund_time.median_minutes) == (1, Decimal("60.0"))


def test_an_empty_period_shows_no_figures(client, shop):
    _login(client, shop["supervisor"])
    with travel(shanghai(12, 1, 12)):
        response = client.get(reverse("dashboard:returns_report"), {"start": "2026-09-01", "end": "2026-09-30"})

    report = response.context["report"]
    assert (report.refund_time.count, report.refund_time.median_minutes, report.refund_time.p90_minutes) == (
        0,
        None,
        None,
    )
    assert (report.by_product, report.by_reason, report.returns, report.auto_approved_percent) == ([], [], 0, None)
    html = response.content.decode()
    assert "Nothing was delivered or returned in this period." in html
    assert "No return submitted in this period was approved." in html


def test_another_merchants_returns_are_never_counted(client, shop, other_shop):
    ours = _report(client, shop["supervisor"]).context["report"]
    theirs_response = _report(client, other_shop["supervisor"])
    theirs = theirs_response.context["report"]

    assert (ours.refund_time.count, ours.returns, ours.delivered_units, ours.auto_approved) == (3, 4, 15, 1)
    assert (theirs.refund_time.count, theirs.refund_time.median_minutes) == (1, Decimal("10.0"))
    assert [(row.sku, row.delivered_units, row.returned_units) for row in theirs.by_product] == [("SOCKS", 7, 3)]
    assert [(row.name, row.returns) for row in theirs.by_reason] == [("Defective", 1)]
    assert (theirs.returns, theirs.approved, theirs.auto_approved) == (1, 1, 1)
    assert "Mug" not in theirs_response.content.decode()


def test_agents_may_not_see_the_report_nor_its_link(client, shop):
    with travel(shanghai(12, 1, 12)):
        refused = _login(client, shop["agent"]).get(reverse("dashboard:returns_report"))
        queue_for_agent = client.get(reverse("dashboard:queue"))
        queue_for_supervisor = _login(client, shop["supervisor"]).get(reverse("dashboard:queue"))

    assert refused.status_code == 403
    assert refused.templates[0].name == "dashboard/forbidden.html"
    assert "report" not in refused.context
    link = f'href="{reverse("dashboard:returns_report")}"'
    assert link not in queue_for_agent.content.decode()
    assert link in queue_for_supervisor.content.decode()


def test_the_report_needs_a_login(client):
    response = client.get(reverse("dashboard:returns_report"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboard:login"))


def test_a_period_that_ends_before_it_starts_is_refused_and_the_default_shown(client, shop):
    with travel(shanghai(11, 30, 12)):
        response = _login(client, shop["supervisor"]).get(
            reverse("dashboard:returns_report"), {"start": "2026-11-30", "end": "2026-11-01"}
        )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The period ends before it starts."]
    assert (response.context["first_day"].isoformat(), response.context["last_day"].isoformat()) == (
        "2026-11-01",
        "2026-11-30",
    )
    assert response.context["report"].returns == 4


# session, user, the memberships (with the switcher's); refund time, stage times, delivered units,
# returned units, reasons, resolutions, approvals, lost parcels
REPORT_QUERIES = 11


def test_the_report_costs_a_fixed_number_of_queries_however_many_returns(
    client, shop, other_shop, django_assert_num_queries
):
    _login(client, shop["supervisor"])
    with travel(shanghai(12, 1, 12)), django_assert_num_queries(REPORT_QUERIES):
        small = client.get(reverse("dashboard:returns_report"), {"start": "2026-11-01", "end": "2026-11-01"})
    with travel(shanghai(12, 1, 12)), django_assert_num_queries(REPORT_QUERIES):
        whole_month = client.get(reverse("dashboard:returns_report"), NOVEMBER)

    assert (small.context["report"].returns, whole_month.context["report"].returns) == (1, 4)
    assert ReturnRequest.objects.filter(merchant=shop["merchant"]).count() == 6
