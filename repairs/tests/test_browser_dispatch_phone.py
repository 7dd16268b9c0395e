"""The dispatch board on a phone (390×844, Chinese): the hour scale stays readable (each hour at
least as wide as its label, so "07:00" and "08:00" do not run into each other) and the board
scrolls sideways inside its own box; the page is no wider than the screen. The screenshot is
kept in test-artifacts."""

import re
from pathlib import Path

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.tests.dispatch_factories import TechnicianFactory, working_calendar

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dispatch_board_keeps_its_hours_readable_on_a_phone(live_server, browser):
    # Given a merchant with a technician and a supervisor
    shop = MerchantFactory(slug="phone-taps", timezone="Asia/Shanghai", default_language="zh-hans")
    TechnicianFactory(merchant=shop, calendar=working_calendar(shop), user__first_name="安娜")
    MembershipFactory(merchant=shop, user=UserFactory(username="sup-phone"), role=Membership.Role.SUPERVISOR)

    # When the supervisor opens the board on a phone
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("input[name=username]", "sup-phone")
    page.fill("input[name=password]", "pass-word-123")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/dashboard/"))
    page.goto(f"{live_server.url}/dashboard/dispatch/")
    page.locator(".dispatch-hour").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-dispatch-phone.png"), full_page=True)

    # Then no hour label is wider than its hour, the board scrolls, and the page fits the phone
    squeezed = page.evaluate(
        "[...document.querySelectorAll('.dispatch-hour')].filter(h => h.scrollWidth > h.clientWidth + 1).length"
    )
    assert squeezed == 0
    assert page.locator(".dispatch__board").evaluate("el => el.scrollWidth > el.clientWidth") is True
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
