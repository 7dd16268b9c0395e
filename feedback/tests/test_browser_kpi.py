"""The KPI home in a real browser (Debian's Chromium driven by Playwright): ECharts, served from
the project's static files, draws every chart, on a desktop and on a phone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, ProductFactory
from feedback.selectors import period_of
from feedback.services import rollups_refresh
from feedback.tests.builders import claim, delivered, ticket_at
from repairs.models import RepairStatus, VisitStatus
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, VisitFactory
from returns.tests.factories import ReturnReasonFactory
from tickets.models import TicketKind, TicketStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ["refund_cycle", "volume", "sla", "backlog", "skus", "reasons", "technicians"]


def _drawn(page) -> dict[str, dict]:
    """Each chart's echarts instance and the size of what it drew."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(el => {
            const canvas = el.querySelector('canvas, svg');
            const box = canvas ? canvas.getBoundingClientRect() : {width: 0, height: 0};
            return [el.dataset.chart, {
                instance: !!window.echarts.getInstanceByDom(el),
                width: box.width, height: box.height,
            }];
        }))"""
    )


def test_the_kpi_home_draws_every_chart_on_a_desktop_and_on_a_phone(live_server, browser):
    # Given a merchant's month: cases opened and resolved, open backlog, a refunded return
    merchant = MerchantFactory.create(slug="kettle-co")
    supervisor = MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    now = timezone.now()
    for hours_ago in (5, 30, 80, 200):
        ticket_at(merchant, now - timedelta(hours=hours_ago), status=TicketStatus.OPEN)
    ticket_at(
        merchant,
        now - timedelta(days=2),
        kind=TicketKind.COMPLAINT,
        status=TicketStatus.RESOLVED,
        first_responded_at=now - timedelta(days=2) + timedelta(minutes=40),
        resolved_at=now - timedelta(days=1),
    )
    kettle = ProductFactory.create(merchant=merchant, sku="KETTLE-1")
    fault = ReturnReasonFactory.create(merchant=merchant, name="Stopped working", responsibility="merchant")
    line = delivered(merchant, kettle, 50, now - timedelta(days=6))
    claim(line, fault, 3, now - timedelta(days=4), paid_at=now - timedelta(days=2))
    # and an on-site repair a technician fixed at one visit, on time, yesterday
    technician = TechnicianFactory.create(merchant=merchant, user__username="ann")
    repair = OnSiteRepairFactory.create(
        merchant=merchant,
        ticket__status=TicketStatus.RESOLVED,
        status=RepairStatus.RETURNED,
        requested_at=now - timedelta(days=3),
        returned_at=now - timedelta(days=1),
    )
    VisitFactory.create(
        repair=repair,
        technician=technician,
        status=VisitStatus.COMPLETED,
        window_start=now - timedelta(days=1, hours=3),
        window_end=now - timedelta(days=1, hours=1),
        checked_in_at=now - timedelta(days=1, hours=2),
        checked_out_at=now - timedelta(days=1, hours=1),
    )
    first, last = period_of(merchant, days=30)
    rollups_refresh(merchant=merchant, first_day=first, last_day=last)

    for viewport in ({"width": 1400, "height": 900}, {"width": 390, "height": 844}):
        # When the supervisor opens the KPI home
        page = browser.new_page(locale="en-US", viewport=viewport)
        page.goto(f"{live_server.url}/dashboard/login/")
        page.fill("input[name=username]", supervisor.username)
        page.fill("input[name=password]", "pass-word-123")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/dashboard/$"))
        page.goto(f"{live_server.url}/dashboard/reports/kpi/")
        page.wait_for_function("() => window.kpiCharts && window.kpiCharts.length === 7")

        # Then every chart is drawn by echarts, at a non-zero size within the screen's width
        drawn = _drawn(page)
        assert sorted(drawn) == sorted(CHARTS)
        for chart, state in drawn.items():
            assert state["instance"], chart
            assert 0 < state["width"] <= viewport["width"], chart
            assert state["height"] > 0, chart
        # and the numbers are in the tables too
        backlog = page.locator("#backlog-table tbody tr")
        assert [backlog.nth(i).get_attribute("data-kind") for i in range(backlog.count())] == ["return", "support"]
        assert page.locator("#backlog-table tr[data-kind=support] td").all_inner_texts() == ["1", "1", "1", "1", "4"]
        assert page.locator("#sku-table tbody tr td").first.inner_text() == "KETTLE-1"
        assert page.locator("#technician-scorecards tbody th").all_inner_texts() == ["ann"]
        # with no horizontal scroll of the page, on a desktop as on a phone (the navigation wraps)
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.close()
