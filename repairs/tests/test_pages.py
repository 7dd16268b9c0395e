"""The repair box on the staff ticket page and its actions, the customer's repair pages in the
portal; each merchant's staff and customers see only their own."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from aftersales.portal import portal_grant
from repairs.models import QuoteStatus, RepairOrder, RepairStatus
from repairs.services import LineInput, repair_quote_send, repair_triage
from repairs.tests.builders import build_world, request_repair
from repairs.tests.factories import ServiceCentreFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
A_MONTH_ON = datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI)
TWO_YEARS_ON = datetime(2028, 3, 20, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def month_on():
    with time_machine.travel(A_MONTH_ON, tick=False):
        yield


def _portal_client(client, order):
    """A browser that proved the order (as the one-time code does)."""
    session = client.session
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = session
    portal_grant(request, merchant=order.merchant, order=order)
    request.session.save()
    client.cookies["sessionid"] = request.session.session_key
    return client


@pytest.mark.usefixtures("month_on")
def test_the_staff_ticket_page_shows_the_repair_box_and_an_action_moves_the_repair(client, world):
    repair = request_repair(world)
    client.force_login(world.agent)
    page = client.get(reverse("dashboard:ticket", args=[repair.ticket.number]))

    response = client.post(reverse("dashboard:repair_action", args=[repair.ticket.number, "triage"]), {"outcome": ""})

    assert page.status_code == 200
    assert b'id="repair"' in page.content
    assert "In warranty until the end of 2027-03-10." in page.content.decode()
    assert response.status_code == 302
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.AWAITING_DEVICE


@pytest.mark.usefixtures("month_on")
def test_a_refused_action_shows_its_message_and_changes_nothing(client, world):
    repair = request_repair(world)
    client.force_login(world.agent)

    response = client.post(
        reverse("dashboard:repair_action", args=[repair.ticket.number, "qc"]), {"passed": "1"}, follow=True
    )

    assert "Only a repair that is done is checked." in response.content.decode()
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.REQUESTED


@pytest.mark.usefixtures("month_on")
def test_another_merchants_staff_get_a_404_for_the_repair_action(client, world):
    other = build_world(slug="other-shop", serial="OTHER-1")
    repair = request_repair(world)
    client.force_login(other.agent)

    response = client.post(reverse("dashboard:repair_action", args=[repair.ticket.number, "triage"]), {})

    assert response.status_code == 404
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.REQUESTED


@pytest.mark.usefixtures("month_on")
def test_the_customer_sees_the_warranty_before_requesting_and_requests_a_carry_in_repair(client, world, png_upload):
    centre = ServiceCentreFactory(merchant=world.merchant, name="Xuhui centre")
    _portal_client(client, world.order)
    url = reverse("portal:repair_request", args=[world.merchant.slug, world.line.pk])

    page = client.get(url)
    response = client.post(
        url,
        {
            "fault_description": "The tap sprays water from the base.",
            "serial_number": "TAP-0001",
            "remedy_wanted": "repair",
            "mode": "service_centre",
            "service_centre": centre.pk,
            "photos": [png_upload()],
        },
    )

    assert page.status_code == 200
    assert "This repair is free of charge" in page.content.decode()
    assert "Labour: In warranty until the end of 2026-09-10." in page.content.decode()
    repair = RepairOrder.objects.get(merchant=world.merchant)
    assert response.status_code == 302
    assert (repair.mode, repair.service_centre, repair.serial_number) == ("service_centre", centre, "TAP-0001")
    assert repair.ticket.attachments.count() == 1


def test_the_customer_approves_a_quote_from_the_case_page(client, world):
    with time_machine.travel(TWO_YEARS_ON, tick=False):
        repair = request_repair(world)
        repair_triage(repair_order=repair, actor=world.agent)
        quote = repair_quote_send(
            repair_order=repair,
            actor=world.agent,
            lines=[LineInput(kind="labour", description="New valve", unit_price=Decimal("100.00"))],
        )
        _portal_client(client, world.order)
        page = client.get(reverse("portal:ticket", args=[world.merchant.slug, repair.ticket.number]))

        client.post(reverse("portal:repair_quote", args=[world.merchant.slug, repair.ticket.number, "approve"]))

    assert "total 113.00" in page.content.decode()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.AWAITING_DEVICE


@pytest.mark.usefixtures("month_on")
def test_a_portal_session_of_another_order_cannot_request_or_answer_for_this_one(client, world):
    other = build_world(slug="other-shop", serial="OTHER-1")
    repair = request_repair(world)
    _portal_client(client, other.order)

    request_page = client.get(reverse("portal:repair_request", args=[world.merchant.slug, world.line.pk]))
    answer = client.post(reverse("portal:repair_confirm", args=[other.merchant.slug, repair.ticket.number]))

    assert request_page.status_code in (302, 404)
    assert answer.status_code == 404


@pytest.mark.usefixtures("month_on")
def test_the_customer_registers_a_serial_with_a_receipt_photo(client, world, png_upload):
    _portal_client(client, world.order)
    url = reverse("portal:repair_registrations", args=[world.merchant.slug])

    response = client.post(
        url,
        {"product": world.product.pk, "serial_number": "TAP-0042", "purchased_on": "2026-04-01", "proof": png_upload()},
        follow=True,
    )

    assert response.status_code == 200
    assert "TAP-0042" in response.content.decode()
    assert world.customer.registrations.filter(serial_number="TAP-0042", status="pending_proof").count() == 1


def test_the_signed_link_in_the_quote_message_shows_the_quote_and_records_only_on_post(client, world):
    with time_machine.travel(TWO_YEARS_ON, tick=False):
        repair = request_repair(world)
        repair_triage(repair_order=repair, actor=world.agent)
        quote = repair_quote_send(
            repair_order=repair,
            actor=world.agent,
            lines=[LineInput(kind="labour", description="New valve", unit_price=Decimal("100.00"))],
        )
        from aftersales.models import Notification

        message = Notification.objects.filter(ticket_id=repair.ticket_id, template="repair_quote").first()
        link = message.context["quote_url"]
        path = link.split("://", 1)[-1].split("/", 1)[-1]

        opened = client.get("/" + path)
        assert QuoteStatus(RepairOrder.objects.get(pk=repair.pk).quotes.get().status) == QuoteStatus.SENT
        answered = client.post("/" + path, {"answer": "decline", "reason": "Too dear"})
        forged = client.get("/" + path[:-3] + "abc/")

    assert opened.status_code == 200
    assert "total 113.00" in opened.content.decode()
    assert answered.status_code == 302
    quote.refresh_from_db()
    assert (quote.status, quote.decline_reason) == (QuoteStatus.DECLINED, "Too dear")
    assert forged.status_code == 404


def test_a_signed_link_opened_under_another_merchant_is_a_404(client, world):
    other = build_world(slug="other-shop", serial="OTHER-1")
    with time_machine.travel(TWO_YEARS_ON, tick=False):
        repair = request_repair(world)
        repair_triage(repair_order=repair, actor=world.agent)
        quote = repair_quote_send(
            repair_order=repair,
            actor=world.agent,
            lines=[LineInput(kind="labour", description="New valve", unit_price=Decimal("100.00"))],
        )
        from repairs.links import quote_token

        response = client.get(reverse("portal:repair_quote_link", args=[other.merchant.slug, quote_token(quote)]))

    assert response.status_code == 404


@pytest.mark.usefixtures("month_on")
def test_the_staff_box_lists_the_parts_reserved_for_the_repair(client, world):
    from repairs.services import part_reserve, repair_device_receive
    from repairs.tests.factories import PartStockFactory

    stock = PartStockFactory(merchant=world.merchant, on_hand=3, part__name="Ceramic cartridge")
    repair = request_repair(world)
    repair_triage(repair_order=repair, actor=world.agent)
    repair_device_receive(repair_order=repair, actor=world.technician)
    part_reserve(repair_order=repair, stock=stock, quantity=2, actor=world.technician)
    client.force_login(world.agent)

    page = client.get(reverse("dashboard:ticket", args=[repair.ticket.number]))

    assert "2 × " in page.content.decode()
    assert "Ceramic cartridge" in page.content.decode()
