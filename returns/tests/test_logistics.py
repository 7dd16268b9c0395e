"""The return's journey: shipping choice, tracking, receipt, inspection, revision and escalation,
bulk actions; every allowed move works and every other is refused with nothing changed."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Deadline, Membership, Notification, OrderLine
from aftersales.notifications.rendering import render_notification
from aftersales.tests.factories import MembershipFactory
from returns import timers
from returns.models import (
    RETURN_TRANSITIONS,
    ReturnLine,
    ReturnLineInspection,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
)
from returns.services import (
    BulkOutcome,
    LineInspection,
    return_pickup_book,
    return_request_approve,
    return_request_escalate,
    return_request_expire,
    return_request_inspect,
    return_request_receive,
    return_request_receive_by_tracking,
    return_request_reject,
    return_request_revise,
    return_request_settle_uninspected,
    return_requests_bulk_approve,
    return_requests_bulk_receive,
    return_shipping_choose,
    return_tracking_add,
)
from returns.tests.builders import (
    RETURN_ADDRESS,
    counters,
    drive,
    inspect_all,
    make_world,
    submit,
)
from tickets.models import Attachment, TicketEvent

pytestmark = pytest.mark.django_db
S = ReturnStatus


def _verbs(return_request, *, public=None) -> list[str]:
    events = TicketEvent.objects.filter(ticket_id=return_request.ticket_id)
    if public is not None:
        events = events.filter(is_public=public)
    return list(events.order_by("id").values_list("verb", flat=True))


def _deadline(return_request, kind) -> Deadline:
    return Deadline.objects.filter(ticket_id=return_request.ticket_id, kind=kind).latest("id")


def _ticket_status(return_request) -> str:
    return ReturnRequest.objects.get(pk=return_request.pk).ticket.status


# --- the journey, step by step ------------------------------------------------------------------


def test_a_drop_off_return_travels_from_approval_to_inspection_and_counts_every_unit(png_upload):
    world = make_world()
    return_request = drive(world, submit(world), S.APPROVED)
    assert _ticket_status(return_request) == "waiting_customer"

    shipment = return_shipping_choose(return_request=return_request, method="drop_off", customer=world.customer)

    assert shipment.return_address == RETURN_ADDRESS
    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.AWAITING_SHIPMENT
    assert _ticket_status(return_request) == "waiting_customer"
    instructions = Notification.objects.filter(ticket_id=return_request.ticket_id, template="return_ship_instructions")
    assert sorted(instructions.values_list("channel", flat=True)) == ["email", "sms"]  # the customer's two

    return_request = return_tracking_add(
        return_request=return_request, carrier="SF Express", tracking_number=" sf 1234 5678 ", customer=world.customer
    )

    shipment.refresh_from_db()
    assert (return_request.status, shipment.carrier) == (S.IN_TRANSIT, "SF Express")
    assert shipment.tracking_number == "SF12345678"
    assert _ticket_status(return_request) == "waiting_third_party"
    assert _deadline(return_request, timers.CUSTOMER_SHIP).state == Deadline.State.MET

    return_request = return_request_receive(return_request=return_request, actor=world.warehouse)

    assert return_request.status == S.RECEIVED
    assert _ticket_status(return_request) == "open"
    assert counters(world.order) == [(2, 2, 0), (1, 1, 0)]
    assert list(return_request.lines.order_by("pk").values_list("quantity_received", flat=True)) == [2, 1]
    assert _deadline(return_request, timers.CONFIRM_RECEIPT).state == Deadline.State.PENDING

    first, second = return_request.lines.order_by("pk")
    return_request = return_request_inspect(
        return_request=return_request,
        actor=world.warehouse,
        lines=[
            LineInspection(return_line_id=first.pk, accepted=1, rejected=1, grade="damaged", disposition="refurbish"),
            LineInspection(
                return_line_id=second.pk,
                accepted=0,
                rejected=1,
                grade="unusable",
                notes="Not our item",
                files=[png_upload()],
            ),
        ],
    )

    assert return_request.status == S.INSPECTED
    assert counters(world.order) == [(2, 2, 1), (1, 1, 0)]
    assert list(return_request.lines.order_by("pk").values_list("quantity_accepted", "quantity_rejected")) == [
        (1, 1),
        (0, 1),
    ]
    inspections = ReturnLineInspection.objects.order_by("return_line_id")
    assert [(i.grade, i.disposition, i.notes) for i in inspections] == [
        ("damaged", "refurbish", ""),
        ("unusable", "", "Not our item"),
    ]
    assert inspections[1].photos.count() == 1
    assert inspections[1].photos.get().uploaded_by_user == world.warehouse
    # The rejected units go back to the customer.
    going_back = ReturnShipment.objects.filter(return_request=return_request, direction=ShipmentDirection.TO_CUSTOMER)
    assert going_back.count() == 1
    assert _deadline(return_request, timers.CONFIRM_RECEIPT).state == Deadline.State.MET
    assert _verbs(return_request, public=True) == [
        "created",
        "return_submitted",
        "return_approved",
        "status_changed",
        "return_shipping_chosen",
        "return_in_transit",
        "status_changed",
        "return_received",
        "status_changed",
        "return_inspected",
    ]
    assert "return_inspection_details" in _verbs(return_request, public=False)


def test_a_home_pickup_needs_a_future_slot_and_can_be_booked_by_staff():
    world = make_world()
    return_request = drive(world, submit(world), S.APPROVED)
    start = timezone.now() + timedelta(days=1)

    with pytest.raises(InvalidInput) as refusal:
        return_shipping_choose(
            return_request=return_request,
            method="pickup",
            customer=world.customer,
            pickup_address="12 Home St",
            pickup_slot_start=start,
            pickup_slot_end=start - timedelta(hours=2),
        )
    assert refusal.value.code == "invalid_slot"
    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.APPROVED
    assert ReturnShipment.objects.count() == 0

    return_shipping_choose(
        return_request=return_request,
        method="pickup",
        customer=world.customer,
        pickup_address="12 Home St",
        pickup_slot_start=start,
        pickup_slot_end=start + timedelta(hours=2),
    )
    shipment = return_pickup_book(
        return_request=return_request, actor=world.agent, carrier="JD Logistics", reference="PK-9"
    )

    assert (shipment.method, shipment.pickup_address, shipment.carrier, shipment.pickup_reference) == (
        "pickup",
        "12 Home St",
        "JD Logistics",
        "PK-9",
    )
    assert shipment.pickup_booked_at is not None
    assert shipment.return_address == ""
    assert _verbs(return_request)[-1] == "return_pickup_booked"


def test_a_parcel_handed_in_at_a_store_is_received_without_travelling():
    world = make_world()
    return_request = drive(world, submit(world), S.APPROVED)
    return_shipping_choose(
        return_request=return_request, method="in_store", customer=world.customer, store_location="Nanjing Road"
    )

    with pytest.raises(TransitionNotAllowed) as refusal:
        return_tracking_add(return_request=return_request, carrier="SF", tracking_number="SF1", customer=world.customer)
    assert refusal.value.code == "in_store_no_tracking"

    return_request = return_request_receive(return_request=return_request, actor=world.agent)

    assert return_request.status == S.RECEIVED
    assert _deadline(return_request, timers.CUSTOMER_SHIP).state == Deadline.State.MET
    assert counters(world.order) == [(2, 2, 0), (1, 1, 0)]


def test_a_drop_off_needs_the_merchants_return_address():
    world = make_world()
    world.policy.return_address = ""
    world.policy.save()
    return_request = drive(world, submit(world), S.APPROVED)

    with pytest.raises(InvalidInput) as refusal:
        return_shipping_choose(return_request=return_request, method="drop_off", customer=world.customer)

    assert refusal.value.code == "no_return_address"
    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.APPROVED
    assert ReturnShipment.objects.count() == 0


def test_a_tracking_number_already_on_another_return_is_refused_and_nothing_changes():
    world = make_world()
    first = drive(world, submit(world, quantities=[1, 0]), S.AWAITING_SHIPMENT)
    second = drive(world, submit(world, quantities=[1, 1]), S.AWAITING_SHIPMENT)
    return_tracking_add(return_request=first, carrier="SF", tracking_number="SF777", customer=world.customer)
    events = TicketEvent.objects.filter(ticket_id=second.ticket_id).count()

    with pytest.raises(Conflict) as refusal:
        return_tracking_add(return_request=second, carrier="SF", tracking_number="sf777", customer=world.customer)

    assert refusal.value.code == "tracking_in_use"
    assert ReturnRequest.objects.get(pk=second.pk).status == S.AWAITING_SHIPMENT
    assert ReturnShipment.objects.get(return_request=second).tracking_number == ""
    assert TicketEvent.objects.filter(ticket_id=second.ticket_id).count() == events


def test_another_customer_cannot_ship_and_another_merchants_staff_cannot_receive():
    world = make_world()
    other = make_world()
    return_request = drive(world, submit(world), S.AWAITING_SHIPMENT)

    with pytest.raises(PermissionRefused):
        return_tracking_add(return_request=return_request, carrier="SF", tracking_number="SF1", customer=other.customer)
    return_tracking_add(return_request=return_request, carrier="SF", tracking_number="SF1", customer=world.customer)
    with pytest.raises(PermissionRefused):
        return_request_receive(return_request=return_request, actor=other.warehouse)
    with pytest.raises(InvalidInput) as refusal:
        return_request_receive_by_tracking(merchant=other.merchant, tracking_number="SF1", actor=other.warehouse)

    assert refusal.value.code == "unknown_tracking"
    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.IN_TRANSIT
    assert counters(world.order) == [(2, 0, 0), (1, 0, 0)]


def test_a_scan_at_the_door_receives_the_return_carrying_the_tracking_number():
    world = make_world()
    return_request = drive(world, submit(world), S.IN_TRANSIT)

    received = return_request_receive_by_tracking(
        merchant=world.merchant, tracking_number=f"sf{return_request.pk:010d}", actor=world.warehouse
    )

    assert (received.pk, received.status) == (return_request.pk, S.RECEIVED)
    assert ReturnShipment.objects.get(return_request=return_request).received_by == world.warehouse


# --- counters never pass what was requested -----------------------------------------------------


def test_receiving_more_than_was_requested_is_refused_and_nothing_changes():
    world = make_world()
    return_request = drive(world, submit(world), S.IN_TRANSIT)
    first, _second = return_request.lines.order_by("pk")
    events = TicketEvent.objects.filter(ticket_id=return_request.ticket_id).count()

    with pytest.raises(InvalidInput) as refusal:
        return_request_receive(return_request=return_request, actor=world.warehouse, quantities={first.pk: 3})

    assert refusal.value.code == "quantity_exceeds_requested"
    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.IN_TRANSIT
    assert counters(world.order) == [(2, 0, 0), (1, 0, 0)]
    assert list(ReturnLine.objects.order_by("pk").values_list("quantity_received", flat=True)) == [0, 0]
    assert TicketEvent.objects.filter(ticket_id=return_request.ticket_id).count() == events
    assert not Deadline.objects.filter(ticket_id=return_request.ticket_id, kind=timers.CONFIRM_RECEIPT).exists()


def test_a_partial_parcel_is_received_as_counted_and_an_empty_count_is_refused():
    world = make_world()
    return_request = drive(world, submit(world), S.IN_TRANSIT)
    first, _second = return_request.lines.order_by("pk")

    with pytest.raises(InvalidInput) as refusal:
        return_request_receive(return_request=return_request, actor=world.warehouse, quantities={first.pk: 0})
    assert refusal.value.code == "nothing_received"

    return_request_receive(return_request=return_request, actor=world.warehouse, quantities={first.pk: 1})

    assert counters(world.order) == [(2, 1, 0), (1, 0, 0)]


def test_an_inspection_must_judge_every_received_unit_and_no_more():
    world = make_world()
    return_request = drive(world, submit(world), S.RECEIVED)
    first, second = return_request.lines.order_by("pk")
    too_many = [
        LineInspection(return_line_id=first.pk, accepted=2, rejected=1, grade="good", disposition="restock"),
        LineInspection(return_line_id=second.pk, accepted=1, rejected=0, grade="good", disposition="restock"),
    ]
    missing_line = too_many[1:]

    for lines in (too_many, missing_line):
        with pytest.raises(InvalidInput) as refusal:
            return_request_inspect(return_request=return_request, actor=world.warehouse, lines=lines)
        assert refusal.value.code == "units_not_judged"
    with pytest.raises(InvalidInput) as refusal:
        return_request_inspect(
            return_request=return_request,
            actor=world.warehouse,
            lines=[LineInspection(return_line_id=first.pk, accepted=2, rejected=0, grade="good")],
        )
    assert refusal.value.code == "disposition_required"

    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.RECEIVED
    assert counters(world.order) == [(2, 2, 0), (1, 1, 0)]
    assert list(ReturnLine.objects.order_by("pk").values_list("quantity_accepted", "quantity_rejected")) == [
        (0, 0),
        (0, 0),
    ]
    assert ReturnLineInspection.objects.count() == 0


def test_the_database_refuses_counters_past_their_bounds():
    world = make_world()
    return_request = drive(world, submit(world), S.RECEIVED)
    line = return_request.lines.order_by("pk").first()

    with pytest.raises(IntegrityError), transaction.atomic():
        ReturnLine.objects.filter(pk=line.pk).update(quantity_received=F("quantity_received") + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReturnLine.objects.filter(pk=line.pk).update(quantity_accepted=2, quantity_rejected=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(line.order_line).objects.filter(pk=line.order_line_id).update(quantity_received=F("quantity_received") + 1)

    assert counters(world.order) == [(2, 2, 0), (1, 1, 0)]


# --- after a rejection ---------------------------------------------------------------------------


def test_a_rejected_customer_revises_with_new_photos_and_the_request_is_submitted_again(png_upload):
    world = make_world()
    return_request = drive(world, submit(world), S.REJECTED)
    assert _deadline(return_request, timers.REVISE).state == Deadline.State.PENDING

    return_request = return_request_revise(
        return_request=return_request, customer=world.customer, note="Here is the seal, intact.", files=[png_upload()]
    )

    return_request.refresh_from_db()
    assert (return_request.status, return_request.rejection_reason) == (S.SUBMITTED, "")
    assert return_request.decided_at is None
    assert _deadline(return_request, timers.REVISE).state == Deadline.State.MET
    assert _deadline(return_request, timers.MERCHANT_RESPONSE).state == Deadline.State.PENDING
    assert _ticket_status(return_request) == "open"
    assert Attachment.objects.filter(ticket_id=return_request.ticket_id).count() == 1
    assert _verbs(return_request, public=True)[-3:] == ["customer_message", "status_changed", "return_revised"]


def test_a_resolution_the_terms_do_not_allow_cannot_be_picked_when_revising():
    world = make_world()
    return_request = drive(world, submit(world), S.REJECTED)

    with pytest.raises(InvalidInput) as refusal:
        return_request_revise(return_request=return_request, customer=world.customer, note="Hi", resolution="exchange")

    assert refusal.value.code == "resolution_not_allowed"
    return_request.refresh_from_db()
    assert (return_request.status, return_request.resolution) == (S.REJECTED, "refund")


def test_an_escalation_is_decided_by_a_supervisor_only_and_once():
    world = make_world()
    return_request = drive(world, submit(world), S.REJECTED)

    return_request = return_request_escalate(
        return_request=return_request, customer=world.customer, note="The seal was broken on arrival."
    )

    assert return_request.status == S.ESCALATED
    assert _ticket_status(return_request) == "open"
    assert _deadline(return_request, timers.REVISE).state == Deadline.State.MET
    assert Notification.objects.filter(ticket_id=return_request.ticket_id, template="return_escalated").count() == 1
    with pytest.raises(PermissionRefused):
        return_request_approve(return_request=return_request, actor=world.agent)
    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.ESCALATED

    return_request_reject(return_request=return_request, actor=world.supervisor, reason="Photos show use.")

    return_request.refresh_from_db()
    assert return_request.status == S.REJECTED
    assert _ticket_status(return_request) == "resolved"
    assert Deadline.objects.filter(ticket_id=return_request.ticket_id, kind=timers.REVISE).count() == 1
    for attempt in (
        lambda: return_request_escalate(return_request=return_request, customer=world.customer, note="Again"),
        lambda: return_request_revise(return_request=return_request, customer=world.customer, note="Again"),
    ):
        with pytest.raises(TransitionNotAllowed) as refusal:
            attempt()
        assert refusal.value.code == "decision_final"
    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.REJECTED


def test_a_supervisor_approves_an_escalated_return_and_the_customer_ships():
    world = make_world()
    return_request = drive(world, submit(world), S.REJECTED)
    return_request_escalate(return_request=return_request, customer=world.customer, note="Please look again.")

    return_request = return_request_approve(return_request=return_request, actor=world.supervisor)

    assert return_request.status == S.APPROVED
    assert _deadline(return_request, timers.CUSTOMER_SHIP).state == Deadline.State.PENDING


# --- every allowed move works, every other is refused -------------------------------------------


def _choose(world, rr):
    return return_shipping_choose(return_request=rr, method="drop_off", customer=world.customer)


def _track(world, rr):
    return return_tracking_add(return_request=rr, carrier="SF", tracking_number="SF42", customer=world.customer)


def _receive(world, rr):
    return return_request_receive(return_request=rr, actor=world.warehouse)


def _inspect(world, rr):
    return return_request_inspect(return_request=rr, actor=world.warehouse, lines=inspect_all(rr))


def _revise(world, rr):
    return return_request_revise(return_request=rr, customer=world.customer, note="Look again please.")


def _escalate(world, rr):
    return return_request_escalate(return_request=rr, customer=world.customer, note="Look again please.")


def _expire(world, rr):
    return return_request_expire(return_request=rr)


def _settle(world, rr):
    return return_request_settle_uninspected(return_request=rr)


# (service, target, the states it moves from)
SERVICES = {
    "choose_shipping": (_choose, S.AWAITING_SHIPMENT, {S.APPROVED}),
    "add_tracking": (_track, S.IN_TRANSIT, {S.AWAITING_SHIPMENT}),
    "receive": (_receive, S.RECEIVED, {S.IN_TRANSIT}),
    "inspect": (_inspect, S.INSPECTED, {S.RECEIVED}),
    "revise": (_revise, S.SUBMITTED, {S.REJECTED}),
    "escalate": (_escalate, S.ESCALATED, {S.REJECTED}),
    "expire": (_expire, S.EXPIRED, {S.APPROVED, S.AWAITING_SHIPMENT}),
    "settle_uninspected": (_settle, S.SETTLING, {S.RECEIVED}),
}


def test_each_service_moves_only_along_the_table():
    for _service, target, sources in SERVICES.values():
        assert all(target in RETURN_TRANSITIONS[source] for source in sources)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_allowed_move_works(service):
    action, target, sources = SERVICES[service]
    for source in sorted(sources):
        world = make_world()
        return_request = drive(world, submit(world), source)

        action(world, return_request)

        assert ReturnRequest.objects.get(pk=return_request.pk).status == target


@pytest.mark.parametrize(
    ("service", "source"),
    [
        (name, source)
        for name, (_action, _target, sources) in sorted(SERVICES.items())
        for source in S.values
        if source not in sources
    ],
)
def test_every_other_move_is_refused_and_nothing_changes(service, source):
    action, _target, _sources = SERVICES[service]
    world = make_world()
    return_request = submit(world)
    # A rejected return's revise window is open, so only the state decides.
    timers.start_revise(return_request, world.policy, at=timezone.now())
    ReturnRequest.objects.filter(pk=return_request.pk).update(status=source)
    return_request.refresh_from_db()
    before = (
        _verbs(return_request),
        counters(world.order),
        list(Deadline.objects.order_by("id").values_list("kind", "state")),
        ReturnShipment.objects.count(),
        list(ReturnLine.objects.order_by("pk").values_list("quantity_received", "quantity_accepted")),
        _ticket_status(return_request),
    )

    with pytest.raises(TransitionNotAllowed):
        action(world, return_request)

    after = (
        _verbs(return_request),
        counters(world.order),
        list(Deadline.objects.order_by("id").values_list("kind", "state")),
        ReturnShipment.objects.count(),
        list(ReturnLine.objects.order_by("pk").values_list("quantity_received", "quantity_accepted")),
        _ticket_status(return_request),
    )
    assert ReturnRequest.objects.get(pk=return_request.pk).status == source
    assert after == before


# --- bulk --------------------------------------------------------------------------------------


def test_bulk_approve_reports_each_id_and_one_refusal_holds_back_nothing():
    world = make_world(quantities=(1, 1, 1))
    lines = list(world.order.lines.order_by("pk"))
    first = submit(world, quantities=[1, 0, 0])
    already = drive(world, submit(world, quantities=[0, 1, 0]), S.APPROVED)
    last = submit(world, quantities=[0, 0, 1])
    other = make_world()
    foreign = submit(other)
    assert len(lines) == 3

    outcomes = return_requests_bulk_approve(
        merchant=world.merchant, ids=[first.pk, already.pk, foreign.pk, 999999, last.pk, first.pk], actor=world.agent
    )

    assert outcomes == [
        BulkOutcome(id=first.pk, ok=True, status=S.APPROVED),
        BulkOutcome(
            id=already.pk,
            ok=False,
            status=S.APPROVED,
            code="transition_not_allowed",
            message="A return that is Approved cannot become Approved.",
        ),
        BulkOutcome(id=foreign.pk, ok=False, code="not_found", message="No such return."),
        BulkOutcome(id=999999, ok=False, code="not_found", message="No such return."),
        BulkOutcome(id=last.pk, ok=True, status=S.APPROVED),
    ]
    assert ReturnRequest.objects.get(pk=foreign.pk).status == S.SUBMITTED


def test_bulk_receive_counts_every_parcel_in_and_refuses_those_not_on_their_way():
    world = make_world(quantities=(1, 1))
    travelling = drive(world, submit(world, quantities=[1, 0]), S.IN_TRANSIT)
    waiting = drive(world, submit(world, quantities=[0, 1]), S.AWAITING_SHIPMENT)

    outcomes = return_requests_bulk_receive(
        merchant=world.merchant, ids=[travelling.pk, waiting.pk], actor=world.warehouse
    )

    assert outcomes == [
        BulkOutcome(id=travelling.pk, ok=True, status=S.RECEIVED),
        BulkOutcome(
            id=waiting.pk,
            ok=False,
            status=S.AWAITING_SHIPMENT,
            code="not_shipped",
            message="This parcel has not been sent yet; add its tracking number first.",
        ),
    ]
    assert counters(world.order) == [(1, 1, 0), (1, 0, 0)]


def test_staff_without_a_membership_get_a_refusal_per_id_in_bulk():
    world = make_world()
    other = make_world()
    return_request = submit(world)
    outsider = MembershipFactory(merchant=other.merchant, role=Membership.Role.SUPERVISOR).user

    outcomes = return_requests_bulk_approve(merchant=world.merchant, ids=[return_request.pk], actor=outsider)

    assert [(o.ok, o.status, o.code) for o in outcomes] == [(False, S.SUBMITTED, "permission_denied")]


@pytest.mark.parametrize(
    ("template", "extra"),
    [
        ("return_ship_instructions", {"method": "drop_off", "return_address": RETURN_ADDRESS}),
        (
            "return_ship_instructions",
            {"method": "pickup", "pickup_address": "12 Home St", "pickup_from": "09:00", "pickup_until": "11:00"},
        ),
        ("return_ship_instructions", {"method": "in_store", "store": "Nanjing Road"}),
        ("return_ship_reminder", {"ship_by": "2026-03-09 10:00"}),
        ("return_expired", {}),
        ("return_received", {"units": 3}),
        ("return_inspected", {"accepted": 1, "rejected": 2}),
        ("return_escalated", {"note": "Look again", "ticket_url": "https://x/t"}),
        ("return_quick_refund_flagged", {"rejected": 2, "ticket_url": "https://x/t"}),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_journey_message_renders_with_what_the_services_give_it(template, extra, language):
    context = {
        "customer_name": "Li Lei",
        "merchant_name": "Tent Co",
        "ticket_number": "RT-000042",
        "ticket_subject": "Return: tent",
        "portal_url": "https://x/portal/",
        **extra,
    }

    rendered = render_notification(template, context, language)

    assert "RT-000042" in rendered.subject
    assert "RT-000042" in rendered.body
    assert "RT-000042" in rendered.short
    # Every value shows, but the method code, which picks the wording.
    for key, value in extra.items():
        assert key == "method" or str(value) in rendered.body


@pytest.mark.django_db(transaction=True)
def test_two_warehouse_clicks_on_one_parcel_receive_it_once():
    world = make_world()
    return_request = drive(world, submit(world), S.IN_TRANSIT)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt():
        try:
            barrier.wait(timeout=10)
            return_request_receive(return_request=return_request, actor=world.warehouse)
            outcomes.append("received")
        except TransitionNotAllowed as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["received", "transition_not_allowed"]
    assert counters(world.order) == [(2, 2, 0), (1, 1, 0)]
    assert TicketEvent.objects.filter(ticket_id=return_request.ticket_id, verb="return_received").count() == 1


def test_scrapped_units_are_written_off_on_the_order_line_and_restocked_ones_are_not():
    world = make_world()
    return_request = drive(world, submit(world), S.RECEIVED)
    first, second = return_request.lines.order_by("pk")

    return_request_inspect(
        return_request=return_request,
        actor=world.warehouse,
        lines=[
            LineInspection(return_line_id=first.pk, accepted=2, rejected=0, grade="damaged", disposition="scrap"),
            LineInspection(return_line_id=second.pk, accepted=1, rejected=0, grade="good", disposition="restock"),
        ],
    )

    written_off = (
        OrderLine.objects.filter(order=world.order).order_by("pk").values_list("quantity_written_off", flat=True)
    )
    assert list(written_off) == [2, 0]
