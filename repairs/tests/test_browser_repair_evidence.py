"""The repair page's new surfaces in a real browser (Debian's Chromium): the quote form's part
picker searching the merchant's catalogue and filling a part's description and price; the visit's
evidence with the customer's signature and a short video. Screenshots in ``test-artifacts/``."""

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile

from repairs.models import LineKind, RepairLine, RepairOrder, RepairStatus
from repairs.services import repair_triage, visit_photos_add
from repairs.services.dispatch import visit_book, visit_check_in, visit_check_out
from repairs.tests.builders import build_world, request_repair
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar
from repairs.tests.factories import PartFactory
from repairs.tests.test_visit_signature import signature_png, supervisor_of
from tickets.tests.videos import video_upload

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/dashboard/"))


def test_staff_pick_a_part_for_a_quote_from_the_catalogue(live_server, browser):
    # given: a repair out of warranty (two years on) and a catalogue with a part that fits the tap
    world = build_world()
    with time_machine.travel(datetime(2028, 3, 20, 10, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        repair = request_repair(world)
        repair_triage(repair_order=repair, actor=world.agent)
    cartridge = PartFactory(
        merchant=world.merchant, part_number="CART-40", name="Ceramic cartridge 40 mm", cost="20.00", price="65.00"
    )
    cartridge.compatible_products.add(world.product)
    PartFactory(merchant=world.merchant, part_number="CART-35", name="Ceramic cartridge 35 mm", price="60.00")
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
    _log_in(page, live_server, world.agent.username)
    page.goto(f"{live_server.url}/dashboard/tickets/{repair.ticket.number}/#repair")

    # when: staff type labour, search the catalogue for a part and keep its catalogue price
    page.get_by_text("Send a quote", exact=True).first.click()
    page.fill("#id_quote_description_1", "Labour")
    page.fill("#id_quote_price_1", "80.00")
    part = page.locator("#id_quote_part_number_1")
    part.click()
    part.press_sequentially("cart", delay=30)
    page.wait_for_function("document.querySelectorAll('#quote-parts option').length === 2")
    options = page.eval_on_selector_all("#quote-parts option", "els => els.map(e => e.value + ' ' + e.label)")
    part.fill("CART-40")
    page.wait_for_function("document.querySelector('#id_quote_part_price_1').value === '65.00'")
    description = page.input_value("#id_quote_part_description_1")
    page.fill("#id_quote_part_quantity_1", "2")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#repair").screenshot(path=str(ARTIFACTS / "repair-quote-part-picker.png"))
    with page.expect_navigation():
        page.get_by_role("button", name="Send a quote").click()

    # then
    assert options == [
        "CART-40 Ceramic cartridge 40 mm · 65.00 · fits this product",
        "CART-35 Ceramic cartridge 35 mm · 60.00",
    ]
    assert description == "Ceramic cartridge 40 mm"
    assert page.get_by_text("Quote sent to the customer.").is_visible()
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.QUOTED
    lines = list(RepairLine.objects.filter(repair_order=repair).order_by("pk"))
    assert [(line.kind, line.part_id, line.quantity, line.unit_price) for line in lines] == [
        (LineKind.LABOUR, None, Decimal("1.00"), Decimal("80.00")),
        (LineKind.PART, cartridge.pk, Decimal("2.00"), Decimal("65.00")),
    ]


def test_the_repair_page_shows_the_signature_and_plays_the_visit_video(live_server, browser, private_storage):
    # given: a visit checked out with the customer's signature, with a short video as evidence
    world = build_world(slug="evidence-shop")
    technician = TechnicianFactory(merchant=world.merchant, calendar=working_calendar(world.merchant))
    window = datetime(2026, 6, 1, 14, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(window, tick=False):
        visit = visit_book(repair=OnSiteRepairFactory(merchant=world.merchant), window_start=window)
        visit_check_in(visit=visit, actor=technician.user)
        visit_photos_add(visit=visit, actor=technician.user, phase="after", files=[video_upload("works.mp4")])
        visit_check_out(visit=visit, actor=technician.user, signature=ContentFile(signature_png()))
    supervisor = supervisor_of(world.merchant)
    page = browser.new_page(locale="en-US", viewport={"width": 390, "height": 844})
    _log_in(page, live_server, supervisor.username)

    # when
    page.goto(f"{live_server.url}/dashboard/tickets/{visit.repair.ticket.number}/#repair")
    signature = page.locator(".visit-signature img")
    signature.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('.visit-signature img').naturalWidth > 0")
    page.locator(f"#repair-visit-{visit.pk}").screenshot(path=str(ARTIFACTS / "repair-visit-evidence-phone.png"))

    # then: the signature loaded through the authorised download, the video is a <video> of the page
    assert signature.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [120, 48]
    assert page.locator(f"#repair-visit-{visit.pk} video[controls]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
