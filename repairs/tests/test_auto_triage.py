"""Issue 11's hand-offs: when the merchant's rule allows, a covered request is triaged by the system
and reaches a scheduled technician in the customer's one submission, with no person relaying it;
anything else waits for staff with the reason on the timeline."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.models import Notification
from aftersales.portal import portal_grant
from aftersales.services.orders import CustomerInput, OrderInput, OrderLineInput, order_upsert
from aftersales.tests.factories import api_key_for
from repairs.models import (
    DispatchPolicy,
    RepairMode,
    RepairOrder,
    RepairStatus,
    Visit,
    VisitStatus,
    WarrantyRegistration,
)
from repairs.selectors.dispatch import ServiceNeed, available_slots
from repairs.services import repair_request_create
from repairs.services.dispatch import visit_book
from repairs.tests.builders import World, build_world, request_repair
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar
from repairs.tests.factories import ServiceCentreFactory
from tickets.models import TicketEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A month after delivery: parts and labour in warranty, 三包 free repair.
A_MONTH_ON = datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI)
TWO_YEARS_ON = datetime(2028, 3, 20, 10, 0, tzinfo=SHANGHAI)
POSTAL_CODE = "200030"


@pytest.fixture
def month_on():
    with time_machine.travel(A_MONTH_ON, tick=False):
        yield


def _auto(world: World, on: bool = True) -> None:
    world.policy.auto_triage = on
    world.policy.save(update_fields=["auto_triage"])


def _technician(world: World):
    """One technician for taps ("appliances") around postal code 200030, one visit per window."""
    DispatchPolicy.objects.get_or_create(merchant=world.merchant, defaults={"visits_per_window": 1})
    return TechnicianFactory(
        merchant=world.merchant,
        skills={"appliances": 1},
        areas=[POSTAL_CODE],
        calendar=working_calendar(world.merchant),
    )


def _first_window(world: World) -> datetime:
    need = ServiceNeed.at_address(world.product, postal_code=POSTAL_CODE, district="")
    return available_slots(world.merchant, need, now=datetime.now(tz=SHANGHAI), limit=1)[0].start


def _portal(client, world: World):
    request = RequestFactory().get("/")
    request.session = client.session
    portal_grant(request, merchant=world.merchant, order=world.order)
    request.session.save()
    client.cookies["sessionid"] = request.session.session_key
    return client


def _form(world: World, **fields) -> dict:
    return {
        "fault_description": "The kitchen tap sprays water.",
        "serial_number": "TAP-0001",
        "remedy_wanted": "repair",
        "mode": "on_site",
        "address": "8 Fuxing Road, Xuhui",
        "district": "Xuhui",
        "postal_code": POSTAL_CODE,
        **fields,
    }


def _verbs(repair: RepairOrder) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=repair.ticket).order_by("pk").values_list("verb", flat=True))


def _messages(repair: RepairOrder) -> list[tuple[str, str]]:
    """The customer's messages as (template, channel): the customer has an e-mail and a phone."""
    return sorted(
        Notification.objects.filter(ticket=repair.ticket, recipient_user__isnull=True)
        .exclude(channel=Notification.Channel.WEBHOOK)
        .values_list("template", "channel")
    )


def _told_once(template: str) -> list[tuple[str, str]]:
    return [(template, "email"), (template, "sms")]


def _request_url(world: World) -> str:
    return reverse("portal:repair_request", args=[world.merchant.slug, world.line.pk])


@pytest.mark.usefixtures("month_on")
def test_a_covered_portal_request_reaches_a_scheduled_technician_with_no_staff_action(client, world):
    # given: the merchant lets the system triage, a technician serves the address
    _auto(world)
    technician = _technician(world)
    window = _first_window(world)
    _portal(client, world)

    # when: the customer sends the request with the window chosen on the same form
    form_page = client.get(_request_url(world), {"postal_code": POSTAL_CODE})
    response = client.post(_request_url(world), _form(world, window_start=window.isoformat()))

    # then: created, triaged by the system and booked in one go
    assert form_page.status_code == 200
    assert window.isoformat() in form_page.content.decode()
    repair = RepairOrder.objects.get(merchant=world.merchant)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:ticket", args=[world.merchant.slug, repair.ticket.number])
    assert repair.status == RepairStatus.SCHEDULED
    visit = Visit.objects.get(repair=repair)
    assert (visit.technician_id, visit.window_start, visit.status) == (technician.pk, window, VisitStatus.BOOKED)
    assert _verbs(repair) == [
        "created",
        "repair_requested",
        "status_changed",
        "repair_triaged",
        "visit_booked",
    ]
    triaged = TicketEvent.objects.get(ticket=repair.ticket, verb="repair_triaged")
    assert (triaged.actor_user_id, triaged.actor_customer_id) == (None, None)
    assert (triaged.data["automatic"], triaged.data["rule"], triaged.data["outcome"]) == (
        True,
        "auto_triage",
        "in_warranty",
    )
    booked = TicketEvent.objects.get(ticket=repair.ticket, verb="visit_booked")
    assert booked.actor_customer_id == world.customer.pk
    # told once: the visit's message, not "requested", "triaged" and "booked"
    assert _messages(repair) == _told_once("repair_visit_booked")
    repair.ticket.refresh_from_db()
    assert repair.ticket.status == "open"


@pytest.mark.usefixtures("month_on")
def test_with_the_rule_off_the_request_waits_for_staff_and_the_window_is_not_booked(client, world):
    # given
    _technician(world)
    window = _first_window(world)
    _portal(client, world)

    # when
    form_page = client.get(_request_url(world), {"postal_code": POSTAL_CODE})
    response = client.post(_request_url(world), _form(world, window_start=window.isoformat()))

    # then
    assert 'id="visit-times"' not in form_page.content.decode()
    repair = RepairOrder.objects.get(merchant=world.merchant)
    assert response.status_code == 302
    assert repair.status == RepairStatus.REQUESTED
    assert Visit.objects.count() == 0
    assert _verbs(repair) == ["created", "repair_requested"]
    assert _messages(repair) == sorted(_told_once("repair_requested") + _told_once("ticket_created"))


@pytest.mark.parametrize(
    ("when", "remedy", "reasons"),
    [
        (TWO_YEARS_ON, "repair", ["not_covered"]),
        (A_MONTH_ON, "exchange", ["remedy_not_repair"]),
    ],
    ids=["out-of-warranty", "exchange-asked"],
)
def test_a_request_that_is_not_plainly_covered_stays_requested_with_the_reason(world, when, remedy, reasons):
    # given
    _auto(world)

    # when
    with time_machine.travel(when, tick=False):
        repair = request_repair(world, mode=RepairMode.MAIL_IN, remedy=remedy)

    # then
    repair.refresh_from_db()
    assert (repair.status, repair.decided_at) == (RepairStatus.REQUESTED, None)
    assert _verbs(repair) == ["created", "repair_requested", "repair_auto_triage_held"]
    held = TicketEvent.objects.get(ticket=repair.ticket, verb="repair_auto_triage_held")
    assert (held.data, held.is_public, held.actor_user_id) == ({"rule": "auto_triage", "reasons": reasons}, False, None)
    assert _messages(repair) == sorted(_told_once("repair_requested") + _told_once("ticket_created"))


@pytest.mark.usefixtures("month_on")
def test_an_exclusion_found_on_this_unit_before_leaves_the_request_to_staff_and_the_page_says_why(client, world):
    # given: an earlier repair of the serial found user damage (the warranty was voided)
    _auto(world, on=False)
    earlier = request_repair(world)
    RepairOrder.objects.filter(pk=earlier.pk).update(
        status=RepairStatus.CANCELLED, eligibility={"voided_by_diagnosis": "UD-01"}
    )
    _auto(world)

    # when
    repair = request_repair(world)

    # then
    repair.refresh_from_db()
    assert repair.status == RepairStatus.REQUESTED
    held = TicketEvent.objects.get(ticket=repair.ticket, verb="repair_auto_triage_held")
    assert held.data["reasons"] == ["exclusion"]
    client.force_login(world.agent)
    page = client.get(reverse("dashboard:ticket", args=[repair.ticket.number])).content.decode()
    assert "Not automatic (rule “triage covered requests automatically”)" in page
    assert "an exclusion of the warranty applies to this unit" in page


@pytest.mark.usefixtures("month_on")
def test_a_window_taken_meanwhile_leaves_the_repair_triaged_and_lands_on_the_booking_page(client, world):
    # given: another customer took the technician's only place in the window being chosen
    _auto(world)
    technician = _technician(world)
    window = _first_window(world)
    other = OnSiteRepairFactory(merchant=world.merchant, product=world.product, postal_code=POSTAL_CODE)
    visit_book(repair=other, window_start=window, actor_user=world.agent)
    _portal(client, world)

    # when
    response = client.post(_request_url(world), _form(world, window_start=window.isoformat()))

    # then: created and triaged; nothing booked; the customer is sent to pick another time
    repair = RepairOrder.objects.get(merchant=world.merchant, customer=world.customer)
    assert response.status_code == 302
    booking_url = reverse("portal:repair_visit", args=[world.merchant.slug, repair.ticket.number])
    assert response["Location"] == f"{booking_url}?taken=1"
    assert repair.status == RepairStatus.IN_WARRANTY
    assert list(Visit.objects.values_list("repair_id", "technician_id")) == [(other.pk, technician.pk)]
    assert _verbs(repair) == ["created", "repair_requested", "status_changed", "repair_triaged"]
    assert _messages(repair) == _told_once("repair_triaged")
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "That time was just taken. Please pick one of the next free times." in page.content.decode()
    offered = [slot["value"] for _day, slots in page.context["days"] for slot in slots if slot["next"]]
    assert len(offered) == 3
    assert window.isoformat() not in offered


@pytest.mark.usefixtures("month_on")
def test_showing_the_times_for_an_address_creates_nothing(client, world):
    # given
    _auto(world)
    _technician(world)
    window = _first_window(world)
    _portal(client, world)

    # when
    page = client.post(_request_url(world), {**_form(world), "show_times": "1"})

    # then
    assert page.status_code == 200
    assert window.isoformat() in page.content.decode()
    assert RepairOrder.objects.count() == 0


@pytest.mark.usefixtures("month_on")
def test_a_covered_mail_in_request_moves_on_to_awaiting_the_device_with_one_message(world):
    # given
    _auto(world)
    centre = ServiceCentreFactory(merchant=world.merchant, name="Xuhui centre")

    # when
    repair = request_repair(world, mode=RepairMode.SERVICE_CENTRE, service_centre=centre)

    # then
    assert repair.status == RepairStatus.AWAITING_DEVICE
    assert _verbs(repair) == [
        "created",
        "repair_requested",
        "status_changed",
        "repair_triaged",
        "status_changed",
        "repair_awaiting_device",
    ]
    assert _messages(repair) == _told_once("repair_send_device")


@pytest.mark.usefixtures("month_on")
def test_another_merchants_rule_does_not_apply_to_this_merchants_requests(world):
    # given: the other merchant triages automatically; this one does not
    other = build_world(slug="other-shop", serial="OTHER-1")
    _auto(other)

    # when
    mine = request_repair(world)
    theirs = request_repair(other)

    # then
    assert (mine.status, theirs.status) == (RepairStatus.REQUESTED, RepairStatus.AWAITING_DEVICE)
    assert "repair_auto_triage_held" not in _verbs(mine)


def _api(world: World) -> APIClient:
    _key, full_key = api_key_for(world.merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    return client


def _api_body(world: World, window: datetime) -> dict:
    return {
        "serial_number": "TAP-0001",
        "mode": "on_site",
        "fault_description": "Sprays water",
        "address": "8 Fuxing Road",
        "postal_code": POSTAL_CODE,
        "window_start": window.isoformat(),
    }


@pytest.mark.usefixtures("month_on")
def test_the_api_books_the_window_of_a_covered_repair_in_the_same_call(world):
    # given
    _auto(world)
    technician = _technician(world)
    window = _first_window(world)

    # when
    created = _api(world).post("/api/v1/repairs/", _api_body(world, window), format="json")

    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["window_taken"], body["next_slots"]) == ("scheduled", False, [])
    assert body["visit"]["technician"] == technician.pk
    assert datetime.fromisoformat(body["visit"]["window_start"]) == window


@pytest.mark.usefixtures("month_on")
def test_the_api_answers_a_taken_window_with_the_repair_triaged_and_the_next_free_ones(world):
    # given
    _auto(world)
    _technician(world)
    window = _first_window(world)
    other = OnSiteRepairFactory(merchant=world.merchant, product=world.product, postal_code=POSTAL_CODE)
    visit_book(repair=other, window_start=window, actor_user=world.agent)

    # when
    created = _api(world).post("/api/v1/repairs/", _api_body(world, window), format="json")

    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["visit"], body["window_taken"]) == ("in_warranty", None, True)
    assert len(body["next_slots"]) == 3
    assert window.isoformat() not in body["next_slots"]
    assert datetime.fromisoformat(body["next_slots"][0]) >= window + timedelta(hours=2)
    assert Visit.objects.count() == 1


def _second_owner(world: World, serial: str):
    """Another customer of the same shop with a tap of their own, delivered with the first."""
    order = order_upsert(
        merchant=world.merchant,
        data=OrderInput(
            store_id=world.order.store_id,
            number="AQ-second",
            customer=CustomerInput(name="Wang Fang", email="wang.fang@example.com", phone="+8613912340000"),
            lines=[
                OrderLineInput(
                    line_number="1",
                    sku="TAP-1",
                    name="Kitchen tap",
                    quantity=1,
                    unit_price=Decimal("899.00"),
                    serial_numbers=[serial],
                )
            ],
            placed_at=world.order.placed_at,
            shipped_at=world.order.shipped_at,
            delivered_at=world.order.delivered_at,
        ),
    ).order
    return order.customer, WarrantyRegistration.objects.get(merchant=world.merchant, serial_number=serial)


@pytest.mark.xdist_group("races")
@pytest.mark.django_db(transaction=True)
def test_two_customers_sending_requests_for_the_last_window_get_one_visit_and_two_triaged_repairs():
    # given: one technician, one place per window; two customers choose the same window
    with time_machine.travel(A_MONTH_ON, tick=False):
        world = build_world(slug="race-auto")
        _auto(world)
        _technician(world)
        window = _first_window(world)
        owners = [(world.customer, world.registration), _second_owner(world, "TAP-0002")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def send(customer, registration):
        try:
            with time_machine.travel(A_MONTH_ON, tick=False):
                barrier.wait(timeout=30)
                repair = repair_request_create(
                    customer=customer,
                    product=world.product,
                    registration=registration,
                    mode=RepairMode.ON_SITE,
                    fault_description="The kitchen tap sprays water.",
                    address="8 Fuxing Road",
                    postal_code=POSTAL_CODE,
                    window_start=window,
                )
            outcomes.append(repair.status)
        except Exception as error:  # noqa: BLE001 — an unexpected error is an outcome the test shows
            outcomes.append(repr(error))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=send, args=owner) for owner in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then: one visit; the other repair is triaged and waits for its customer to pick again
    assert sorted(outcomes) == [RepairStatus.IN_WARRANTY, RepairStatus.SCHEDULED]
    assert RepairOrder.objects.filter(merchant=world.merchant).count() == 2
    assert Visit.objects.filter(window_start=window, status=VisitStatus.BOOKED).count() == 1
    late = RepairOrder.objects.get(merchant=world.merchant, status=RepairStatus.IN_WARRANTY)
    assert "visit_booked" not in _verbs(late)
    assert _messages(late) == _told_once("repair_triaged")
