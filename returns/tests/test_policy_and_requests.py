import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership, OrderLine
from aftersales.tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from returns.models import RETURN_TRANSITIONS, ReturnLine, ReturnPolicy, ReturnReason, ReturnRequest, ReturnStatus
from returns.services import (
    return_request_approve,
    return_request_cancel,
    return_request_create,
    return_request_reject,
)
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

# Delivered 2026-11-10 at 23:30 in Shanghai (15:30 UTC): the 7 days are the 11th to the 17th, so
# the window closes at midnight after the 17th, Shanghai time (16:00 UTC on the 17th).
DELIVERED = datetime(2026, 11, 10, 15, 30, tzinfo=UTC)
LAST_SECOND = datetime(2026, 11, 17, 15, 59, 59, tzinfo=UTC)
FIRST_SECOND_AFTER = datetime(2026, 11, 17, 16, 0, 0, tzinfo=UTC)


@pytest.fixture
def merchant():
    return MerchantFactory.create(timezone="Asia/Shanghai")


@pytest.fixture
def policy(merchant):
    return ReturnPolicy.objects.create(merchant=merchant, excepted_categories=["custom_made"])


@pytest.fixture
def no_reason(merchant):
    return ReturnReason.objects.create(
        merchant=merchant, code="changed_mind", name="Changed my mind", responsibility="customer"
    )


@pytest.fixture
def defect(merchant):
    return ReturnReason.objects.create(merchant=merchant, code="defect", name="Defective", responsibility="merchant")


@pytest.fixture
def order(merchant):
    return OrderFactory.create(
        merchant=merchant,
        delivered_at=DELIVERED,
        placed_at=datetime(2026, 11, 5, tzinfo=UTC),
        shipped_at=datetime(2026, 11, 6, tzinfo=UTC),
    )


@pytest.fixture
def line(order):
    return OrderLineFactory.create(
        order=order, quantity=2, unit_price=Decimal("300.00"), discount_amount=Decimal("20.00")
    )


def _create(order, line, reason, quantity=1, resolution="refund", **kwargs):
    return return_request_create(
        order=order, customer=order.customer, lines=[(line, quantity)], reason=reason, resolution=resolution, **kwargs
    )


def _requested(line) -> int:
    return OrderLine.objects.get(pk=line.pk).quantity_requested


@pytest.mark.parametrize(("now", "allowed"), [(LAST_SECOND, True), (FIRST_SECOND_AFTER, False)])
def test_the_legal_floor_closes_at_midnight_after_the_seventh_day_in_the_merchants_time_zone(
    policy, order, line, no_reason, now, allowed
):
    with time_machine.travel(now, tick=False):
        if allowed:
            return_request = _create(order, line, no_reason)
            assert return_request.status == ReturnStatus.SUBMITTED
            assert return_request.terms[str(line.pk)]["legal_floor_applies"] is True
            assert return_request.terms[str(line.pk)]["window_ends_at"] == "2026-11-18T00:00:00+08:00"
        else:
            with pytest.raises(InvalidInput) as refusal:
                _create(order, line, no_reason)
            assert refusal.value.code == "line_not_returnable"
            assert ReturnRequest.objects.count() == 0
            assert Ticket.objects.count() == 0
            assert _requested(line) == 0


def test_a_stricter_rule_cannot_undercut_the_legal_floor(policy, order, line, no_reason):
    policy.rules.create(
        position=1,
        name="Final sale: 3 days",
        window_days=3,
        allowed_resolutions=["store_credit"],
        restocking_fee_percent=Decimal("15"),
    )

    with time_machine.travel(LAST_SECOND, tick=False):
        return_request = _create(order, line, no_reason)

    terms = return_request.terms[str(line.pk)]
    assert (terms["window_days"], terms["legal_floor_applies"], terms["rule"]) == (7, True, "Final sale: 3 days")
    # Under the floor the no-reason refund is the customer's right, with no restocking fee.
    assert terms["allowed_resolutions"] == ["refund", "store_credit"]
    assert terms["restocking_fee_percent"] == "0.00"
    assert ReturnLine.objects.get().unit_refund_amount == Decimal("290.00")


def test_a_longer_rule_extends_the_window_and_charges_its_fee(policy, order, line, no_reason):
    policy.rules.create(
        position=1,
        name="30 days",
        window_days=30,
        allowed_resolutions=["refund", "exchange"],
        restocking_fee_percent=Decimal("10"),
    )

    with time_machine.travel(datetime(2026, 12, 10, 15, 59, 59, tzinfo=UTC), tick=False):
        return_request = _create(order, line, no_reason, quantity=2)

    terms = return_request.terms[str(line.pk)]
    assert (terms["window_days"], terms["legal_floor_applies"], terms["restocking_fee_percent"]) == (30, False, "10.00")
    # 580.00 paid for 2 units: 290.00 each, less 10 %.
    assert ReturnLine.objects.get().unit_refund_amount == Decimal("261.00")
    assert _requested(line) == 2


def test_an_excepted_category_has_no_floor_but_a_defect_still_follows_the_rule(policy, order, no_reason, defect):
    custom = OrderLineFactory.create(
        order=order, product=ProductFactory.create(merchant=order.merchant, category="custom_made")
    )
    policy.rules.create(
        position=1,
        name="Defects 15 days",
        match_reason_codes=["defect"],
        window_days=15,
        allowed_resolutions=["refund", "exchange"],
        restocking_fee_percent=Decimal("5"),
    )

    with time_machine.travel(datetime(2026, 11, 12, tzinfo=UTC), tick=False):
        with pytest.raises(InvalidInput) as refusal:
            _create(order, custom, no_reason)
        assert refusal.value.code == "line_not_returnable"
        return_request = _create(order, custom, defect, resolution="exchange")

    terms = return_request.terms[str(custom.pk)]
    assert (terms["window_days"], terms["legal_floor_applies"], terms["restocking_fee_percent"]) == (15, False, "0.00")
    assert return_request.ticket.kind == "exchange"


def test_more_units_than_remain_are_refused_and_nothing_changes(policy, order, line, no_reason):
    with time_machine.travel(LAST_SECOND, tick=False):
        _create(order, line, no_reason, quantity=1)
        with pytest.raises(InvalidInput) as refusal:
            _create(order, line, no_reason, quantity=2)

    assert (refusal.value.code, refusal.value.extra["returnable"]) == ("quantity_exceeds_returnable", 1)
    assert ReturnRequest.objects.count() == 1
    assert _requested(line) == 1


def test_a_resolution_the_terms_do_not_allow_is_refused(policy, order, line, no_reason):
    with time_machine.travel(LAST_SECOND, tick=False), pytest.raises(InvalidInput) as refusal:
        _create(order, line, no_reason, resolution="exchange")

    assert refusal.value.code == "resolution_not_allowed"
    assert (ReturnRequest.objects.count(), Ticket.objects.count(), _requested(line)) == (0, 0, 0)


def test_photos_required_by_the_rule_are_enforced(policy, order, line, defect):
    policy.rules.create(
        position=1,
        name="Defects need photos",
        match_reason_codes=["defect"],
        window_days=15,
        allowed_resolutions=["refund"],
        photos_required=True,
    )

    with time_machine.travel(LAST_SECOND, tick=False), pytest.raises(InvalidInput) as refusal:
        _create(order, line, defect)

    assert refusal.value.code == "photos_required"
    assert ReturnRequest.objects.count() == 0


def test_auto_approval_approves_at_once_and_records_both_steps(policy, order, line, no_reason):
    policy.rules.create(
        position=1, name="Easy returns", window_days=15, allowed_resolutions=["refund"], auto_approve=True
    )

    with time_machine.travel(LAST_SECOND, tick=False):
        return_request = _create(order, line, no_reason)

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.APPROVED
    ticket = return_request.ticket
    ticket.refresh_from_db()
    # The item comes back: the customer must ship it, so the move is theirs.
    assert ticket.status == "waiting_customer"
    assert list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("verb", flat=True)) == [
        "created",
        "return_submitted",
        "return_approved",
        "status_changed",
    ]


@pytest.fixture
def submitted(policy, order, line, no_reason):
    with time_machine.travel(LAST_SECOND, tick=False):
        return _create(order, line, no_reason)


@pytest.fixture
def agent(merchant):
    return MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user


def test_reject_needs_a_reason_and_hands_the_move_to_the_customer(submitted, agent):
    with pytest.raises(InvalidInput):
        return_request_reject(return_request=submitted, actor=agent, reason="  ")
    assert ReturnRequest.objects.get(pk=submitted.pk).status == ReturnStatus.SUBMITTED

    return_request_reject(return_request=submitted, actor=agent, reason="The seal is broken.")

    submitted.refresh_from_db()
    assert (submitted.status, submitted.rejection_reason) == (ReturnStatus.REJECTED, "The seal is broken.")
    assert submitted.ticket.status == "waiting_customer"


def test_cancel_gives_the_units_back_and_cancels_the_case(submitted, line, order):
    assert _requested(line) == 1

    return_request_cancel(return_request=submitted, customer=order.customer)

    submitted.refresh_from_db()
    assert submitted.status == ReturnStatus.CANCELLED
    assert submitted.ticket.status == "cancelled"
    assert _requested(line) == 0


def test_another_customer_cannot_cancel(submitted, merchant, line):
    with pytest.raises(PermissionRefused):
        return_request_cancel(return_request=submitted, customer=CustomerFactory.create(merchant=merchant))

    assert ReturnRequest.objects.get(pk=submitted.pk).status == ReturnStatus.SUBMITTED
    assert _requested(line) == 1


def test_staff_of_another_merchant_cannot_approve(submitted):
    outsider = MembershipFactory.create().user

    with pytest.raises(PermissionRefused):
        return_request_approve(return_request=submitted, actor=outsider)

    assert ReturnRequest.objects.get(pk=submitted.pk).status == ReturnStatus.SUBMITTED


@pytest.mark.parametrize(
    "source",
    [status for status in ReturnStatus.values if ReturnStatus.APPROVED not in RETURN_TRANSITIONS[status]],
)
def test_approve_is_refused_from_every_state_that_does_not_allow_it_and_changes_nothing(submitted, agent, source):
    ReturnRequest.objects.filter(pk=submitted.pk).update(status=source)
    events = TicketEvent.objects.count()

    with pytest.raises(TransitionNotAllowed):
        return_request_approve(return_request=submitted, actor=agent)

    assert ReturnRequest.objects.get(pk=submitted.pk).status == source
    assert TicketEvent.objects.count() == events


def _line_to_race_for(quantity: int) -> tuple[OrderLine, ReturnReason]:
    """A line of ``quantity`` units delivered yesterday (by the factory's clock): within the window
    without moving the clock, which is one per process and not for two threads at once."""
    merchant = MerchantFactory.create(timezone="Asia/Shanghai")
    ReturnPolicy.objects.create(merchant=merchant)
    reason = ReturnReason.objects.create(merchant=merchant, code="size", name="Wrong size", responsibility="customer")
    order = OrderFactory.create(merchant=merchant, delivered_at=timezone.now() - timedelta(days=1))
    return OrderLineFactory.create(order=order, quantity=quantity), reason


def _twice_at_once(create) -> list:
    """Run ``create`` in two threads released together, each on its own connection; what each
    returned, or the code of the InvalidInput it raised."""
    barrier = threading.Barrier(2)
    outcomes: list = []

    def attempt():
        try:
            barrier.wait(timeout=10)
            outcomes.append(create())
        except InvalidInput as refusal:
            outcomes.append(refusal.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_requests_for_the_last_unit_give_one_success_and_one_clear_refusal():
    last, reason = _line_to_race_for(quantity=1)

    def create():
        _create(last.order, last, reason)
        return "created"

    outcomes = _twice_at_once(create)

    assert sorted(outcomes) == ["created", "line_not_returnable"]
    assert ReturnRequest.objects.count() == 1
    assert OrderLine.objects.get(pk=last.pk).quantity_requested == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_submission_sent_twice_at_once_makes_one_return():
    # Given an order line of 2 units, so that a second return for 1 unit would be allowed
    line, reason = _line_to_race_for(quantity=2)

    # When one form's confirm arrives twice at the same moment (a double click)
    made = _twice_at_once(lambda: _create(line.order, line, reason, submission_key="k" * 32).pk)

    # Then both answers are the one return the first made, and one unit is asked back
    return_request = ReturnRequest.objects.get()
    assert made == [return_request.pk, return_request.pk]
    assert return_request.submission_key == "k" * 32
    assert OrderLine.objects.get(pk=line.pk).quantity_requested == 1
    assert TicketEvent.objects.filter(ticket=return_request.ticket, verb="return_submitted").count() == 1


def test_another_submission_key_makes_another_return(policy, order, line, no_reason):
    with time_machine.travel(LAST_SECOND, tick=False):
        first = _create(order, line, no_reason, submission_key="a" * 32)
        second = _create(order, line, no_reason, submission_key="b" * 32)

    assert first.pk != second.pk
    assert _requested(line) == 2


def test_a_deactivated_user_with_an_active_membership_cannot_approve(submitted, agent):
    agent.is_active = False
    agent.save(update_fields=["is_active"])

    with pytest.raises(PermissionRefused):
        return_request_approve(return_request=submitted, actor=agent)

    assert ReturnRequest.objects.get(pk=submitted.pk).status == ReturnStatus.SUBMITTED


# --- order age and who pays the postage back ------------------------------------------------------

# Delivered late on the 10th in Shanghai: the 11th is day 1, so day 15 is the 25th, which ends at
# 16:00 UTC on the 25th.
DAY_15_LAST_SECOND = datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC)
DAY_16_FIRST_SECOND = datetime(2026, 11, 25, 16, 0, 0, tzinfo=UTC)


@pytest.fixture
def rules_by_order_age(policy):
    policy.rules.create(
        position=1,
        name="First 15 days: exchange or refund",
        max_days_since_delivery=15,
        window_days=30,
        allowed_resolutions=["refund", "exchange"],
    )
    policy.rules.create(
        position=2,
        name="Days 16 to 30: store credit",
        min_days_since_delivery=16,
        max_days_since_delivery=30,
        window_days=30,
        allowed_resolutions=["store_credit"],
        restocking_fee_percent=Decimal("5"),
    )


@pytest.mark.parametrize(
    ("at", "rule", "resolution"),
    [
        (DAY_15_LAST_SECOND, "First 15 days: exchange or refund", "exchange"),
        (DAY_16_FIRST_SECOND, "Days 16 to 30: store credit", "store_credit"),
    ],
)
def test_a_rule_matches_on_days_since_delivery_in_the_merchants_time_zone(
    rules_by_order_age, order, line, no_reason, at, rule, resolution
):
    with time_machine.travel(at, tick=False):
        return_request = _create(order, line, no_reason, resolution=resolution)

    assert return_request.terms[str(line.pk)]["rule"] == rule


def test_past_the_first_rules_days_its_resolutions_are_refused_and_nothing_changes(
    rules_by_order_age, order, line, no_reason
):
    with time_machine.travel(DAY_16_FIRST_SECOND, tick=False), pytest.raises(InvalidInput) as refused:
        _create(order, line, no_reason, resolution="exchange")

    assert refused.value.code == "resolution_not_allowed"
    assert ReturnRequest.objects.count() == 0
    assert _requested(line) == 0


@pytest.mark.parametrize(
    ("reason_fixture", "rule_payer", "payer"),
    [
        ("no_reason", None, "customer"),  # a change of mind: the customer pays the way back
        ("defect", None, "merchant"),  # the shop's fault: the shop pays
        ("no_reason", "merchant", "merchant"),  # free returns by rule
        ("defect", "customer", "customer"),  # a rule may say otherwise (e.g. past the warranty)
    ],
)
def test_who_pays_the_postage_back_follows_the_reason_unless_the_rule_says_otherwise(
    request, policy, order, line, reason_fixture, rule_payer, payer
):
    if rule_payer:
        policy.rules.create(
            position=1,
            name="Postage",
            window_days=30,
            allowed_resolutions=["refund"],
            return_shipping_paid_by=rule_payer,
        )
    reason = request.getfixturevalue(reason_fixture)

    with time_machine.travel(LAST_SECOND, tick=False):
        return_request = _create(order, line, reason)

    assert return_request.terms[str(line.pk)]["return_shipping_paid_by"] == payer
    assert return_request.merchant_pays_return_shipping is (payer == "merchant")


def test_a_rule_whose_days_run_backwards_is_refused_by_the_database(policy):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        policy.rules.create(
            position=1, name="Backwards", min_days_since_delivery=10, max_days_since_delivery=5, allowed_resolutions=[]
        )

    assert policy.rules.count() == 0
