"""The units inspection rejected go back to the customer: recorded once, with a carrier and its
tracking number or ready to collect at a store; the customer is told on each channel; and a
return completes only once they are on their way — a return whose every unit was rejected
completes then, with nothing to refund or replace. Service, dashboard, API and portal."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership, Notification, OrderLine
from aftersales.notifications.rendering import render_notification
from aftersales.tests.builders import sign_in
from aftersales.tests.factories import MembershipFactory, OrderLineFactory
from returns.models import (
    Refund,
    RefundExecution,
    RefundState,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
    ShippingMethod,
)
from returns.services import (
    LineInspection,
    refund_confirm_manual,
    return_rejected_units_send,
    return_request_inspect,
    return_request_receive,
    return_request_settle,
)
from returns.tests.builders import (
    World,
    api_client,
    counters,
    drive,
    inspect_all,
    make_order,
    make_world,
    quick_refund_world,
    send_back,
    submit,
)
from tickets.models import TicketEvent, TicketStatus

pytestmark = pytest.mark.django_db
S = ReturnStatus
SENT_AT = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)


# --- helpers ------------------------------------------------------------------------------------


def reject_everything(world: World, in_transit: ReturnRequest | None = None) -> ReturnRequest:
    """A received return of the world's order (2 units and 1 unit at 100.00), or of the return
    ``in_transit``, whose every unit inspection rejected."""
    if in_transit is None:
        return_request = drive(world, submit(world), S.RECEIVED)
    else:
        return_request = return_request_receive(return_request=in_transit, actor=world.warehouse)
    return_request_inspect(
        return_request=return_request,
        actor=world.warehouse,
        lines=[
            LineInspection(return_line_id=line.pk, accepted=0, rejected=line.quantity_received, grade="damaged")
            for line in return_request.lines.order_by("pk")
        ],
    )
    return fresh(return_request)


def reject_one_per_line(world: World) -> ReturnRequest:
    """A received return whose inspection rejected one unit of each line: 1 of the 2, and the 1."""
    return_request = drive(world, submit(world), S.RECEIVED)
    return_request_inspect(
        return_request=return_request,
        actor=world.warehouse,
        lines=inspect_all(return_request, rejected_per_line=1),
    )
    return fresh(return_request)


def fresh(return_request: ReturnRequest) -> ReturnRequest:
    return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)


def parcel_back(return_request: ReturnRequest) -> ReturnShipment:
    return ReturnShipment.objects.get(return_request=return_request, direction=ShipmentDirection.TO_CUSTOMER)


def verbs(return_request: ReturnRequest) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket_id=return_request.ticket_id)
        .exclude(verb="status_changed")
        .order_by("id")
        .values_list("verb", flat=True)
    )


def snapshot(return_request: ReturnRequest) -> dict:
    """Everything sending the rejected units back could change."""
    current = fresh(return_request)
    return {
        "status": current.status,
        "completed_at": current.completed_at,
        "ticket_status": current.ticket.status,
        "shipments": list(
            ReturnShipment.objects.filter(return_request=current)
            .order_by("pk")
            .values_list("direction", "method", "carrier", "tracking_number", "store_location", "shipped_at")
        ),
        "events": TicketEvent.objects.filter(ticket_id=current.ticket_id).count(),
        "notifications": Notification.objects.filter(ticket_id=current.ticket_id).count(),
        "refunds": list(Refund.objects.filter(return_request=current).values_list("amount", "state")),
        "order_lines": counters(current.order),
    }


def told(return_request: ReturnRequest) -> list[Notification]:
    return list(
        Notification.objects.filter(ticket_id=return_request.ticket_id, template="return_rejected_units_sent").order_by(
            "channel"
        )
    )


# --- every unit rejected ----------------------------------------------------------------------------


def test_every_unit_rejected_stays_inspected_until_the_parcel_back_is_sent_and_then_completes():
    # Given a return whose 3 units were all rejected at inspection
    world = make_world()
    return_request = reject_everything(world)
    assert return_request.status == S.INSPECTED
    assert parcel_back(return_request).shipped_at is None
    lines_before = counters(world.order)

    # When the warehouse sends them back with SF Express (the number typed with spaces, in lower case)
    with time_machine.travel(SENT_AT, tick=False):
        shipment = return_rejected_units_send(
            return_request=return_request,
            actor=world.warehouse,
            carrier="SF Express",
            tracking_number="sf 900 111",
            note="Packed in the original box",
        )

    # Then the parcel is recorded as sent, by carrier, with its normalized number
    shipment = parcel_back(return_request)
    assert (shipment.method, shipment.carrier, shipment.tracking_number, shipment.store_location) == (
        ShippingMethod.DROP_OFF,
        "SF Express",
        "SF900111",
        "",
    )
    assert shipment.shipped_at == SENT_AT
    # and the return, with nothing to refund or replace, moves through settling to completed
    return_request = fresh(return_request)
    assert (return_request.status, return_request.completed_at) == (S.COMPLETED, SENT_AT)
    assert return_request.ticket.status == TicketStatus.RESOLVED
    assert verbs(return_request)[-3:] == ["return_rejected_units_sent", "return_settling", "return_completed"]
    sent = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_rejected_units_sent")
    first, second = return_request.lines.order_by("pk")
    assert (sent.is_public, sent.actor_user, sent.data) == (
        True,
        world.warehouse,
        {
            "method": "drop_off",
            "carrier": "SF Express",
            "tracking_number": "SF900111",
            "store": "",
            "lines": {str(first.pk): 2, str(second.pk): 1},
            "note": "Packed in the original box",
        },
    )
    settling = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_settling")
    assert (settling.is_public, settling.data) == (True, {"from": S.INSPECTED})
    assert TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_completed").is_public
    # and nothing is refunded, nor any counter of the order lines moved
    assert Refund.objects.filter(return_request=return_request).count() == 0
    assert counters(world.order) == lines_before
    # and the customer is told once on each channel, with the carrier and the number
    notifications = told(return_request)
    assert [(row.channel, row.recipient) for row in notifications] == [
        (Notification.Channel.EMAIL, world.customer.email),
        (Notification.Channel.SMS, world.customer.phone),
    ]
    context = notifications[0].context
    assert (context["units"], context["carrier"], context["tracking_number"], context["store"]) == (
        3,
        "SF Express",
        "SF900111",
        "",
    )
    rendered = render_notification("return_rejected_units_sent", context, "en")
    number = return_request.ticket.number
    assert rendered.subject == (
        f"[{world.merchant.name}] The items we could not accept from your return {number} are on their way back"
    )
    assert (
        f"We sent back the 3 items of your return {number} that we could not accept, with SF Express; "
        "the tracking number is SF900111."
    ) in rendered.body
    assert rendered.short.startswith(f"{number}: items we could not accept are on their way back, SF Express SF900111.")


def test_rejected_units_collected_in_store_complete_the_return_and_tell_the_customer_where():
    # Given a return whose every unit was rejected
    world = make_world()
    return_request = reject_everything(world)

    # When staff record that the customer collects them at a store (a carrier typed by mistake is dropped)
    return_rejected_units_send(
        return_request=return_request,
        actor=world.agent,
        carrier="SF Express",
        collected_in_store=True,
        store_location="  Jing'an flagship store  ",
    )

    # Then the parcel is a collection at that store, with no carrier nor tracking number
    shipment = parcel_back(return_request)
    assert (shipment.method, shipment.carrier, shipment.tracking_number, shipment.store_location) == (
        ShippingMethod.IN_STORE,
        "",
        "",
        "Jing'an flagship store",
    )
    assert shipment.shipped_at is not None
    assert fresh(return_request).status == S.COMPLETED
    # and the customer reads where to collect them, on each channel
    notifications = told(return_request)
    assert [row.channel for row in notifications] == [Notification.Channel.EMAIL, Notification.Channel.SMS]
    rendered = render_notification("return_rejected_units_sent", notifications[0].context, "en")
    number = return_request.ticket.number
    assert "ready to collect" in rendered.subject
    assert (
        f"The 3 items of your return {number} that we could not accept are ready for you to collect at "
        "Jing'an flagship store."
    ) in rendered.body
    assert "ready to collect at Jing'an flagship store" in rendered.short


def test_a_quick_refund_paid_for_units_then_all_rejected_is_left_for_staff_to_settle_after_the_parcel_goes_back(
    django_capture_on_commit_callbacks,
):
    # Given a trusted customer's return, quick-refunded (and paid out) in transit, whose every
    # unit was then rejected
    world = quick_refund_world()
    with django_capture_on_commit_callbacks(execute=True):
        in_transit = drive(world, submit(world), S.IN_TRANSIT)
    return_request = reject_everything(world, in_transit)
    assert return_request.quick_refund_at is not None
    refund = Refund.objects.get(return_request=return_request)
    refund_confirm_manual(execution=RefundExecution.objects.get(refund=refund), actor=world.agent, reference="BO-Q")
    assert fresh(return_request).status == S.INSPECTED

    # When the rejected units are sent back
    send_back(return_request, world.warehouse)

    # Then the return is not closed on its own: money moved for units that came back, a supervisor decides
    assert fresh(return_request).status == S.INSPECTED
    assert "return_completed" not in verbs(return_request)
    # and once staff settle it, with the parcel sent, it completes
    return_request_settle(return_request=return_request, actor=world.supervisor)
    assert fresh(return_request).status == S.COMPLETED


# --- some units rejected --------------------------------------------------------------------------------


def test_a_partly_rejected_return_whose_refund_is_paid_stays_settling_until_the_rejected_units_are_sent():
    # Given a return with one unit of each line rejected: 1 unit (100.00) accepted
    world = make_world()
    return_request = reject_one_per_line(world)

    # When the accepted unit is refunded and the payout confirmed
    return_request_settle(return_request=return_request, actor=world.agent)
    refund = Refund.objects.get(return_request=return_request)
    refund_confirm_manual(execution=RefundExecution.objects.get(refund=refund), actor=world.agent, reference="BO-1")

    # Then the money is settled, but the return is not complete: 2 units are still to go back
    refund.refresh_from_db()
    assert (refund.amount, refund.state) == (Decimal("100.00"), RefundState.PAID)
    assert fresh(return_request).status == S.SETTLING
    assert "return_completed" not in verbs(return_request)

    # When the rejected units are sent back
    send_back(return_request, world.warehouse, tracking_number="YT0001")

    # Then the return completes, after the parcel
    return_request = fresh(return_request)
    assert return_request.status == S.COMPLETED
    assert return_request.ticket.status == TicketStatus.RESOLVED
    assert verbs(return_request)[-2:] == ["return_rejected_units_sent", "return_completed"]
    sent = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_rejected_units_sent")
    first, second = return_request.lines.order_by("pk")
    assert sent.data["lines"] == {str(first.pk): 1, str(second.pk): 1}
    assert [row.context["units"] for row in told(return_request)] == [2, 2]
    assert Refund.objects.filter(return_request=return_request).count() == 1


def test_sending_back_before_the_refund_leaves_the_return_to_complete_when_the_refund_is_paid():
    # Given a partly rejected return whose rejected units went back first
    world = make_world()
    return_request = reject_one_per_line(world)
    send_back(return_request, world.warehouse)
    assert fresh(return_request).status == S.INSPECTED

    # When the accepted unit is refunded and paid
    return_request_settle(return_request=return_request, actor=world.agent)
    refund = Refund.objects.get(return_request=return_request)
    assert fresh(return_request).status == S.SETTLING
    refund_confirm_manual(execution=RefundExecution.objects.get(refund=refund), actor=world.agent, reference="BO-2")

    # Then the return completes with that payout
    assert fresh(return_request).status == S.COMPLETED


# --- refusals: nothing changes -------------------------------------------------------------------------


def test_a_return_with_nothing_rejected_has_nothing_to_send_back():
    world = make_world()
    return_request = drive(world, submit(world), S.RECEIVED)
    return_request_inspect(return_request=return_request, actor=world.warehouse, lines=inspect_all(return_request))
    before = snapshot(return_request)

    with pytest.raises(TransitionNotAllowed) as refusal:
        send_back(return_request, world.warehouse)

    assert refusal.value.code == "nothing_to_send_back"
    assert snapshot(return_request) == before
    assert not ReturnShipment.objects.filter(return_request=return_request, direction="to_customer").exists()


def test_a_return_not_yet_inspected_has_nothing_to_send_back():
    world = make_world()
    return_request = drive(world, submit(world), S.RECEIVED)
    before = snapshot(return_request)

    with pytest.raises(TransitionNotAllowed) as refusal:
        send_back(return_request, world.warehouse)

    assert refusal.value.code == "nothing_to_send_back"
    assert snapshot(return_request) == before


def test_sending_the_rejected_units_back_twice_is_refused_and_changes_nothing():
    world = make_world()
    return_request = reject_one_per_line(world)
    send_back(return_request, world.warehouse, tracking_number="YT0001")
    before = snapshot(return_request)

    with pytest.raises(Conflict) as refusal:
        send_back(return_request, world.warehouse, tracking_number="YT0002")

    assert refusal.value.code == "rejected_units_already_sent"
    assert snapshot(return_request) == before
    assert parcel_back(return_request).tracking_number == "YT0001"


@pytest.mark.parametrize(
    ("given", "code", "field"),
    [
        ({"carrier": "SF Express", "tracking_number": "  "}, "tracking_required", "tracking_number"),
        ({"carrier": "", "tracking_number": "SF1"}, "carrier_required", "carrier"),
        ({"carrier": "SF Express", "tracking_number": "SF" + "1" * 63}, "tracking_required", "tracking_number"),
        ({"collected_in_store": True, "store_location": " "}, "store_required", "store_location"),
    ],
)
def test_a_parcel_back_without_its_tracking_or_its_store_is_refused_and_changes_nothing(given, code, field):
    world = make_world()
    return_request = reject_everything(world)
    before = snapshot(return_request)

    with pytest.raises(InvalidInput) as refusal:
        return_rejected_units_send(return_request=return_request, actor=world.warehouse, **given)

    assert (refusal.value.code, refusal.value.extra) == (code, {"field": field})
    assert snapshot(return_request) == before


def test_staff_of_another_merchant_cannot_send_the_rejected_units_back():
    world = make_world()
    return_request = reject_everything(world)
    outsider = make_world().agent
    before = snapshot(return_request)

    with pytest.raises(PermissionRefused):
        send_back(return_request, outsider)

    assert snapshot(return_request) == before


def test_a_tracking_number_already_on_another_parcel_of_the_merchant_is_refused():
    # Given a return with rejected units, and another return whose customer's parcel carries a number
    world = make_world(quantities=(2, 1, 1))
    return_request = drive(world, submit(world, quantities=[2, 1, 0]), S.RECEIVED)
    return_request_inspect(
        return_request=return_request, actor=world.warehouse, lines=inspect_all(return_request, rejected_per_line=1)
    )
    other = drive(world, submit(world, quantities=[0, 0, 1]), S.IN_TRANSIT)
    used = ReturnShipment.objects.get(return_request=other, direction=ShipmentDirection.TO_MERCHANT)
    before = snapshot(return_request)

    # When staff record that number, with the same carrier, for the parcel back
    with pytest.raises(Conflict) as refusal:
        return_rejected_units_send(
            return_request=return_request,
            actor=world.warehouse,
            carrier=used.carrier,
            tracking_number=used.tracking_number.lower(),
        )

    # Then it is refused on the tracking number, and nothing changed
    assert (refusal.value.code, refusal.value.extra) == ("tracking_in_use", {"field": "tracking_number"})
    assert snapshot(return_request) == before


# --- the dashboard ---------------------------------------------------------------------------------------


def page_url(name: str, return_request: ReturnRequest) -> str:
    return reverse(name, kwargs={"number": return_request.ticket.number})


def flash(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_return_page_offers_the_parcel_back_then_shows_what_was_sent(client):
    # Given a return whose every unit was rejected, seen by the warehouse
    world = make_world()
    return_request = reject_everything(world)
    client.force_login(world.warehouse)
    page = client.get(page_url("dashboard:return", return_request)).content.decode()
    assert "Rejected units to send back" in page
    assert page_url("dashboard:return_rejected_units_sent", return_request) in page
    # (the store the customer would collect at is the order's, until staff change it)
    assert f'value="{world.order.store.name}"' in page

    # When the warehouse records the parcel back
    response = client.post(
        page_url("dashboard:return_rejected_units_sent", return_request),
        {"carrier": "ZTO", "tracking_number": "zt 42", "store_location": world.order.store.name, "note": ""},
        follow=True,
    )

    # Then it is recorded, the return completes, and the page shows what was sent instead of the form
    assert response.redirect_chain == [(page_url("dashboard:return", return_request), 302)]
    assert flash(response) == ["Rejected units recorded as sent back; the customer has been told."]
    shipment = parcel_back(return_request)
    assert (shipment.carrier, shipment.tracking_number) == ("ZTO", "ZT42")
    assert fresh(return_request).status == S.COMPLETED
    page = response.content.decode()
    assert page_url("dashboard:return_rejected_units_sent", return_request) not in page
    assert "Rejected units to send back" in page
    assert "ZT42" in page


def test_the_dashboard_form_needs_the_tracking_number_unless_collected_in_store(client):
    world = make_world()
    return_request = reject_everything(world)
    client.force_login(world.agent)
    before = snapshot(return_request)

    response = client.post(page_url("dashboard:return_rejected_units_sent", return_request), {"carrier": "SF Express"})

    assert response.status_code == 400
    assert "Enter the tracking number." in response.content.decode()
    assert snapshot(return_request) == before


def test_the_dashboard_records_a_collection_in_store(client):
    world = make_world()
    return_request = reject_everything(world)
    client.force_login(world.agent)

    response = client.post(
        page_url("dashboard:return_rejected_units_sent", return_request),
        {"collected_in_store": "on", "store_location": "Jing'an flagship store"},
        follow=True,
    )

    assert flash(response) == ["Rejected units recorded as sent back; the customer has been told."]
    shipment = parcel_back(return_request)
    assert (shipment.method, shipment.store_location, shipment.tracking_number) == (
        ShippingMethod.IN_STORE,
        "Jing'an flagship store",
        "",
    )
    assert "Ready to collect at" in response.content.decode()


def test_a_refusal_on_the_dashboard_shows_its_message_and_changes_nothing(client):
    world = make_world()
    return_request = reject_one_per_line(world)
    send_back(return_request, world.warehouse, tracking_number="YT0001")
    client.force_login(world.agent)
    before = snapshot(return_request)

    response = client.post(
        page_url("dashboard:return_rejected_units_sent", return_request),
        {"carrier": "YTO", "tracking_number": "YT0002"},
        follow=True,
    )

    assert flash(response) == ["The items that were not accepted have already been sent back."]
    assert snapshot(return_request) == before


def test_another_merchants_staff_get_a_404_and_change_nothing(client):
    world = make_world()
    return_request = reject_everything(world)
    client.force_login(make_world().agent)
    before = snapshot(return_request)

    page = client.get(page_url("dashboard:return", return_request))
    response = client.post(
        page_url("dashboard:return_rejected_units_sent", return_request),
        {"carrier": "SF Express", "tracking_number": "SF1"},
    )

    assert (page.status_code, response.status_code) == (404, 404)
    assert snapshot(return_request) == before


def test_the_queue_filters_and_marks_the_returns_with_rejected_units_still_to_send_back(client):
    # Given, for one merchant, a return with rejected units to send back, one whose parcel back
    # left already, and one with nothing rejected
    world = make_world(quantities=(2, 1, 1, 1))
    waiting = drive(world, submit(world, quantities=[2, 0, 0, 0]), S.RECEIVED)
    return_request_inspect(
        return_request=waiting, actor=world.warehouse, lines=inspect_all(waiting, rejected_per_line=1)
    )
    sent = drive(world, submit(world, quantities=[0, 1, 0, 0]), S.RECEIVED)
    return_request_inspect(
        return_request=sent,
        actor=world.warehouse,
        lines=[LineInspection(return_line_id=sent.lines.get().pk, accepted=0, rejected=1, grade="damaged")],
    )
    send_back(sent, world.warehouse)
    accepted = drive(world, submit(world, quantities=[0, 0, 1, 0]), S.RECEIVED)
    return_request_inspect(return_request=accepted, actor=world.warehouse, lines=inspect_all(accepted))
    client.force_login(world.agent)

    # When staff filter the queue on what is still to send back
    filtered = client.get(reverse("dashboard:returns"), {"status": "to_send_back"})
    everything = client.get(reverse("dashboard:returns"), {"status": "all"})

    # Then only the return still waiting shows, and the full list marks it alone
    assert filtered.status_code == 200
    assert [row.pk for row in filtered.context["returns"]] == [waiting.pk]
    rows = {row.pk: row.to_send_back for row in everything.context["returns"]}
    assert rows == {waiting.pk: True, sent.pk: False, accepted.pk: False}
    assert everything.content.decode().count('class="badge badge--send-back"') == 1
    assert '<option value="to_send_back">Rejected units to send back</option>' in everything.content.decode()


# --- the API ---------------------------------------------------------------------------------------------


def sent_url(return_request: ReturnRequest) -> str:
    return reverse("api:return-rejected-units-sent", kwargs={"number": return_request.ticket.number})


def test_the_api_records_the_parcel_back_and_answers_with_the_completed_return():
    world = make_world()
    return_request = reject_everything(world)

    with time_machine.travel(SENT_AT, tick=False):
        response = api_client(world.merchant).post(
            sent_url(return_request), {"carrier": "SF Express", "tracking_number": "SF777"}, format="json"
        )

    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["status"]) == (return_request.ticket.number, S.COMPLETED)
    back = [row for row in body["shipments"] if row["direction"] == ShipmentDirection.TO_CUSTOMER]
    assert [(row["method"], row["carrier"], row["tracking_number"], row["store_location"]) for row in back] == [
        ("drop_off", "SF Express", "SF777", "")
    ]
    assert datetime.fromisoformat(back[0]["shipped_at"]) == SENT_AT
    assert [row.channel for row in told(return_request)] == [Notification.Channel.EMAIL, Notification.Channel.SMS]


def test_the_api_list_filters_the_returns_whose_rejected_units_wait_to_be_sent_back():
    # Given a return whose rejected units are still here, and another order's return with none
    world = make_world()
    waiting = reject_one_per_line(world)
    other_order = make_order(world.merchant, world.customer)
    OrderLineFactory(order=other_order, line_number="1", quantity=1, unit_price=Decimal("50.00"))
    nothing_rejected = submit(world, order=other_order)
    client = api_client(world.merchant)

    def numbers(to_send_back: str) -> list[str]:
        response = client.get(reverse("api:return-list"), {"to_send_back": to_send_back})
        assert response.status_code == 200
        return [row["number"] for row in response.json()["results"]]

    # Then true lists the one waiting and false the other, until the parcel back is sent
    assert numbers("true") == [waiting.ticket.number]
    assert numbers("false") == [nothing_rejected.ticket.number]
    send_back(waiting, world.warehouse)
    assert numbers("true") == []
    assert numbers("false") == [nothing_rejected.ticket.number, waiting.ticket.number]


def test_the_api_records_a_collection_in_store():
    world = make_world()
    return_request = reject_one_per_line(world)

    response = api_client(world.merchant).post(
        sent_url(return_request), {"collected_in_store": True, "store_location": "Jing'an"}, format="json"
    )

    assert response.status_code == 200
    back = [row for row in response.json()["shipments"] if row["direction"] == ShipmentDirection.TO_CUSTOMER]
    assert [(row["method"], row["carrier"], row["store_location"]) for row in back] == [("in_store", "", "Jing'an")]
    # (the accepted unit is not settled yet: the return stays inspected)
    assert response.json()["status"] == S.INSPECTED


@pytest.mark.parametrize(
    ("prepare", "body", "status", "code"),
    [
        ("nothing_rejected", {"carrier": "SF Express", "tracking_number": "SF1"}, 409, "nothing_to_send_back"),
        ("already_sent", {"carrier": "SF Express", "tracking_number": "SF2"}, 409, "rejected_units_already_sent"),
        ("rejected", {"carrier": "SF Express"}, 400, "tracking_required"),
        ("rejected", {"collected_in_store": True}, 400, "store_required"),
    ],
)
def test_the_api_refuses_with_a_stable_code_and_changes_nothing(prepare, body, status, code):
    world = make_world()
    if prepare == "nothing_rejected":
        return_request = drive(world, submit(world), S.RECEIVED)
        return_request_inspect(return_request=return_request, actor=world.warehouse, lines=inspect_all(return_request))
    else:
        return_request = reject_one_per_line(world)
        if prepare == "already_sent":
            send_back(return_request, world.warehouse)
    before = snapshot(return_request)

    response = api_client(world.merchant).post(sent_url(return_request), body, format="json")

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert snapshot(return_request) == before


def test_another_merchants_key_and_staff_get_a_404_and_change_nothing(client):
    world = make_world()
    return_request = reject_everything(world)
    stranger = make_world()
    client.force_login(MembershipFactory(merchant=stranger.merchant, role=Membership.Role.SUPERVISOR).user)
    before = snapshot(return_request)

    by_key = api_client(stranger.merchant).post(
        sent_url(return_request), {"carrier": "SF Express", "tracking_number": "SF1"}, format="json"
    )
    by_session = client.post(
        sent_url(return_request),
        {"carrier": "SF Express", "tracking_number": "SF1"},
        content_type="application/json",
    )
    anonymous = APIClient().post(sent_url(return_request), {}, format="json")

    assert (by_key.status_code, by_session.status_code, anonymous.status_code) == (404, 404, 401)
    assert snapshot(return_request) == before


def test_the_schema_describes_the_rejected_units_endpoint(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/returns/{number}/rejected-units/sent/"]["post"]
    assert operation["summary"] == "Record that a return's rejected units were sent back"
    assert set(schema["components"]["schemas"]["RejectedUnitsSentInputRequest"]["properties"]) == {
        "carrier",
        "tracking_number",
        "collected_in_store",
        "store_location",
        "note",
    }
    assert {"200", "400", "403", "404", "409"} <= set(operation["responses"])


# --- the portal ------------------------------------------------------------------------------------------


def ticket_page(client, return_request: ReturnRequest) -> str:
    url = reverse("portal:ticket", args=[return_request.merchant.slug, return_request.ticket.number])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_portal_says_the_rejected_items_will_come_back_and_then_how_they_were_sent(
    client, django_capture_on_commit_callbacks
):
    # Given the customer signed in to the portal, and their return with rejected units
    world = make_world()
    return_request = reject_one_per_line(world)
    sign_in(client, django_capture_on_commit_callbacks, world.order)

    # Then before the parcel leaves, the return box says the items will come back
    page = ticket_page(client, return_request)
    assert "Items we could not accept" in page
    assert "Will be sent back to you." in page
    assert "Sent back to you with" not in page

    # When the warehouse sends them
    send_back(return_request, world.warehouse, tracking_number="YT0001")

    # Then the box names the carrier and the number, and the steps list the parcel back
    page = ticket_page(client, return_request)
    assert "Sent back to you with SF Express YT0001." in page
    assert "Will be sent back to you." not in page
    assert "The shop sent back the items it could not accept" in page


def test_the_portal_says_where_to_collect_the_rejected_items(client, django_capture_on_commit_callbacks):
    world = make_world()
    return_request = reject_everything(world)
    sign_in(client, django_capture_on_commit_callbacks, world.order)

    return_rejected_units_send(
        return_request=return_request, actor=world.agent, collected_in_store=True, store_location="Jing'an store"
    )

    page = ticket_page(client, return_request)
    assert "Ready to collect at Jing&#x27;an store." in page
    assert fresh(return_request).status == S.COMPLETED


def test_a_return_with_nothing_rejected_says_nothing_about_items_coming_back(
    client, django_capture_on_commit_callbacks
):
    world = make_world()
    return_request = drive(world, submit(world), S.RECEIVED)
    return_request_inspect(return_request=return_request, actor=world.warehouse, lines=inspect_all(return_request))
    sign_in(client, django_capture_on_commit_callbacks, world.order)

    assert "Items we could not accept" not in ticket_page(client, return_request)


def test_sending_back_changes_no_order_line_counter():
    world = make_world()
    return_request = reject_one_per_line(world)
    before = list(
        OrderLine.objects.filter(order=world.order)
        .order_by("pk")
        .values_list("quantity_received", "quantity_accepted", "quantity_refunded", "quantity_written_off")
    )

    send_back(return_request, world.warehouse)

    assert (
        list(
            OrderLine.objects.filter(order=world.order)
            .order_by("pk")
            .values_list("quantity_received", "quantity_accepted", "quantity_refunded", "quantity_written_off")
        )
        == before
    )
