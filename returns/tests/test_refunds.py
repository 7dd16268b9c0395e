"""Settling returns: refunds capped by what was paid, store credit, exchanges, staff limits."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership, Notification, OrderLine
from aftersales.tests.factories import MembershipFactory, OrderLineFactory
from returns.models import (
    ExecutionState,
    Refund,
    RefundExecution,
    RefundLine,
    RefundState,
    ReplacementShipment,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    StoreCreditAccount,
    StoreCreditEntry,
)
from returns.services import (
    exchange_ship,
    refund_confirm_manual,
    refund_execute,
    refund_grant,
    return_request_settle,
    store_credit_grant,
    store_credit_spend,
)
from returns.tests.builders import approved_return, settlement_setup
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


# --- arrange helpers, shared with the adapter and race tests -------------------------------------


def status_of(return_request) -> str:
    return ReturnRequest.objects.get(pk=return_request.pk).status


def line_counters(line) -> tuple[int, int]:
    line = OrderLine.objects.get(pk=line.pk)
    return line.quantity_refunded, line.quantity_exchanged


def refunded_for(line) -> Decimal:
    return RefundLine.objects.filter(order_line=line).aggregate(total=Sum("amount"))["total"] or Decimal("0")


@pytest.fixture
def setup():
    return settlement_setup()


@pytest.fixture
def agent(setup):
    return MembershipFactory(merchant=setup["merchant"], role=Membership.Role.AGENT).user


# --- refunds ------------------------------------------------------------------------------------


def test_a_received_return_is_refunded_in_full_and_completes_when_staff_confirm_the_payout(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)

    return_request = return_request_settle(return_request=return_request, actor=setup["supervisor"])

    refund = Refund.objects.get()
    assert (refund.amount, refund.shipping_amount, refund.currency) == (Decimal("580.00"), Decimal("0.00"), "CNY")
    assert refund.state == RefundState.GRANTED
    assert list(refund.lines.values_list("order_line_id", "quantity", "amount")) == [
        (setup["line"].pk, 2, Decimal("580.00"))
    ]
    execution = RefundExecution.objects.get()
    assert (execution.adapter, execution.state, execution.attempts) == ("manual", ExecutionState.PENDING, 0)
    assert return_request.status == ReturnStatus.SETTLING
    assert line_counters(setup["line"]) == (2, 0)

    refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="TMALL-RF-778")

    execution.refresh_from_db()
    refund.refresh_from_db()
    return_request.refresh_from_db()
    return_request.ticket.refresh_from_db()
    assert (execution.state, execution.provider_reference) == (ExecutionState.SUCCEEDED, "TMALL-RF-778")
    assert execution.confirmed_by == setup["supervisor"]
    assert refund.state == RefundState.PAID
    assert return_request.status == ReturnStatus.COMPLETED
    assert return_request.completed_at is not None
    assert return_request.ticket.status == "resolved"
    verbs = list(TicketEvent.objects.filter(ticket=return_request.ticket).order_by("id").values_list("verb", flat=True))
    assert verbs[verbs.index("return_settling") :] == [
        "return_settling",
        "status_changed",  # whatever the case waited on, settling is the merchant's move
        "refund_granted",
        "refund_paid",
        "return_completed",
        "status_changed",  # resolved
    ]
    told = Notification.objects.filter(template="return_refunded", ticket=return_request.ticket)
    assert sorted(told.values_list("channel", flat=True)) == ["email", "sms"]


def test_the_cumulative_refund_for_a_line_never_exceeds_what_was_paid_for_it(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    line = setup["line"]
    refund_grant(return_request=return_request, actor=setup["supervisor"], lines=[(line, 1, Decimal("300.00"))])

    with pytest.raises(Conflict) as refusal:
        refund_grant(return_request=return_request, actor=setup["supervisor"], lines=[(line, 1, Decimal("290.00"))])

    assert (refusal.value.code, refusal.value.extra["refundable"]) == ("amount_exceeds_paid", "280.00")
    assert Refund.objects.count() == 1
    assert refunded_for(line) == Decimal("300.00")
    assert line_counters(line) == (1, 0)

    refund_grant(return_request=return_request, actor=setup["supervisor"], lines=[(line, 1, Decimal("280.00"))])

    assert Refund.objects.count() == 2
    assert refunded_for(line) == Decimal("580.00")
    assert line_counters(line) == (2, 0)


def test_the_cap_spans_every_return_of_the_line(setup):
    # Keep the item with a 500.00 price adjustment (no units), then return one unit of the same line.
    first = approved_return(setup, quantity=1, resolution="keep_item")
    refund_grant(return_request=first, actor=setup["supervisor"], lines=[(setup["line"], 0, Decimal("500.00"))])
    second = approved_return(setup, quantity=1, status=ReturnStatus.RECEIVED)

    with pytest.raises(Conflict) as refusal:
        refund_grant(return_request=second, actor=setup["supervisor"])

    assert (refusal.value.code, refusal.value.extra["refundable"]) == ("amount_exceeds_paid", "80.00")
    assert status_of(second) == ReturnStatus.RECEIVED
    assert Refund.objects.filter(return_request=second).count() == 0
    assert refunded_for(setup["line"]) == Decimal("500.00")
    assert line_counters(setup["line"]) == (0, 0)


def test_a_partial_refund_leaves_the_other_units_for_a_later_refund(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    line = setup["line"]

    first = refund_grant(return_request=return_request, actor=setup["supervisor"], lines=[(line, 1, Decimal("290"))])
    second = refund_grant(return_request=return_request, actor=setup["supervisor"])

    assert (first.amount, second.amount) == (Decimal("290.00"), Decimal("290.00"))
    assert list(second.lines.values_list("quantity", flat=True)) == [1]
    assert line_counters(line) == (2, 0)
    with pytest.raises(Conflict) as refusal:
        refund_grant(return_request=return_request, actor=setup["supervisor"])
    assert refusal.value.code == "nothing_to_refund"
    assert Refund.objects.count() == 2


def test_units_beyond_what_the_return_holds_are_refused_and_nothing_changes(setup):
    return_request = approved_return(setup, quantity=1, status=ReturnStatus.RECEIVED)

    with pytest.raises(Conflict) as refusal:
        refund_grant(
            return_request=return_request, actor=setup["supervisor"], lines=[(setup["line"], 2, Decimal("100.00"))]
        )

    assert (refusal.value.code, refusal.value.extra["units_left"]) == ("units_exceed_return", 1)
    assert Refund.objects.count() == 0
    assert status_of(return_request) == ReturnStatus.RECEIVED
    assert line_counters(setup["line"]) == (0, 0)


def test_a_line_outside_the_return_or_a_zero_amount_is_refused(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    other = OrderLineFactory(order=setup["order"])

    with pytest.raises(InvalidInput) as outside:
        refund_grant(return_request=return_request, actor=setup["supervisor"], lines=[(other, 1, Decimal("10"))])
    with pytest.raises(InvalidInput) as zero:
        refund_grant(return_request=return_request, actor=setup["supervisor"], lines=[(setup["line"], 1, 0)])

    assert (outside.value.code, zero.value.code) == ("line_not_in_return", "amount_not_positive")
    assert Refund.objects.count() == 0


def test_the_restocking_fee_of_the_terms_is_taken_off_the_refund():
    setup = settlement_setup(fee_percent=Decimal("10"))
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)

    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])

    # 290.00 a unit less 10 %: 261.00, for 2 units.
    assert refund.amount == Decimal("522.00")
    assert list(refund.lines.values_list("amount", flat=True)) == [Decimal("522.00")]


def test_a_defect_refunds_the_shipping_and_a_change_of_mind_does_not():
    setup = settlement_setup(shipping=Decimal("15.00"))
    changed_mind = approved_return(setup, quantity=1, status=ReturnStatus.RECEIVED)
    defect = approved_return(setup, quantity=1, reason="defect", status=ReturnStatus.RECEIVED)

    without = refund_grant(return_request=changed_mind, actor=setup["supervisor"])
    with_shipping = refund_grant(return_request=defect, actor=setup["supervisor"])

    assert (without.amount, without.shipping_amount) == (Decimal("290.00"), Decimal("0.00"))
    assert (with_shipping.amount, with_shipping.shipping_amount) == (Decimal("305.00"), Decimal("15.00"))


def test_shipping_beyond_what_the_order_paid_is_refused():
    setup = settlement_setup(shipping=Decimal("15.00"))
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)

    with pytest.raises(Conflict) as refusal:
        refund_grant(return_request=return_request, actor=setup["supervisor"], shipping_amount=Decimal("15.01"))

    assert (refusal.value.code, refusal.value.extra["refundable"]) == ("shipping_exceeds_paid", "15.00")
    assert Refund.objects.count() == 0


def test_an_agent_cannot_refund_above_the_limit_and_a_supervisor_can(setup, agent, settings):
    settings.REFUND_AGENT_LIMIT = "500.00"
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)

    with pytest.raises(PermissionRefused) as refusal:
        refund_grant(return_request=return_request, actor=agent)

    assert (refusal.value.code, refusal.value.extra["limit"]) == ("refund_limit_exceeded", "500.00")
    assert Refund.objects.count() == 0
    assert status_of(return_request) == ReturnStatus.RECEIVED
    assert line_counters(setup["line"]) == (0, 0)

    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])

    assert refund.amount == Decimal("580.00")


def test_an_agent_cannot_split_a_refund_to_get_round_the_limit(setup, agent, settings):
    settings.REFUND_AGENT_LIMIT = "500.00"
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund_grant(return_request=return_request, actor=agent, lines=[(setup["line"], 1, Decimal("290.00"))])

    with pytest.raises(PermissionRefused):
        refund_grant(return_request=return_request, actor=agent, lines=[(setup["line"], 1, Decimal("290.00"))])

    assert Refund.objects.count() == 1


def test_warehouse_staff_and_another_merchants_staff_cannot_refund(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    warehouse = MembershipFactory(merchant=setup["merchant"], role=Membership.Role.WAREHOUSE).user
    outsider = MembershipFactory(role=Membership.Role.MERCHANT_ADMIN).user

    for actor in (warehouse, outsider):
        with pytest.raises(PermissionRefused):
            refund_grant(return_request=return_request, actor=actor)

    assert Refund.objects.count() == 0
    assert status_of(return_request) == ReturnStatus.RECEIVED


def test_a_replayed_grant_key_gives_one_refund(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)

    first = refund_grant(return_request=return_request, actor=setup["supervisor"], grant_key="click-1")
    again = refund_grant(return_request=return_request, actor=setup["supervisor"], grant_key="click-1")

    assert first.pk == again.pk
    assert Refund.objects.count() == 1
    assert line_counters(setup["line"]) == (2, 0)


def test_an_inspected_return_refunds_only_the_accepted_units(setup):
    return_request = approved_return(setup, status=ReturnStatus.INSPECTED)
    # Arrange only: inspection (accepted 1, rejected 1) is recorded by the logistics services.
    ReturnLine.objects.filter(return_request=return_request).update(
        quantity_received=2, quantity_accepted=1, quantity_rejected=1
    )

    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])

    assert (refund.amount, list(refund.lines.values_list("quantity", flat=True))) == (Decimal("290.00"), [1])
    assert line_counters(setup["line"]) == (1, 0)


# --- settling: which states may start it --------------------------------------------------------


def test_a_return_is_settled_once_its_items_are_back_and_nothing_changes_before(setup):
    return_request = approved_return(setup)

    with pytest.raises(TransitionNotAllowed) as refusal:
        return_request_settle(return_request=return_request, actor=setup["supervisor"])

    assert refusal.value.code == "items_not_back"
    assert status_of(return_request) == ReturnStatus.APPROVED
    assert Refund.objects.count() == 0


@pytest.mark.parametrize("resolution", ["refund_only", "keep_item"])
def test_refund_only_and_keep_the_item_settle_from_approved(setup, resolution):
    return_request = approved_return(setup, quantity=1, resolution=resolution)

    return_request = return_request_settle(
        return_request=return_request,
        actor=setup["supervisor"],
        lines=[(setup["line"], 1 if resolution == "refund_only" else 0, Decimal("120.00"))],
    )

    assert return_request.status == ReturnStatus.SETTLING
    assert Refund.objects.get().amount == Decimal("120.00")
    assert line_counters(setup["line"]) == ((1, 0) if resolution == "refund_only" else (0, 0))


@pytest.mark.parametrize(
    "status",
    [
        ReturnStatus.SUBMITTED,
        ReturnStatus.AWAITING_SHIPMENT,
        ReturnStatus.IN_TRANSIT,
        ReturnStatus.COMPLETED,
        ReturnStatus.CANCELLED,
        ReturnStatus.EXPIRED,
    ],
)
def test_settling_is_refused_where_the_table_does_not_allow_it_and_changes_nothing(setup, status):
    return_request = approved_return(setup, status=status)
    events = TicketEvent.objects.count()

    with pytest.raises(TransitionNotAllowed):
        return_request_settle(return_request=return_request, actor=setup["supervisor"])

    assert status_of(return_request) == status
    assert (Refund.objects.count(), TicketEvent.objects.count()) == (0, events)
    assert line_counters(setup["line"]) == (0, 0)


# --- store credit -------------------------------------------------------------------------------


def test_store_credit_goes_into_the_customers_ledger_with_a_running_balance(setup):
    customer = setup["order"].customer
    first = approved_return(setup, quantity=1, resolution="store_credit", status=ReturnStatus.RECEIVED)
    second = approved_return(setup, quantity=1, resolution="store_credit", status=ReturnStatus.RECEIVED)

    return_request_settle(return_request=first, actor=setup["supervisor"])
    entry = store_credit_grant(
        return_request=second, actor=setup["supervisor"], lines=[(setup["line"], 1, Decimal("250.00"))]
    )

    assert list(StoreCreditEntry.objects.order_by("id").values_list("amount", "balance_after")) == [
        (Decimal("290.00"), Decimal("290.00")),
        (Decimal("250.00"), Decimal("540.00")),
    ]
    assert entry.refund.state == RefundState.PAID
    assert StoreCreditAccount.objects.get(customer=customer).balance == Decimal("540.00")
    assert (status_of(first), status_of(second)) == (ReturnStatus.COMPLETED, ReturnStatus.COMPLETED)
    assert RefundExecution.objects.count() == 0
    assert line_counters(setup["line"]) == (2, 0)


def test_spending_store_credit_is_refused_beyond_the_balance_and_a_replay_is_one_entry(setup):
    customer = setup["order"].customer
    return_request = approved_return(setup, quantity=1, resolution="store_credit", status=ReturnStatus.RECEIVED)
    store_credit_grant(return_request=return_request, actor=setup["supervisor"])

    spent = store_credit_spend(customer=customer, amount=Decimal("90.00"), reference="ORDER-2001")
    replay = store_credit_spend(customer=customer, amount=Decimal("90.00"), reference="ORDER-2001")
    with pytest.raises(Conflict) as refusal:
        store_credit_spend(customer=customer, amount=Decimal("200.01"), reference="ORDER-2002")

    assert spent.pk == replay.pk
    assert (spent.amount, spent.balance_after) == (Decimal("-90.00"), Decimal("200.00"))
    assert refusal.value.code == "insufficient_store_credit"
    assert StoreCreditAccount.objects.get(customer=customer).balance == Decimal("200.00")
    assert StoreCreditEntry.objects.count() == 2


# --- exchanges ----------------------------------------------------------------------------------


def test_an_exchange_ships_a_replacement_with_its_own_tracking_and_completes(setup):
    return_request = approved_return(setup, resolution="exchange", status=ReturnStatus.RECEIVED)
    warehouse = MembershipFactory(merchant=setup["merchant"], role=Membership.Role.WAREHOUSE).user
    return_request = return_request_settle(return_request=return_request, actor=setup["supervisor"])
    assert return_request.status == ReturnStatus.SETTLING

    shipments = exchange_ship(
        return_request=return_request,
        actor=warehouse,
        lines=[(setup["line"], 2, "SKU-L")],
        carrier="SF Express",
        tracking_number="SF1234567890",
    )

    assert [(s.sku, s.quantity, s.carrier, s.tracking_number, s.state) for s in shipments] == [
        ("SKU-L", 2, "SF Express", "SF1234567890", "shipped")
    ]
    assert line_counters(setup["line"]) == (0, 2)
    assert status_of(return_request) == ReturnStatus.COMPLETED
    assert Refund.objects.count() == 0

    replay = exchange_ship(
        return_request=return_request, actor=warehouse, carrier="SF Express", tracking_number="SF1234567890"
    )

    assert [s.pk for s in replay] == [s.pk for s in shipments]
    assert ReplacementShipment.objects.count() == 1


def test_an_exchange_short_of_stock_completes_when_the_rest_is_refunded(setup):
    return_request = approved_return(setup, resolution="exchange", status=ReturnStatus.RECEIVED)
    exchange_ship(
        return_request=return_request,
        actor=setup["supervisor"],
        lines=[(setup["line"], 1, "")],
        carrier="SF Express",
        tracking_number="SF1",
    )
    assert status_of(return_request) == ReturnStatus.SETTLING

    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    assert (refund.amount, status_of(return_request)) == (Decimal("290.00"), ReturnStatus.SETTLING)
    execution = RefundExecution.objects.create(
        merchant=setup["merchant"], refund=refund, adapter="manual", idempotency_key="manual-1"
    )
    refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="BACKOFFICE-9")

    assert status_of(return_request) == ReturnStatus.COMPLETED
    assert line_counters(setup["line"]) == (1, 1)
    assert ReplacementShipment.objects.get().sku == setup["line"].sku


def test_a_tracking_number_of_another_return_is_refused(setup):
    first = approved_return(setup, quantity=1, resolution="exchange", status=ReturnStatus.RECEIVED)
    second = approved_return(setup, quantity=1, resolution="exchange", status=ReturnStatus.RECEIVED)
    exchange_ship(return_request=first, actor=setup["supervisor"], carrier="SF", tracking_number="SF1")

    with pytest.raises(Conflict) as refusal:
        exchange_ship(return_request=second, actor=setup["supervisor"], carrier="SF", tracking_number="SF1")

    assert refusal.value.code == "tracking_reused"
    assert status_of(second) == ReturnStatus.RECEIVED
    assert ReplacementShipment.objects.count() == 1
    assert line_counters(setup["line"]) == (0, 1)


def test_units_refunded_cannot_also_be_exchanged(setup):
    return_request = approved_return(setup, resolution="exchange", status=ReturnStatus.RECEIVED)
    refund_grant(return_request=return_request, actor=setup["supervisor"], lines=[(setup["line"], 2, Decimal("1"))])

    with pytest.raises(Conflict) as refusal:
        exchange_ship(
            return_request=return_request,
            actor=setup["supervisor"],
            lines=[(setup["line"], 1, "")],
            carrier="SF",
            tracking_number="SF2",
        )

    assert refusal.value.code == "units_exceed_return"
    assert ReplacementShipment.objects.count() == 0
    assert line_counters(setup["line"]) == (2, 0)


def test_a_settlement_refused_by_the_agent_limit_leaves_the_return_where_it_was(setup, agent, settings):
    settings.REFUND_AGENT_LIMIT = "500.00"
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    events = TicketEvent.objects.count()

    with pytest.raises(PermissionRefused):
        return_request_settle(return_request=return_request, actor=agent)

    assert status_of(return_request) == ReturnStatus.RECEIVED
    assert (Refund.objects.count(), TicketEvent.objects.count()) == (0, events)


# --- a quick refund, paid while the parcel travels ----------------------------------------------


def test_a_quick_refund_paid_in_transit_is_not_paid_again_when_the_return_settles(setup):
    return_request = approved_return(setup, status=ReturnStatus.IN_TRANSIT)
    refund = refund_grant(return_request=return_request, actor=None, quick=True, grant_key="quick-1")
    execution = RefundExecution.objects.create(
        merchant=setup["merchant"], refund=refund, adapter="manual", idempotency_key="quick-1"
    )
    refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="BO-7")
    assert status_of(return_request) == ReturnStatus.IN_TRANSIT
    # Arrange only: the parcel is scanned in by the logistics services.
    ReturnRequest.objects.filter(pk=return_request.pk).update(status=ReturnStatus.RECEIVED)

    return_request = return_request_settle(return_request=return_request, actor=None)

    assert return_request.status == ReturnStatus.COMPLETED
    assert list(Refund.objects.values_list("amount", "state")) == [(Decimal("580.00"), RefundState.PAID)]
    assert line_counters(setup["line"]) == (2, 0)


def test_a_quick_refund_that_failed_in_transit_needs_action_when_the_return_settles(setup):
    return_request = approved_return(setup, status=ReturnStatus.IN_TRANSIT)
    refund = refund_grant(return_request=return_request, actor=None, quick=True)
    Refund.objects.filter(pk=refund.pk).update(state=RefundState.FAILED)  # as a failed payment call leaves it
    ReturnRequest.objects.filter(pk=return_request.pk).update(status=ReturnStatus.RECEIVED)  # scanned in

    return_request = return_request_settle(return_request=return_request, actor=None)

    assert return_request.status == ReturnStatus.ACTION_REQUIRED
    assert Refund.objects.count() == 1


def test_a_quick_refund_is_refused_once_the_parcel_has_arrived(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)

    with pytest.raises(TransitionNotAllowed) as refusal:
        refund_grant(return_request=return_request, actor=None, quick=True)

    assert refusal.value.code == "not_in_transit"
    assert Refund.objects.count() == 0


# --- the payment calls refuse to run inside a caller's transaction --------------------------------


def test_paying_a_refund_inside_a_transaction_is_an_error_and_pays_nothing(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        refund_execute(refund=refund)

    refund.refresh_from_db()
    assert refund.state == RefundState.GRANTED
    assert not RefundExecution.objects.exists()
    assert status_of(return_request) == ReturnStatus.SETTLING


def test_settling_inside_a_transaction_is_an_error_and_changes_nothing(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        return_request_settle(return_request=return_request, actor=setup["supervisor"])

    assert not Refund.objects.exists()
    assert not RefundExecution.objects.exists()
    assert status_of(return_request) == ReturnStatus.RECEIVED
    assert line_counters(setup["line"]) == (0, 0)


def test_a_replacement_that_pays_its_difference_refuses_a_callers_transaction_and_ships_nothing(setup):
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED, resolution="exchange")

    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        exchange_ship(return_request=return_request, actor=setup["supervisor"], carrier="SF", tracking_number="SF1")

    assert not ReplacementShipment.objects.exists()
    assert status_of(return_request) == ReturnStatus.RECEIVED
