"""A return parcel lost by the carrier: settled first as if it had arrived, then claimed from the
carrier. Declaring it lost, the settlement that follows, the claim's decisions, the parcel that
turns up after all, the race of two declarations, the customer's message and the report. (The
customer's timeline: test_portal_lost_parcel.py; the pages: test_dashboard_lost_parcels.py; the API:
test_api_lost_parcels.py.)"""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership, Notification, Order, OrderLine, WebhookEndpoint
from aftersales.notifications.rendering import render_notification
from aftersales.tests.factories import MembershipFactory
from returns.models import (
    CLAIM_TRANSITIONS,
    CarrierClaim,
    ClaimState,
    Refund,
    RefundExecution,
    RefundState,
    ReturnLine,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
)
from returns.reports import LostParcels, returns_report
from returns.services import (
    carrier_claim_reject,
    carrier_claim_settle,
    carrier_claim_withdraw,
    refund_confirm_manual,
    refund_grant,
    return_parcel_declare_lost,
    return_request_receive,
    return_request_receive_by_tracking,
    return_request_settle,
)
from returns.tests.builders import counters, drive, in_transit, make_world, submit
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db
S = ReturnStatus


# --- helpers ------------------------------------------------------------------------------------


def _declare(world, return_request, *, actor=None, note="SF says the parcel is lost at the depot.") -> ReturnRequest:
    return return_parcel_declare_lost(return_request=return_request, actor=actor or world.supervisor, note=note)


def _inbound(return_request) -> ReturnShipment:
    return ReturnShipment.objects.get(return_request_id=return_request.pk, direction=ShipmentDirection.TO_MERCHANT)


def _events(return_request) -> list[tuple[str, bool]]:
    return list(
        TicketEvent.objects.filter(ticket_id=return_request.ticket_id)
        .exclude(verb="status_changed")
        .order_by("id")
        .values_list("verb", "is_public")
    )


def _snapshot(return_request) -> dict:
    """Everything declaring a parcel lost or deciding its claim could change."""
    fresh = ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)
    return {
        "status": fresh.status,
        "ticket_status": fresh.ticket.status,
        "counters": counters(fresh.order),
        "lines": list(
            ReturnLine.objects.filter(return_request=fresh)
            .order_by("pk")
            .values_list("quantity_received", "quantity_accepted", "quantity_rejected")
        ),
        "shipments": list(
            ReturnShipment.objects.filter(return_request=fresh)
            .order_by("pk")
            .values_list("lost_at", "received_at", "received_by")
        ),
        "claims": list(
            CarrierClaim.objects.filter(return_request=fresh)
            .order_by("pk")
            .values_list(
                "state", "amount_claimed", "amount_recovered", "carrier_reference", "decision_note", "decided_at"
            )
        ),
        "refunds": list(Refund.objects.filter(return_request=fresh).values_list("amount", "state")),
        "events": _events(fresh),
        "notifications": Notification.objects.filter(ticket_id=fresh.ticket_id).count(),
    }


def _claim(return_request) -> CarrierClaim:
    return CarrierClaim.objects.get(return_request_id=return_request.pk)


# --- declaring the parcel lost ------------------------------------------------------------------


def test_a_parcel_lost_in_transit_is_settled_as_requested_and_the_carrier_claimed_for_what_was_paid(
    django_capture_on_commit_callbacks,
):
    # Given a return of 2 + 1 units at 100.00 on its way back, and an ERP that hears of status changes
    world = make_world()
    return_request = in_transit(world)
    WebhookEndpoint.objects.create(merchant=world.merchant, url="https://erp.example.com/hooks")
    before_notifications = Notification.objects.filter(template="return_parcel_lost").count()

    # When a supervisor declares the parcel lost
    with django_capture_on_commit_callbacks(execute=True):
        _declare(world, return_request)

    # Then every unit counts as received and accepted, on the return and on the order alike
    return_request = ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)
    assert return_request.status == S.SETTLING
    assert return_request.ticket.status == "open"
    assert counters(world.order) == [(2, 2, 2), (1, 1, 1)]
    assert list(
        return_request.lines.order_by("pk").values_list("quantity_received", "quantity_accepted", "quantity_rejected")
    ) == [(2, 2, 0), (1, 1, 0)]
    shipment = _inbound(return_request)
    assert shipment.lost_at is not None
    assert shipment.received_at is None
    # and the usual settlement followed after commit: one refund of what the customer paid
    paid = sum((line.paid_amount for line in world.lines), Decimal("0"))
    assert paid == Decimal("300.00")
    assert list(Refund.objects.filter(return_request=return_request).values_list("amount", "state", "granted_by")) == [
        (paid, RefundState.GRANTED, None)
    ]
    # and the claim on the carrier is open for the paid value of the parcel's units
    claim = _claim(return_request)
    assert (claim.state, claim.amount_claimed, claim.amount_recovered, claim.currency) == (
        ClaimState.OPEN,
        Decimal("300.00"),
        Decimal("0.00"),
        "CNY",
    )
    assert (claim.carrier, claim.tracking_number, claim.shipment_id) == (
        "SF Express",
        f"SF{return_request.pk:010d}",
        shipment.pk,
    )
    assert (claim.opened_by, claim.notes, claim.decided_at) == (
        world.supervisor,
        "SF says the parcel is lost at the depot.",
        None,
    )
    # and the customer sees the lost step (never the staff's note); staff see the claim
    assert _events(return_request)[-4:] == [
        ("return_in_transit", True),
        ("return_parcel_lost", True),
        ("carrier_claim_opened", False),
        ("refund_granted", True),
    ]
    lost = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_parcel_lost")
    assert lost.actor_user == world.supervisor
    assert lost.data == {
        "carrier": "SF Express",
        "tracking_number": f"SF{return_request.pk:010d}",
        "lines": {str(line.pk): line.quantity for line in return_request.lines.order_by("pk")},
    }
    opened = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="carrier_claim_opened")
    assert (opened.is_public, opened.data["amount"], opened.data["note"]) == (
        False,
        "300.00",
        "SF says the parcel is lost at the depot.",
    )
    # and the customer is told once on each channel they have (e-mail and SMS by default), and the
    # ERP hears of the move to settling
    told = Notification.objects.filter(ticket_id=return_request.ticket_id, template="return_parcel_lost")
    assert told.count() - before_notifications == 2
    assert sorted(told.values_list("channel", "recipient")) == [
        ("email", world.customer.email),
        ("sms", world.customer.phone),
    ]
    moves = [
        (row.context["data"]["return"]["previous_status"], row.context["data"]["return"]["status"])
        for row in Notification.objects.filter(ticket_id=return_request.ticket_id, channel="webhook").order_by("pk")
    ]
    assert moves == [("in_transit", "settling")]


def test_the_lost_parcels_refund_is_paid_once_and_completes_the_return(django_capture_on_commit_callbacks):
    # Given a lost parcel whose refund was granted by the settlement
    world = make_world()
    return_request = in_transit(world)
    with django_capture_on_commit_callbacks(execute=True):
        _declare(world, return_request)
    refund = Refund.objects.get(return_request=return_request)

    # When staff confirm the payout, and the settlement is asked for again
    refund_confirm_manual(execution=RefundExecution.objects.get(refund=refund), actor=world.agent, reference="BO-1")
    with pytest.raises(TransitionNotAllowed):
        return_request_settle(return_request=return_request, actor=world.supervisor)

    # Then the return is complete with exactly the paid amount refunded, once
    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.COMPLETED
    assert list(Refund.objects.filter(return_request=return_request).values_list("amount", "state")) == [
        (Decimal("300.00"), RefundState.PAID)
    ]
    # and the claim on the carrier is still open: the customer never waits on the carrier
    assert _claim(return_request).state == ClaimState.OPEN


def test_a_quick_refund_paid_in_transit_is_not_paid_again_when_the_parcel_is_lost(django_capture_on_commit_callbacks):
    # Given a quick refund already paid while the parcel travelled
    world = make_world()
    return_request = in_transit(world)
    refund = refund_grant(return_request=return_request, actor=None, quick=True, grant_key="quick-1")
    execution = RefundExecution.objects.create(
        merchant=world.merchant, refund=refund, adapter="manual", idempotency_key="quick-1"
    )
    refund_confirm_manual(execution=execution, actor=world.supervisor, reference="BO-7")

    # When the parcel is declared lost
    with django_capture_on_commit_callbacks(execute=True):
        _declare(world, return_request)

    # Then the settlement finds it paid: the return completes with that one refund
    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.COMPLETED
    assert list(Refund.objects.filter(return_request=return_request).values_list("amount", "state")) == [
        (Decimal("300.00"), RefundState.PAID)
    ]
    assert _claim(return_request).amount_claimed == Decimal("300.00")


def test_the_claim_is_for_what_was_paid_even_when_the_refund_takes_a_restocking_fee(
    django_capture_on_commit_callbacks,
):
    # Given a 10 % restocking fee: the customer gets 90.00 a unit back for 100.00 paid
    world = make_world()
    world.policy.rules.create(
        position=1, name="10 % fee", window_days=15, allowed_resolutions=["refund"], restocking_fee_percent=10
    )
    return_request = in_transit(world, quantities=[2, 0])

    with django_capture_on_commit_callbacks(execute=True):
        _declare(world, return_request)

    # Then the refund is what the terms promised and the claim what the units were paid
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("180.00")]
    assert _claim(return_request).amount_claimed == Decimal("200.00")


def test_a_lost_exchange_is_left_settling_for_the_replacement_and_pays_nothing(django_capture_on_commit_callbacks):
    world = make_world()
    world.policy.rules.create(position=1, name="Exchanges", window_days=15, allowed_resolutions=["exchange"])
    return_request = in_transit(world, resolution="exchange")

    with django_capture_on_commit_callbacks(execute=True):
        _declare(world, return_request)

    assert ReturnRequest.objects.get(pk=return_request.pk).status == S.SETTLING
    assert Refund.objects.count() == 0
    assert _claim(return_request).amount_claimed == Decimal("300.00")


@pytest.mark.parametrize("status", [status for status in S.values if status != S.IN_TRANSIT])
def test_declaring_lost_is_refused_unless_the_parcel_is_in_transit_and_changes_nothing(status):
    # Given a return with a parcel and its tracking number, put in another status
    world = make_world()
    return_request = in_transit(world)
    ReturnRequest.objects.filter(pk=return_request.pk).update(status=status)
    before = _snapshot(return_request)

    with pytest.raises(TransitionNotAllowed) as refusal:
        _declare(world, return_request)

    assert refusal.value.code == "not_in_transit"
    assert _snapshot(return_request) == before
    assert CarrierClaim.objects.count() == 0


def test_a_parcel_not_sent_yet_cannot_be_declared_lost_and_nothing_changes():
    world = make_world()
    return_request = drive(world, submit(world), S.AWAITING_SHIPMENT)
    before = _snapshot(return_request)

    with pytest.raises(TransitionNotAllowed):
        _declare(world, return_request)

    assert _snapshot(return_request) == before


@pytest.mark.parametrize("role", [Membership.Role.WAREHOUSE, Membership.Role.TECHNICIAN])
def test_a_role_that_may_not_refund_cannot_declare_a_parcel_lost(role):
    world = make_world()
    return_request = in_transit(world)
    member = MembershipFactory(merchant=world.merchant, role=role).user
    before = _snapshot(return_request)

    with pytest.raises(PermissionRefused) as refusal:
        _declare(world, return_request, actor=member)

    assert refusal.value.code == "role_cannot_claim"
    assert _snapshot(return_request) == before


def test_another_merchants_supervisor_cannot_declare_a_parcel_lost():
    world = make_world()
    return_request = in_transit(world)
    before = _snapshot(return_request)

    with pytest.raises(PermissionRefused):
        _declare(world, return_request, actor=make_world().supervisor)

    assert _snapshot(return_request) == before


def test_an_agent_declares_a_parcel_lost_only_within_the_refund_limit(settings):
    # Given an agent limit of 250.00 and two returns: 300.00 and 200.00
    settings.REFUND_AGENT_LIMIT = "250.00"
    world = make_world(quantities=(3, 2))
    dear = in_transit(world, quantities=[3, 0])
    cheap = in_transit(world, quantities=[0, 2])
    before = _snapshot(dear)

    # Then the agent is refused the dearer one, and a supervisor is not
    with pytest.raises(PermissionRefused) as refusal:
        _declare(world, dear, actor=world.agent)
    assert refusal.value.code == "refund_limit_exceeded"
    assert _snapshot(dear) == before
    _declare(world, cheap, actor=world.agent)
    _declare(world, dear, actor=world.supervisor)
    assert sorted(CarrierClaim.objects.values_list("amount_claimed", flat=True)) == [
        Decimal("200.00"),
        Decimal("300.00"),
    ]


def test_the_agent_limit_counts_the_shipping_a_merchant_fault_refunds_and_not_an_exchange(settings):
    # Given an agent limit of 250.00, a 200.00 return whose reason is the merchant's fault on an
    # order with 60.00 of shipping (refunded too, so 260.00 in all), and a 300.00 exchange
    settings.REFUND_AGENT_LIMIT = "250.00"
    world = make_world(quantities=(3, 2))
    world.policy.rules.create(
        position=1, name="Refund or exchange", window_days=30, allowed_resolutions=["refund", "exchange"]
    )
    world.reason.responsibility = "merchant"
    world.reason.save(update_fields=["responsibility"])
    Order.objects.filter(pk=world.order.pk).update(shipping_amount=Decimal("60.00"))
    refund = in_transit(world, quantities=[0, 2])
    before = _snapshot(refund)

    # Then the agent is refused the refund: goods and shipping pass the limit
    with pytest.raises(PermissionRefused) as refusal:
        _declare(world, refund, actor=world.agent)
    assert refusal.value.code == "refund_limit_exceeded"
    assert _snapshot(refund) == before

    # and an exchange, which pays no money, is the agent's to declare whatever its value
    exchange = in_transit(world, quantities=[3, 0], resolution="exchange")
    _declare(world, exchange, actor=world.agent)
    assert ReturnRequest.objects.get(pk=exchange.pk).status == S.SETTLING


def test_a_refund_to_the_original_payment_is_refused_while_the_parcel_travels():
    # The table lets in_transit become settling, but only by declaring the parcel lost.
    world = make_world()
    return_request = in_transit(world)
    before = _snapshot(return_request)

    with pytest.raises(TransitionNotAllowed) as refusal:
        return_request_settle(return_request=return_request, actor=world.supervisor)

    assert refusal.value.code == "items_not_back"
    assert _snapshot(return_request) == before


@pytest.mark.django_db(transaction=True)
def test_two_staff_declaring_the_same_parcel_lost_at_once_open_one_claim():
    # Given one parcel in transit and two supervisors who click at the same moment
    world = make_world()
    return_request = in_transit(world)
    second = MembershipFactory(merchant=world.merchant, role=Membership.Role.SUPERVISOR).user
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(actor):
        try:
            barrier.wait(timeout=10)
            return_parcel_declare_lost(return_request=return_request, actor=actor, note="")
            outcomes.append("declared")
        except TransitionNotAllowed as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(actor,)) for actor in (world.supervisor, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then one wins, the other is refused, and everything happened once
    assert sorted(outcomes) == ["declared", "not_in_transit"]
    assert list(CarrierClaim.objects.values_list("amount_claimed", "state")) == [(Decimal("300.00"), ClaimState.OPEN)]
    assert counters(world.order) == [(2, 2, 2), (1, 1, 1)]
    assert TicketEvent.objects.filter(ticket_id=return_request.ticket_id, verb="return_parcel_lost").count() == 1
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("300.00")]


def test_the_database_holds_one_open_claim_per_return_and_bounds_what_is_recovered():
    world = make_world()
    return_request = in_transit(world)
    _declare(world, return_request)
    claim = _claim(return_request)

    def insert(**fields):
        values = {
            "merchant": world.merchant,
            "return_request": return_request,
            "shipment": claim.shipment,
            "carrier": "SF",
            "tracking_number": "X",
            "amount_claimed": Decimal("10.00"),
            "currency": "CNY",
            "opened_at": timezone.now(),
            **fields,
        }
        with pytest.raises(IntegrityError), transaction.atomic():
            CarrierClaim.objects.create(**values)

    insert()  # a second open claim
    now = timezone.now()
    insert(state=ClaimState.PAID, decided_at=now, amount_recovered=Decimal("10.01"))  # more than claimed
    insert(state=ClaimState.REJECTED, decided_at=now, amount_recovered=Decimal("1.00"))  # money on a rejection
    insert(state=ClaimState.PAID, decided_at=None, amount_recovered=Decimal("1.00"))  # decided without a time
    insert(state=ClaimState.REJECTED, decided_at=now, amount_claimed=Decimal("-1.00"))
    assert CarrierClaim.objects.count() == 1


# --- the claim's decisions ----------------------------------------------------------------------


@pytest.fixture
def lost(db):
    world = make_world()
    return_request = in_transit(world)
    _declare(world, return_request)
    return world, return_request, _claim(return_request)


def test_the_carrier_paying_the_claim_records_what_came_back(lost):
    world, return_request, claim = lost

    settled = carrier_claim_settle(
        claim=claim, actor=world.agent, amount_recovered=Decimal("250.00"), reference=" SF-CLM-88 "
    )

    claim.refresh_from_db()
    assert settled.pk == claim.pk
    assert (claim.state, claim.amount_recovered, claim.carrier_reference, claim.decided_by) == (
        ClaimState.PAID,
        Decimal("250.00"),
        "SF-CLM-88",
        world.agent,
    )
    assert claim.decided_at is not None
    paid = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="carrier_claim_paid")
    assert (paid.is_public, paid.data) == (
        False,
        {"claim": claim.pk, "amount": "250.00", "claimed": "300.00", "currency": "CNY", "reference": "SF-CLM-88"},
    )


def test_the_same_payment_recorded_again_changes_nothing(lost):
    world, return_request, claim = lost
    carrier_claim_settle(claim=claim, actor=world.agent, amount_recovered="250", reference="SF-CLM-88")
    before = _snapshot(return_request)

    again = carrier_claim_settle(claim=claim, actor=world.agent, amount_recovered="250.00", reference="SF-CLM-88")

    assert again.state == ClaimState.PAID
    assert _snapshot(return_request) == before


@pytest.mark.parametrize(
    ("amount", "reference", "code"),
    [
        ("300.01", "SF-1", "amount_exceeds_claim"),
        ("0", "SF-1", "amount_not_positive"),
        ("-5", "SF-1", "amount_not_positive"),
        ("abc", "SF-1", "invalid_amount"),
        ("100", "  ", "reference_required"),
    ],
)
def test_a_payment_that_cannot_be_is_refused_and_changes_nothing(lost, amount, reference, code):
    world, return_request, claim = lost
    before = _snapshot(return_request)

    with pytest.raises(InvalidInput) as refusal:
        carrier_claim_settle(claim=claim, actor=world.agent, amount_recovered=amount, reference=reference)

    assert refusal.value.code == code
    assert _snapshot(return_request) == before


def test_the_carrier_rejecting_the_claim_leaves_the_loss_with_the_merchant(lost):
    world, return_request, claim = lost

    carrier_claim_reject(claim=claim, actor=world.supervisor, reason="Declared value missing on the waybill.")

    claim.refresh_from_db()
    assert (claim.state, claim.amount_recovered, claim.decision_note, claim.decided_by) == (
        ClaimState.REJECTED,
        Decimal("0.00"),
        "Declared value missing on the waybill.",
        world.supervisor,
    )
    assert _events(return_request)[-1] == ("carrier_claim_rejected", False)


def test_a_rejection_needs_a_reason(lost):
    world, return_request, claim = lost
    before = _snapshot(return_request)

    with pytest.raises(InvalidInput) as refusal:
        carrier_claim_reject(claim=claim, actor=world.supervisor, reason=" ")

    assert refusal.value.code == "reason_required"
    assert _snapshot(return_request) == before


def _decisions(world):
    return {
        ClaimState.PAID: lambda claim: carrier_claim_settle(
            claim=claim, actor=world.agent, amount_recovered="100.00", reference="R-1"
        ),
        ClaimState.REJECTED: lambda claim: carrier_claim_reject(claim=claim, actor=world.agent, reason="No."),
        ClaimState.WITHDRAWN: lambda claim: carrier_claim_withdraw(claim=claim, actor=world.agent, note="Found."),
    }


def test_each_decision_moves_the_claim_only_along_its_table():
    assert CLAIM_TRANSITIONS[ClaimState.OPEN] == {ClaimState.PAID, ClaimState.REJECTED, ClaimState.WITHDRAWN}
    assert all(not CLAIM_TRANSITIONS[state] for state in ClaimState.values if state != ClaimState.OPEN)


@pytest.mark.parametrize("first", [ClaimState.PAID, ClaimState.REJECTED, ClaimState.WITHDRAWN])
@pytest.mark.parametrize("then", [ClaimState.PAID, ClaimState.REJECTED, ClaimState.WITHDRAWN])
def test_a_decided_claim_is_decided_once_and_a_second_decision_changes_nothing(lost, first, then):
    world, return_request, claim = lost
    decisions = _decisions(world)
    decisions[first](claim)
    if (first, then) == (ClaimState.PAID, ClaimState.PAID):
        # A different payment on a paid claim (the same one again is a replay, above).
        decisions[then] = lambda claim: carrier_claim_settle(
            claim=claim, actor=world.agent, amount_recovered="120.00", reference="R-2"
        )
    before = _snapshot(return_request)

    with pytest.raises(TransitionNotAllowed) as refusal:
        decisions[then](claim)

    assert refusal.value.code == "claim_already_decided"
    assert _snapshot(return_request) == before


@pytest.mark.parametrize("decision", [ClaimState.PAID, ClaimState.REJECTED, ClaimState.WITHDRAWN])
def test_the_warehouse_and_other_merchants_cannot_decide_a_claim(lost, decision):
    world, return_request, claim = lost
    outsiders = [
        world.warehouse,
        MembershipFactory(merchant=make_world().merchant, role=Membership.Role.MERCHANT_ADMIN).user,
    ]
    before = _snapshot(return_request)

    decide = {
        ClaimState.PAID: lambda actor: carrier_claim_settle(
            claim=claim, actor=actor, amount_recovered="1.00", reference="R"
        ),
        ClaimState.REJECTED: lambda actor: carrier_claim_reject(claim=claim, actor=actor, reason="No."),
        ClaimState.WITHDRAWN: lambda actor: carrier_claim_withdraw(claim=claim, actor=actor),
    }[decision]
    for outsider in outsiders:
        with pytest.raises(PermissionRefused):
            decide(outsider)

    assert _snapshot(return_request) == before


# --- the parcel turns up after all --------------------------------------------------------------


def test_a_lost_parcel_scanned_in_is_refused_and_staff_are_told_to_withdraw_the_claim(lost):
    world, return_request, claim = lost
    before = _snapshot(return_request)

    with pytest.raises(TransitionNotAllowed) as by_hand:
        return_request_receive(return_request=return_request, actor=world.warehouse)
    with pytest.raises(TransitionNotAllowed) as by_scan:
        return_request_receive_by_tracking(
            merchant=world.merchant, tracking_number=claim.tracking_number, actor=world.warehouse
        )

    for refusal in (by_hand, by_scan):
        assert refusal.value.code == "parcel_declared_lost"
        assert "withdraw the carrier claim first" in str(refusal.value.message)
    # nothing is counted twice
    assert _snapshot(return_request) == before
    assert counters(world.order) == [(2, 2, 2), (1, 1, 1)]


def _written_off(world) -> list[int]:
    return list(
        OrderLine.objects.filter(order=world.order).order_by("pk").values_list("quantity_written_off", flat=True)
    )


def test_the_lost_units_are_written_off_and_the_claim_knows_them(lost):
    world, _return_request, claim = lost

    assert _written_off(world) == [2, 1]
    assert claim.units_lost == {str(world.lines[0].pk): 2, str(world.lines[1].pk): 1}


def test_withdrawing_the_claim_records_the_parcel_received_without_counting_it_again(lost):
    world, return_request, claim = lost
    counted = counters(world.order)

    carrier_claim_withdraw(claim=claim, actor=world.agent, note="Turned up at the Ningbo depot.")

    claim.refresh_from_db()
    assert (claim.state, claim.decision_note, claim.decided_by, claim.amount_recovered) == (
        ClaimState.WITHDRAWN,
        "Turned up at the Ningbo depot.",
        world.agent,
        Decimal("0.00"),
    )
    shipment = _inbound(return_request)
    assert (shipment.received_at, shipment.received_by) == (claim.decided_at, world.agent)
    assert shipment.lost_at is not None
    assert counters(world.order) == counted
    # and the units are no longer written off: they are back in the warehouse
    assert _written_off(world) == [0, 0]
    assert _events(return_request)[-1] == ("carrier_claim_withdrawn", False)
    # and a later scan still counts nothing
    before = _snapshot(return_request)
    with pytest.raises(TransitionNotAllowed) as refusal:
        return_request_receive(return_request=return_request, actor=world.warehouse)
    assert refusal.value.code == "parcel_declared_lost"
    assert "already counted" in str(refusal.value.message)
    assert _snapshot(return_request) == before


# --- what the customer reads --------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_lost_parcel_message_renders_with_what_the_service_gives_it(language):
    context = {
        "customer_name": "Li Lei",
        "merchant_name": "Tent Co",
        "ticket_number": "RT-000042",
        "ticket_subject": "Return: tent",
        "portal_url": "https://x/portal/",
        "carrier": "SF Express",
        "tracking_number": "SF0000000042",
    }

    rendered = render_notification("return_parcel_lost", context, language)

    assert "RT-000042" in rendered.subject
    assert "RT-000042" in rendered.short
    assert "https://x/portal/" in rendered.short
    assert all(value in rendered.body for value in ("RT-000042", "SF Express", "SF0000000042", "https://x/portal/"))


# --- the returns report -------------------------------------------------------------------------


def test_the_report_counts_parcels_lost_and_what_carriers_paid_in_the_period():
    # Given three parcels on their way on 3 March, two lost that day, one of them paid back on
    # 12 March, and the third lost on 20 March
    with time_machine.travel(datetime(2026, 3, 3, 4, 0, tzinfo=UTC), tick=False):
        world = make_world(quantities=(3, 1))
        first = in_transit(world, quantities=[1, 0])
        second = in_transit(world, quantities=[2, 0])
        third = in_transit(world, quantities=[0, 1])
        _declare(world, first)
        _declare(world, second)
    with time_machine.travel(datetime(2026, 3, 12, 4, 0, tzinfo=UTC), tick=False):
        carrier_claim_settle(claim=_claim(second), actor=world.agent, amount_recovered="150", reference="SF-9")
    with time_machine.travel(datetime(2026, 3, 20, 4, 0, tzinfo=UTC), tick=False):
        _declare(world, third)
    other = make_world()
    _declare(other, in_transit(other))  # another merchant's, today

    def lost_in(start, days):
        begin = datetime(2026, 3, start, tzinfo=UTC)
        return returns_report(merchant=world.merchant, start=begin, end=begin + timedelta(days=days)).lost_parcels

    # Then each period counts what was lost in it and what came back in it
    assert lost_in(1, 31) == [LostParcels("CNY", 3, Decimal("400.00"), Decimal("150.00"))]
    assert lost_in(1, 7) == [LostParcels("CNY", 2, Decimal("300.00"), Decimal("0.00"))]
    assert lost_in(10, 5) == [LostParcels("CNY", 0, Decimal("0.00"), Decimal("150.00"))]
    assert lost_in(21, 5) == []
