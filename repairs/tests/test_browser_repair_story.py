"""The on-site repair, end to end in a real browser (Debian's Chromium driven by Playwright): the
customer books a visit in the portal; the technician works it on a 390 × 844 phone (on my way,
check-in, photos before, diagnosis, part from the van, photos after, the customer's signature,
check-out); the customer approves the quote the office sent and confirms the result. Exact states,
amounts and events at each step; screenshots in ``test-artifacts/``."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from aftersales.models import Membership
from aftersales.services.orders import CustomerInput, OrderInput, OrderLineInput, order_upsert
from aftersales.tests.factories import MembershipFactory, MerchantFactory, ProductFactory, StoreFactory
from conftest import make_png_bytes
from repairs.models import (
    LocationKind,
    PartStock,
    RepairOrder,
    RepairStatus,
    Responsibility,
    Visit,
    VisitPhoto,
    VisitStatus,
)
from repairs.services import LineInput, repair_qc, repair_quote_send, repair_triage
from repairs.tests.dispatch_factories import TechnicianFactory, working_calendar
from repairs.tests.factories import (
    DiagnosisCodeFactory,
    PartStockFactory,
    RepairPolicyFactory,
    StockLocationFactory,
    WarrantyCoverageFactory,
    WarrantyTermFactory,
)
from tickets.models import TicketEvent, TicketStatus

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code_from_last_mail():
    found = re.search(r"^\s*(\d{6})\s*$", str(mail.outbox[-1].body), re.MULTILINE)
    assert found is not None, "no code in the last mail"
    return found.group(1)


def _submit(page, button):
    with page.expect_navigation():
        button.click()


def _verbs(repair, since):
    return list(
        TicketEvent.objects.filter(ticket_id=repair.ticket_id, pk__gt=since)
        .order_by("pk")
        .values_list("verb", flat=True)
    )


def _last_event(repair):
    return TicketEvent.objects.filter(ticket_id=repair.ticket_id).order_by("-pk").values_list("pk", flat=True).first()


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _shop(slug, language):
    """A tap sold a month ago with its serial; parts 12 months, labour and travel 6; a technician
    for postal code 200001 with a cartridge in their van."""
    merchant = MerchantFactory(name="Aqua Home", slug=slug, timezone="Asia/Shanghai", default_language=language)
    RepairPolicyFactory(merchant=merchant, sanbao_categories=["appliances"], tax_rate=Decimal("0.1300"))
    term = WarrantyTermFactory(merchant=merchant, name="Tap warranty", category="appliances")
    WarrantyCoverageFactory(term=term, kind="parts", months=12)
    WarrantyCoverageFactory(term=term, kind="labour", months=6)
    WarrantyCoverageFactory(term=term, kind="travel", months=6)
    ProductFactory(merchant=merchant, sku="TAP-1", name="Kitchen tap", category="appliances", serialized=True)
    now = timezone.now()
    order = order_upsert(
        merchant=merchant,
        data=OrderInput(
            store_id=StoreFactory(merchant=merchant).pk,
            number=f"AQ-{slug}",
            customer=CustomerInput(name="Li Wei", email=f"li.wei@{slug}.example.com", phone="+8613912345678"),
            lines=[
                OrderLineInput(
                    line_number="1",
                    sku="TAP-1",
                    name="Kitchen tap",
                    quantity=1,
                    unit_price=Decimal("899.00"),
                    serial_numbers=[f"TAP-{slug}"],
                )
            ],
            placed_at=now - timedelta(days=34),
            shipped_at=now - timedelta(days=33),
            delivered_at=now - timedelta(days=30),
        ),
    ).order
    technician = TechnicianFactory(
        merchant=merchant, skills={"appliances": 2}, areas=["200001"], calendar=working_calendar(merchant)
    )
    van = StockLocationFactory(merchant=merchant, name="Van 1", kind=LocationKind.VAN, holder=technician.user)
    stock = PartStockFactory(
        merchant=merchant,
        location=van,
        on_hand=3,
        part__name="Ceramic cartridge",
        part__part_number="CC-40",
        part__cost=Decimal("30.00"),
        part__price=Decimal("60.00"),
    )
    damage = DiagnosisCodeFactory(
        merchant=merchant,
        code="DMG",
        name="Cracked by a blow",
        responsibility=Responsibility.CUSTOMER,
        voids_warranty=True,
    )
    supervisor = MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    return merchant, order, technician, stock, damage, supervisor


def _walk(live_server, browser, *, slug, language, locale, labels):
    merchant, order, technician, stock, damage, supervisor = _shop(slug, language)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = lambda page, name: page.screenshot(path=str(ARTIFACTS / f"repair-{language}-{name}.png"), full_page=True)  # noqa: E731

    # 1. The customer proves the order and asks for an on-site repair of the tap
    customer = browser.new_page(locale=locale, viewport=PHONE, has_touch=True)
    customer.goto(f"{live_server.url}/portal/{slug}/")
    customer.fill("input[name=order_number]", order.external_number)
    customer.fill("input[name=contact]", order.customer.email)
    _submit(customer, customer.locator("form button[type=submit]").first)
    customer.fill("input[name=code]", _code_from_last_mail())
    _submit(customer, customer.locator("form button[type=submit]").first)
    customer.goto(f"{live_server.url}/portal/{slug}/orders/{order.pk}/")
    customer.locator(f"a[href='/portal/{slug}/repairs/lines/{order.lines.get().pk}/']").click()
    customer.wait_for_url(re.compile(r"/repairs/lines/\d+/$"))
    assert customer.locator("#repair-cost").inner_text().strip() == labels["free"]
    customer.fill("textarea[name=fault_description]", "The kitchen tap sprays water.")
    customer.check("input[name=mode][value=on_site]")
    customer.fill("input[name=address]", "12 Nanjing Road")
    customer.fill("input[name=district]", "Huangpu")
    customer.fill("input[name=postal_code]", "200001")
    _fits(customer)
    shot(customer, "1-request")
    _submit(customer, customer.locator("form[enctype] button[type=submit]"))
    repair = RepairOrder.objects.get(merchant=merchant)
    assert (repair.status, repair.mode, repair.serial_number) == (RepairStatus.REQUESTED, "on_site", f"TAP-{slug}")
    assert _verbs(repair, 0)[-1] == "repair_requested"

    # 2. The office's triage: in warranty (parts, labour and travel all covered a month in)
    mark = _last_event(repair)
    repair_triage(repair_order=repair, actor=supervisor)
    repair.refresh_from_db()
    assert repair.status == RepairStatus.IN_WARRANTY
    assert [c["covered"] for c in repair.eligibility["coverages"]] == [True, True, True]
    assert _verbs(repair, mark) == ["status_changed", "repair_triaged"]

    # 3. The customer picks the first free window
    customer.reload()
    _submit(customer, customer.locator("#repair-visit-link"))
    customer.locator("input[name=window_start]").first.check()
    _fits(customer)
    shot(customer, "2-slots")
    mark = _last_event(repair)
    _submit(customer, customer.locator("form.slot-picker button[type=submit]"))
    visit = Visit.objects.get(repair=repair)
    repair.refresh_from_db()
    assert (visit.status, visit.technician_id, repair.status) == (
        VisitStatus.BOOKED,
        technician.pk,
        RepairStatus.SCHEDULED,
    )
    assert _verbs(repair, mark) == ["visit_booked"]

    # 4. The technician, on a phone: on my way, check in, photos before, the diagnosis
    phone = browser.new_page(locale=locale, viewport=PHONE, has_touch=True)
    phone.goto(f"{live_server.url}/dashboard/login/")
    phone.fill("input[name=username]", technician.user.username)
    phone.fill("input[name=password]", "pass-word-123")
    _submit(phone, phone.locator("form button[type=submit]").first)
    day = visit.window_start.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    phone.goto(f"{live_server.url}/dashboard/my-day/?day={day}")
    card = phone.locator(f"#visit-{visit.pk}")
    assert card.get_by_text(f"TAP-{slug}").first.is_visible()
    _fits(phone)
    mark = _last_event(repair)
    _submit(phone, card.locator(f"form[action$='/visits/{visit.pk}/on-my-way/'] button"))
    _submit(phone, phone.locator(f"form[action$='/visits/{visit.pk}/check-in/'] button"))
    visit.refresh_from_db()
    repair.refresh_from_db()
    assert (visit.status, repair.status) == (VisitStatus.ON_SITE, RepairStatus.ON_SITE)
    assert _verbs(repair, mark) == ["visit_on_the_way", "visit_checked_in"]
    phone.locator(f"#photos-{visit.pk}-box > summary").click()
    photos = phone.locator(f"form[action$='/visits/{visit.pk}/photos/']")
    photos.locator("select[name=phase]").select_option("before")
    photos.locator("input[name=photos]").set_input_files(
        [{"name": "before.png", "mimeType": "image/png", "buffer": make_png_bytes((64, 48), (180, 40, 40))}]
    )
    _submit(phone, photos.locator("button[type=submit]"))
    phone.locator(f"form[action$='/visits/{visit.pk}/work/diagnosis/'] select[name=code]").select_option(str(damage.pk))
    phone.fill(f"form[action$='/visits/{visit.pk}/work/diagnosis/'] textarea[name=note]", "Cartridge cracked.")
    _submit(phone, phone.locator(f"form[action$='/visits/{visit.pk}/work/diagnosis/'] button"))
    repair.refresh_from_db()
    assert (repair.status, repair.diagnosis_code_id, repair.eligibility["voided_by_diagnosis"]) == (
        RepairStatus.DIAGNOSING,
        damage.pk,
        "DMG",
    )
    assert [p.phase for p in VisitPhoto.objects.filter(visit=visit)] == ["before"]
    assert phone.locator(f"#needs-quote-{visit.pk}").is_visible()
    _fits(phone)
    shot(phone, "3-technician-on-site")

    # 5. The office quotes the work the warranty no longer covers; the customer approves it
    mark = _last_event(repair)
    repair_quote_send(
        repair_order=repair,
        actor=supervisor,
        lines=[
            LineInput(kind="labour", description="Replace the cracked cartridge", unit_price=Decimal("100.00")),
            LineInput(kind="part", description="CC-40 Ceramic cartridge", unit_price=Decimal("60.00"), part=stock.part),
        ],
    )
    repair.refresh_from_db()
    quote = repair.quotes.get()
    assert (repair.status, quote.subtotal, quote.tax_amount, quote.total) == (
        RepairStatus.QUOTED,
        Decimal("160.00"),
        Decimal("20.80"),
        Decimal("180.80"),
    )
    customer.goto(f"{live_server.url}/portal/{slug}/tickets/{repair.ticket.number}/")
    assert "180.80" in customer.locator("#repair").inner_text()
    assert customer.locator("#repair-voided").inner_text().strip() == labels["voided"]
    _fits(customer)
    shot(customer, "4-quote")
    assert customer.locator("#repair-you-pay").count() == 0
    _submit(customer, customer.locator("form[action$='/quote/approve/'] button"))
    assert customer.locator("#repair-you-pay").inner_text().strip() == labels["you_pay"]
    repair.refresh_from_db()
    quote.refresh_from_db()
    assert (repair.status, quote.status) == (RepairStatus.IN_REPAIR, "approved")
    assert _verbs(repair, mark) == ["status_changed", "repair_quote_sent", "status_changed", "repair_quote_approved"]

    # 6. The technician fits a cartridge from the van, photographs the result, the customer signs
    phone.reload()
    assert phone.locator(f"form[action$='/visits/{visit.pk}/work/diagnosis/']").count() == 0
    mark = _last_event(repair)
    _submit(phone, phone.locator(f"form[action$='/visits/{visit.pk}/work/part/'] button"))
    assert PartStock.objects.get(pk=stock.pk).on_hand == 2
    phone.locator(f"#photos-{visit.pk}-box > summary").click()
    photos = phone.locator(f"form[action$='/visits/{visit.pk}/photos/']")
    photos.locator("select[name=phase]").select_option("after")
    photos.locator("input[name=photos]").set_input_files(
        [{"name": "after.png", "mimeType": "image/png", "buffer": make_png_bytes((64, 48), (40, 160, 40))}]
    )
    _submit(phone, photos.locator("button[type=submit]"))
    pad = phone.locator("[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + 100)
    phone.mouse.down()
    for step in range(1, 12):
        phone.mouse.move(box["x"] + 20 + step * 25, box["y"] + 100 - (step % 3) * 30)
    phone.mouse.up()
    phone.fill("textarea[name=work_note]", "Cartridge replaced; no more spray.")
    _fits(phone)
    shot(phone, "5-technician-sign")
    _submit(phone, phone.locator(f"form[action$='/visits/{visit.pk}/check-out/'] button[type=submit]"))
    visit.refresh_from_db()
    repair.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    assert visit.signature.name.startswith("repairs/signatures/")
    assert [p.phase for p in VisitPhoto.objects.filter(visit=visit).order_by("pk")] == ["before", "after"]
    lines = list(repair.lines.order_by("pk").values_list("kind", "description", "quantity", "unit_price", "coverage"))
    assert lines == [
        ("labour", "Replace the cracked cartridge", Decimal("1.00"), Decimal("100.00"), "customer"),
        ("part", "CC-40 Ceramic cartridge", Decimal("1.00"), Decimal("60.00"), "customer"),
    ]
    assert _verbs(repair, mark) == ["repair_parts_used", "note", "visit_checked_out"]

    # 7. The office's quality check passes: on site the tap is already back with the customer
    repair_qc(repair_order=repair, actor=supervisor, passed=True)
    repair.refresh_from_db()
    assert repair.status == RepairStatus.RETURNED

    # 8. The customer confirms the result
    customer.goto(f"{live_server.url}/portal/{slug}/tickets/{repair.ticket.number}/")
    mark = _last_event(repair)
    _submit(customer, customer.locator("form[action$='/confirm/'] button"))
    repair.refresh_from_db()
    assert repair.status == RepairStatus.CLOSED
    assert repair.ticket.status == TicketStatus.CLOSED
    assert _verbs(repair, mark) == ["status_changed", "repair_confirmed"]
    _fits(customer)
    shot(customer, "6-confirmed")

    # and the repair page shows the visit with its evidence
    office = browser.new_page(locale=locale, viewport=PHONE)
    office.goto(f"{live_server.url}/dashboard/login/")
    office.fill("input[name=username]", supervisor.username)
    office.fill("input[name=password]", "pass-word-123")
    _submit(office, office.locator("form button[type=submit]").first)
    office.goto(f"{live_server.url}/dashboard/tickets/{repair.ticket.number}/")
    assert office.locator(f"#repair-visit-{visit.pk} .visit-photo img").count() == 2
    assert office.locator(f"#repair-visit-{visit.pk} .visit-signature img").count() == 1
    shot(office, "7-repair-page")

    # and the managers' pages read on a phone: today's visits of the technician, the van holds 2
    office.goto(f"{live_server.url}/dashboard/technicians/")
    shanghai = ZoneInfo("Asia/Shanghai")
    today = visit.window_start.astimezone(shanghai).date() == timezone.now().astimezone(shanghai).date()
    assert office.locator(f"#technician-{technician.pk} .presence").inner_text().strip() == labels["presence"][today]
    _fits(office)
    shot(office, "8-technicians")
    office.goto(f"{live_server.url}/dashboard/stock/")
    assert office.locator(f"#stock-{stock.pk} td").nth(1).inner_text().strip() == "2"
    assert office.locator("#movements li").count() == 1  # the cartridge fitted on the repair
    _fits(office)
    shot(office, "9-stock")


def test_the_customer_books_the_technician_works_it_on_a_phone_and_the_customer_approves_and_confirms(
    live_server, browser, private_storage
):
    _walk(
        live_server,
        browser,
        slug="tap-story",
        language="en",
        locale="en-US",
        labels={
            "free": "This repair is free of charge, unless we find damage the warranty excludes.",
            "you_pay": "You pay: 180.80.",
            "voided": "The technician found damage the warranty does not cover (Cracked by a blow): "
            "the work needs your approval of a quote.",
            "presence": {True: "1 visit", False: "0 visits"},
        },
    )


def test_the_same_walk_in_chinese(live_server, browser, private_storage):
    _walk(
        live_server,
        browser,
        slug="tap-story-zh",
        language="zh-hans",
        locale="zh-CN",
        labels={
            "free": "此维修免费，除非我们发现保修除外的损坏。",
            "you_pay": "您需支付：180.80。",
            "voided": "技师发现了保修不覆盖的损坏（Cracked by a blow）：维修需要您先同意报价。",
            "presence": {True: "1 次上门", False: "0 次上门"},
        },
    )
