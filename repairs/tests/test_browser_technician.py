"""The technician's day on a phone (390 × 844) in a real browser: on my way, check-in, the
customer's signature drawn on the screen, check-out."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from aftersales.tests.factories import MerchantFactory
from repairs.models import Visit, VisitStatus
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_technician_works_a_visit_on_a_phone_and_the_customer_signs(live_server, browser, private_storage):
    # given: a visit of today for the technician
    shop = MerchantFactory(slug="phone-taps", timezone="Asia/Shanghai", default_language="en")
    technician = TechnicianFactory(merchant=shop, calendar=working_calendar(shop))
    repair = OnSiteRepairFactory(merchant=shop, serial_number="TAP-0042", contact_phone="+8613800000001")
    start = timezone.now().replace(minute=0, second=0, microsecond=0)
    visit = Visit.objects.create(
        merchant=shop,
        repair=repair,
        technician=technician,
        window_start=start,
        window_end=start + timedelta(hours=2),
        confirmation_code="123456",
    )
    repair.status = "scheduled"
    repair.save(update_fields=["status"])
    phone = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844}, has_touch=True)

    # when: the technician signs in and opens their day
    phone.goto(f"{live_server.url}/dashboard/login/")
    phone.fill("input[name=username]", technician.user.username)
    phone.fill("input[name=password]", "pass-word-123")
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_url(re.compile(r"/dashboard/"))
    phone.goto(f"{live_server.url}/dashboard/my-day/")
    assert phone.get_by_text("TAP-0042").first.is_visible()
    assert phone.get_by_role("link", name="+8613800000001").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    # on my way, then check in
    phone.get_by_role("button", name="On my way").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("The customer is told you are on the way.").is_visible()
    phone.get_by_role("button", name="Check in").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("Checked in.").is_visible()

    # the customer signs on the screen, the technician notes the work and checks out
    pad = phone.locator("[data-signature-pad]")
    box = pad.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + 100)
    phone.mouse.down()
    for step in range(1, 12):
        phone.mouse.move(box["x"] + 20 + step * 25, box["y"] + 100 - (step % 3) * 30)
    phone.mouse.up()
    phone.fill("textarea[name=work_note]", "Washer refitted; no more spray.")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_role("button", name="Check out").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("Visit finished.").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "technician-day-phone.png"), full_page=True)

    # then
    visit.refresh_from_db()
    repair.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    assert visit.checked_in_at is not None
    assert visit.checked_out_at >= visit.checked_in_at
    assert visit.work_note == "Washer refitted; no more spray."
    assert visit.signature.name.startswith("repairs/signatures/")
    assert (private_storage / visit.signature.name).read_bytes().startswith(b"\x89PNG")
    assert repair.status == "on_site"
