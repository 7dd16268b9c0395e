"""The headings of the dispatch board and the KPI page on a phone (390×844) and a desktop
(1280×900), in Chinese and English: each heading stays on one line (it broke "关键指标" after every
second character and "Dispatch · 2026-06-01" over three lines, squeezed beside the day buttons
and the period), what stood beside it goes under it on a phone and stays beside it on a desktop,
and the page is no wider than the screen. No filter of the KPI page runs over its neighbour (its
two dates did, at 1280 px). Screenshots are kept in test-artifacts."""

import re
from pathlib import Path

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.tests.dispatch_factories import TechnicianFactory, working_calendar

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PAGES = {"dispatch": ("/dashboard/dispatch/", ".dispatch-days"), "kpi": ("/dashboard/reports/kpi/", "#kpi-period")}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _head(page, beside: str) -> dict:
    return page.evaluate(
        """(beside) => {
            const h1 = document.querySelector('.page-head h1');
            const other = document.querySelector(beside);
            const line = parseFloat(getComputedStyle(h1).lineHeight);
            const overflowing = [...document.querySelectorAll('.filters .field')].filter(field => {
                const input = field.querySelector('input, select');
                return input && input.getBoundingClientRect().right > field.getBoundingClientRect().right + 1;
            }).length;
            return {lines: Math.round(h1.getBoundingClientRect().height / line), overflowing,
                    below: other.getBoundingClientRect().top >= h1.getBoundingClientRect().bottom - 1,
                    width: document.documentElement.scrollWidth};
        }""",
        beside,
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_dispatch_and_kpi_headings_keep_to_one_line_on_a_phone_and_a_desktop(live_server, browser, language):
    # Given a supervisor of a merchant with a technician
    shop = MerchantFactory(slug=f"heads-{language}", timezone="Asia/Shanghai", default_language=language)
    TechnicianFactory(merchant=shop, calendar=working_calendar(shop))
    MembershipFactory(merchant=shop, user=UserFactory(username=f"sup-{language}"), role=Membership.Role.SUPERVISOR)
    ARTIFACTS.mkdir(exist_ok=True)

    found = {}
    for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=size)
        context.add_cookies([{"name": "aftersales_language", "value": language, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}/dashboard/login/")
        page.fill("input[name=username]", f"sup-{language}")
        page.fill("input[name=password]", "pass-word-123")
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/dashboard/"))
        for name, (path, beside) in PAGES.items():
            # When the page opens at this size
            page.goto(live_server.url + path)
            page.screenshot(path=str(ARTIFACTS / f"page-head-{name}-{language}-{size_name}.png"), full_page=True)
            found[name, size_name] = _head(page, beside)
        context.close()

    # Then every heading is one line; beside it on a desktop, under it on a phone; nothing overflows
    assert found == {
        ("dispatch", "phone"): {"lines": 1, "below": True, "width": 390, "overflowing": 0},
        ("kpi", "phone"): {"lines": 1, "below": True, "width": 390, "overflowing": 0},
        ("dispatch", "desktop"): {"lines": 1, "below": False, "width": 1280, "overflowing": 0},
        ("kpi", "desktop"): {"lines": 1, "below": False, "width": 1280, "overflowing": 0},
    }
