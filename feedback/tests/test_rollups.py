"""The KPI rollups (feedback.services.rollups) and what the KPI home reads from them."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, ProductFactory, StoreFactory
from feedback.models import ReturnDailyRollup, TicketDailyRollup
from feedback.selectors import KpiFilters, kpi_home
from feedback.services import rollups_refresh
from feedback.tests.builders import claim, delivered, local, reopen, reply, sla_clock, ticket_at
from returns.models import ReturnStatus
from returns.tests.factories import ReturnReasonFactory
from tickets.models import TicketKind, TicketStatus

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)
NEXT = DAY + timedelta(days=1)


@pytest.fixture
def desk():
    merchant = MerchantFactory.create(timezone="Asia/Shanghai")
    agent = MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user
    store = StoreFactory.create(merchant=merchant)
    # Answered in 30 minutes, resolved in 3 hours with one reply: resolved at first contact.
    quick = ticket_at(
        merchant,
        local(2026, 3, 10, 9),
        assignee=agent,
        store=store,
        status=TicketStatus.RESOLVED,
        first_responded_at=local(2026, 3, 10, 9, 30),
        resolved_at=local(2026, 3, 10, 12),
    )
    reply(quick, local(2026, 3, 10, 9, 30))
    sla_clock(quick, "first_response", due_at=local(2026, 3, 10, 10), met_at=local(2026, 3, 10, 9, 30))
    # A complaint answered in 2 hours, still open; its first-response clock breached.
    complaint = ticket_at(
        merchant,
        local(2026, 3, 10, 11),
        kind=TicketKind.COMPLAINT,
        assignee=agent,
        status=TicketStatus.OPEN,
        first_responded_at=local(2026, 3, 10, 13),
    )
    sla_clock(complaint, "first_response", due_at=local(2026, 3, 10, 12), met_at=None)
    # Resolved the next day after two replies, then reopened: neither first-contact nor closed.
    slow = ticket_at(
        merchant,
        local(2026, 3, 10, 23, 30),
        status=TicketStatus.RESOLVED,
        resolved_at=local(2026, 3, 11, 10),
    )
    reply(slow, local(2026, 3, 11, 9))
    reply(slow, local(2026, 3, 11, 10))
    reopen(slow, local(2026, 3, 11, 15))
    return {"merchant": merchant, "agent": agent, "store": store}


def _refresh(merchant, first=DAY, last=NEXT):
    return rollups_refresh(merchant=merchant, first_day=first, last_day=last)


def test_a_refresh_counts_each_fact_on_the_merchants_day_it_happened(desk):
    # When the two days are refreshed
    _refresh(desk["merchant"])

    # Then the home for the first day counts three opened (23:30 Shanghai is still the 10th),
    # one resolved at first contact, and the first-response clocks
    home = kpi_home(merchant=desk["merchant"], filters=KpiFilters(start=DAY, end=DAY), backlog_ages=[])
    assert home.totals.counts["created"] == 3
    assert home.totals.counts["resolved"] == 1
    assert home.totals.counts["first_contact_resolved"] == 1
    assert home.totals.counts["reopened"] == 0
    assert home.totals.first_contact_resolution_percent == Decimal("100.0")
    assert [(f.target, f.met, f.breached, f.percent) for f in home.totals.sla] == [
        ("first_response", 1, 1, Decimal("50.0")),
        ("next_response", 0, 0, None),
        ("resolution", 0, 0, None),
    ]
    # 30 and 120 minutes, read from the histogram's buckets [30, 45) and [120, 180)
    assert home.totals.first_response.count == 2
    assert home.totals.first_response.median_minutes == Decimal("45.0")
    assert home.totals.first_response.p90_minutes == Decimal("168.0")
    assert home.totals.resolution.count == 1
    # 180 minutes, alone in [180, 240): its median is read at the bucket's middle
    assert home.totals.resolution.median_minutes == Decimal("210.0")
    assert home.complaints == 1


def test_the_next_day_counts_the_slow_resolution_and_its_reopen(desk):
    _refresh(desk["merchant"])

    home = kpi_home(merchant=desk["merchant"], filters=KpiFilters(start=NEXT, end=NEXT), backlog_ages=[])

    assert home.totals.counts["created"] == 0
    assert home.totals.counts["resolved"] == 1
    assert home.totals.counts["first_contact_resolved"] == 0
    assert home.totals.counts["reopened"] == 1
    assert home.totals.reopen_percent == Decimal("100.0")


def test_filters_by_store_and_agent_read_only_their_cases(desk):
    _refresh(desk["merchant"])

    by_store = kpi_home(
        merchant=desk["merchant"],
        filters=KpiFilters(start=DAY, end=NEXT, store_id=desk["store"].pk),
        backlog_ages=[],
    )
    by_agent = kpi_home(
        merchant=desk["merchant"],
        filters=KpiFilters(start=DAY, end=NEXT, agent_id=desk["agent"].pk),
        backlog_ages=[],
    )
    complaints = kpi_home(
        merchant=desk["merchant"], filters=KpiFilters(start=DAY, end=NEXT, kind="complaint"), backlog_ages=[]
    )

    assert by_store.totals.counts["created"] == 1
    assert by_agent.totals.counts["created"] == 2
    assert complaints.totals.counts["created"] == 1
    assert [(card.agent_id, card.figures.counts["resolved"]) for card in by_agent.scorecards] == [(desk["agent"].pk, 1)]


def test_a_second_refresh_leaves_the_same_rows(desk):
    _refresh(desk["merchant"])
    columns = ("day", "kind", "agent_id", "created", "resolved", "first_response_minutes")
    first = list(TicketDailyRollup.objects.order_by("day", "kind", "agent_id").values_list(*columns))

    _refresh(desk["merchant"])

    assert list(TicketDailyRollup.objects.order_by("day", "kind", "agent_id").values_list(*columns)) == first
    assert len(first) == 4


def test_another_merchants_cases_never_reach_the_rollups_or_the_home(desk):
    # Given another merchant's ticket on the same day
    other = MerchantFactory.create()
    ticket_at(other, local(2026, 3, 10, 9))

    # When both are refreshed
    _refresh(desk["merchant"])
    _refresh(other)

    # Then each home counts its own
    ours = kpi_home(merchant=desk["merchant"], filters=KpiFilters(start=DAY, end=NEXT), backlog_ages=[])
    theirs = kpi_home(merchant=other, filters=KpiFilters(start=DAY, end=NEXT), backlog_ages=[])
    assert ours.totals.counts["created"] == 3
    assert theirs.totals.counts["created"] == 1


def test_refund_cycle_and_return_rates_by_sku_and_reason():
    # Given 100 units delivered, of which 6 asked back for a fault and 4 as not wanted; the fault
    # return refunded 2 days after it was submitted, and a cancelled return that does not count
    merchant = MerchantFactory.create()
    kettle = ProductFactory.create(merchant=merchant, sku="KETTLE-1")
    fault = ReturnReasonFactory.create(merchant=merchant, name="Stopped working", responsibility="merchant")
    unwanted = ReturnReasonFactory.create(merchant=merchant, name="Not wanted", responsibility="customer")
    line = delivered(merchant, kettle, 100, local(2026, 3, 1))
    claim(line, fault, 6, local(2026, 3, 8, 10), paid_at=local(2026, 3, 10, 10))
    claim(line, unwanted, 4, local(2026, 3, 9, 10))
    claim(line, unwanted, 5, local(2026, 3, 9, 11), status=ReturnStatus.CANCELLED)

    # When March is refreshed
    rollups_refresh(merchant=merchant, first_day=date(2026, 3, 1), last_day=date(2026, 3, 31))

    # Then the home shows a 10 % return rate for the SKU, split by reason, and a 2-day refund
    home = kpi_home(
        merchant=merchant, filters=KpiFilters(start=date(2026, 3, 1), end=date(2026, 3, 31)), backlog_ages=[]
    )
    assert [(s.sku, s.delivered_units, s.returned_units, s.rate_percent) for s in home.skus] == [
        ("KETTLE-1", 100, 10, Decimal("10.0"))
    ]
    assert [(r.name, r.returned_units, r.percent_of_returns) for r in home.reasons] == [
        ("Stopped working", 6, Decimal("60.0")),
        ("Not wanted", 4, Decimal("40.0")),
    ]
    assert home.return_rate_percent == Decimal("10.0")
    assert home.totals.refund_cycle.count == 1
    # 2,880 minutes: the bucket [2880, 4320)
    refund_day = next(day for day in home.days if day.day == date(2026, 3, 10))
    assert refund_day.figures.refund_cycle.count == 1
    assert ReturnDailyRollup.objects.filter(merchant=merchant).count() == 3


def test_the_home_reads_a_fixed_number_of_queries_whatever_the_period(desk):
    _refresh(desk["merchant"])

    def queries(days: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            kpi_home(
                merchant=desk["merchant"],
                filters=KpiFilters(start=DAY, end=DAY + timedelta(days=days)),
                backlog_ages=[],
            )
        return len(captured)

    assert queries(1) == queries(90)
