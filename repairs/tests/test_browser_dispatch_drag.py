"""The dispatch board in a real browser: a supervisor drags a visit from one technician's row to
another's, and an unassigned job onto a row; each drop posts the visit's own assign form (CSRF
included) and the visit's technician changes. The click forms stay for keyboards and phones."""

import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.models import Visit
from repairs.services.dispatch import visit_assign, visit_book
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_drags_visits_onto_technicians_rows(live_server, browser):
    # given: tomorrow, a visit of Anna's and a visit nobody has yet
    shop = MerchantFactory(slug="drag-taps", timezone="Asia/Shanghai", default_language="en")
    calendar = working_calendar(shop)
    anna = TechnicianFactory(merchant=shop, calendar=calendar, user__first_name="Anna", user__username="anna")
    bo = TechnicianFactory(merchant=shop, calendar=calendar, user__first_name="Bo", user__username="bo")
    supervisor = UserFactory(username="sup")
    MembershipFactory(merchant=shop, user=supervisor, role=Membership.Role.SUPERVISOR)
    zone = ZoneInfo("Asia/Shanghai")
    day = timezone.now().astimezone(zone).date() + timedelta(days=1)
    first = visit_book(
        repair=OnSiteRepairFactory(merchant=shop),
        window_start=datetime.combine(day, time(10), tzinfo=zone),
        actor_user=supervisor,
    )
    first = visit_assign(visit=first, actor=supervisor, technician=anna)
    second = visit_book(
        repair=OnSiteRepairFactory(merchant=shop),
        window_start=datetime.combine(day, time(14), tzinfo=zone),
        actor_user=supervisor,
    )
    second = visit_assign(visit=second, actor=supervisor, technician=None)
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("input[name=username]", "sup")
    page.fill("input[name=password]", "pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/"))
    page.goto(f"{live_server.url}/dashboard/dispatch/?day={day.isoformat()}")
    bo_row = page.locator(f'[data-drop-technician="{bo.pk}"]')
    anna_row = page.locator(f'[data-drop-technician="{anna.pk}"]')

    # when: Anna's visit is dragged onto Bo's row
    page.locator(f'[data-drag-visit="{first.pk}"]').drag_to(bo_row)
    page.get_by_text("Visit assigned.").wait_for()
    moved = page.locator(f'[data-drop-technician="{bo.pk}"] [data-drag-visit="{first.pk}"]').count()
    # and the unassigned job onto Anna's row
    # (held by its case number: its form's fields take the mouse for themselves)
    page.locator(f'[data-drag-visit="{second.pk}"]').drag_to(anna_row, source_position={"x": 12, "y": 10})
    page.locator(f'[data-drop-technician="{anna.pk}"] [data-drag-visit="{second.pk}"]').wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dispatch-board-drag.png"), full_page=True)

    # then
    assert moved == 1
    assert Visit.objects.get(pk=first.pk).technician_id == bo.pk
    assert Visit.objects.get(pk=second.pk).technician_id == anna.pk
    assert page.locator(f'[data-drop-technician="{anna.pk}"] [data-drag-visit="{second.pk}"]').count() == 1
    assert page.locator(f'[data-drop-technician="{bo.pk}"] [data-drag-visit="{first.pk}"]').count() == 1
