"""Rules that act without a person: the risk flag that sends a request to review, and the
quick-refund decision for trusted customers."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from aftersales.models import Customer, Deadline, Notification
from aftersales.tests.factories import CustomerFactory, OrderLineFactory
from returns import timers
from returns.models import Refund, ReturnRequest, ReturnStatus
from returns.services import (
    quick_refund_eligible,
    quick_refund_run,
    return_request_approve,
    return_request_cancel,
    return_request_inspect,
    return_request_revise,
    return_tracking_add,
)
from returns.tests.builders import drive, inspect_all, make_order, make_world, quick_refund_world, submit
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db
S = ReturnStatus


def _another_order(world, *, customer=None, quantity=1, price="100.00"):
    order = make_order(world.merchant, customer or world.customer)
    OrderLineFactory(order=order, quantity=quantity, unit_price=Decimal(price))
    return order


def _flag_events(return_request) -> list[tuple[bool, dict]]:
    return [
        (event.is_public, event.data)
        for event in TicketEvent.objects.filter(ticket_id=return_request.ticket_id, verb="return_flagged")
    ]


# --- the risk flag -------------------------------------------------------------------------------


def test_a_customer_past_the_return_count_goes_to_review_even_where_the_policy_auto_approves():
    world = make_world(risk_max_returns=2)
    world.policy.rules.create(
        position=1, name="Easy", window_days=30, allowed_resolutions=["refund"], auto_approve=True
    )
    earlier = [submit(world, order=_another_order(world)) for _ in range(2)]
    assert [r.status for r in earlier] == [S.APPROVED, S.APPROVED]

    flagged = submit(world)

    flagged.refresh_from_db()
    assert flagged.status == S.NEEDS_REVIEW
    assert flagged.review_reasons == [{"code": "return_count", "count": 3, "limit": 2}]
    # Staff see why; the customer is not told.
    assert _flag_events(flagged) == [(False, {"reasons": flagged.review_reasons})]
    assert flagged.ticket.status == "new"
    # The merchant's clock runs: the marketplace rule does not wait for the review.
    assert Deadline.objects.get(ticket_id=flagged.ticket_id, kind=timers.MERCHANT_RESPONSE).state == "pending"

    approved = return_request_approve(return_request=flagged, actor=world.supervisor)

    assert approved.status == S.APPROVED


def test_returns_outside_the_look_back_and_cancelled_ones_do_not_count():
    world = make_world(risk_max_returns=1)
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        old = submit(world, order=_another_order(world))
    cancelled = submit(world, order=_another_order(world))
    return_request_cancel(return_request=cancelled, customer=world.customer)
    assert old.status == S.SUBMITTED

    second_in_window = submit(world)

    assert (second_in_window.status, second_in_window.review_reasons) == (S.SUBMITTED, [])


def test_a_customer_past_the_return_value_goes_to_review():
    world = make_world(risk_max_value=Decimal("250.00"))
    first = submit(world, order=_another_order(world, quantity=2))
    assert first.status == S.SUBMITTED

    flagged = submit(world, quantities=[0, 1])

    assert flagged.status == S.NEEDS_REVIEW
    assert flagged.review_reasons == [{"code": "return_value", "value": "300.00", "limit": "250.00"}]


def test_a_photo_that_repeats_an_earlier_returns_sends_the_request_to_review(png_upload):
    world = make_world()
    first = submit(world, files=[png_upload("mine.png", (10, 200, 10))])
    stranger = CustomerFactory(merchant=world.merchant, tier=Customer.Tier.REGULAR)
    elsewhere = make_world()
    same_photo_other_merchant = submit(elsewhere, files=[png_upload("copy.png", (10, 200, 10))])

    repeated = submit(
        world, order=_another_order(world, customer=stranger), files=[png_upload("again.png", (10, 200, 10))]
    )
    fresh = submit(world, order=_another_order(world, customer=stranger), files=[png_upload("new.png", (99, 9, 9))])

    assert (first.status, same_photo_other_merchant.status, fresh.status) == (S.SUBMITTED, S.SUBMITTED, S.SUBMITTED)
    assert repeated.status == S.NEEDS_REVIEW
    assert repeated.review_reasons == [{"code": "repeated_photo", "tickets": [first.ticket.number]}]


def test_a_stock_photo_reused_many_times_names_only_the_first_earlier_returns(png_upload):
    world = make_world(risk_max_returns=None)
    earlier = [
        submit(world, order=_another_order(world), files=[png_upload(f"stock{i}.png", (5, 5, 5))]) for i in range(7)
    ]

    repeated = submit(world, order=_another_order(world), files=[png_upload("stock.png", (5, 5, 5))])

    numbers = sorted(r.ticket.number for r in earlier)
    assert repeated.review_reasons == [{"code": "repeated_photo", "tickets": numbers[:5]}]


def test_a_revision_with_a_repeated_photo_goes_to_review(png_upload):
    world = make_world()
    earlier = submit(world, order=_another_order(world), files=[png_upload("seal.png", (1, 2, 3))])
    return_request = drive(world, submit(world), S.REJECTED)

    revised = return_request_revise(
        return_request=return_request,
        customer=world.customer,
        note="See the photo.",
        files=[png_upload("x.png", (1, 2, 3))],
    )

    assert revised.status == S.NEEDS_REVIEW
    assert revised.review_reasons == [{"code": "repeated_photo", "tickets": [earlier.ticket.number]}]


# --- quick refund --------------------------------------------------------------------------------


def test_a_vip_within_the_limit_is_eligible_for_a_quick_refund():
    world = quick_refund_world()
    return_request = drive(world, submit(world), S.AWAITING_SHIPMENT)

    # 2 × 100.00 + 1 × 100.00 is exactly the default limit of 300.00.
    assert quick_refund_eligible(return_request) is True


@pytest.mark.parametrize(
    ("case", "world_args", "resolution"),
    [
        ("over the limit", {"quick_refund_max_amount": Decimal("299.99")}, "refund"),
        ("regular customer with no history", {"tier": Customer.Tier.REGULAR}, "refund"),
        ("the rule does not allow it", {"quick": False}, "refund"),
        ("an exchange is not a refund", {}, "exchange"),
        ("tier not trusted by this merchant", {"trusted_customer_tiers": []}, "refund"),
    ],
)
def test_quick_refund_is_refused_when_any_condition_fails(case, world_args, resolution):
    world = quick_refund_world(**world_args)
    return_request = drive(world, submit(world, resolution=resolution), S.AWAITING_SHIPMENT)

    assert quick_refund_eligible(return_request) is False, case


def test_a_flagged_or_already_quick_refunded_request_is_not_eligible():
    world = quick_refund_world()
    return_request = drive(world, submit(world), S.AWAITING_SHIPMENT)

    ReturnRequest.objects.filter(pk=return_request.pk).update(review_reasons=[{"code": "return_count"}])
    assert quick_refund_eligible(ReturnRequest.objects.get(pk=return_request.pk)) is False
    ReturnRequest.objects.filter(pk=return_request.pk).update(review_reasons=[], quick_refund_at=timezone.now())
    assert quick_refund_eligible(ReturnRequest.objects.get(pk=return_request.pk)) is False


@pytest.mark.parametrize(("completed", "rejected", "eligible"), [(3, 0, True), (2, 0, False), (3, 1, False)])
def test_a_regular_customer_is_trusted_by_a_clean_history(completed, rejected, eligible):
    world = quick_refund_world(tier=Customer.Tier.REGULAR)
    for status in [S.COMPLETED] * completed + [S.REJECTED] * rejected:
        earlier = submit(world, order=_another_order(world))
        ReturnRequest.objects.filter(pk=earlier.pk).update(status=status)
    return_request = drive(world, submit(world), S.AWAITING_SHIPMENT)

    assert quick_refund_eligible(return_request) is eligible


def _quick_refunds(return_request):
    return list(Refund.objects.filter(return_request=return_request).values_list("grant_key", "amount", "state"))


def test_a_trusted_parcel_in_transit_is_refunded_at_once_after_commit(django_capture_on_commit_callbacks):
    world = quick_refund_world()
    return_request = drive(world, submit(world), S.AWAITING_SHIPMENT)

    with django_capture_on_commit_callbacks(execute=True):
        return_tracking_add(return_request=return_request, carrier="SF", tracking_number="SF9", customer=world.customer)

    return_request.refresh_from_db()
    assert return_request.status == S.IN_TRANSIT
    assert return_request.quick_refund_at is not None
    # The real ledger granted it; the merchant's default adapter (manual) waits for staff to confirm.
    [(grant_key, amount, _state)] = _quick_refunds(return_request)
    assert (grant_key, amount) == (f"quick-refund-{return_request.pk}", Decimal("300.00"))
    event = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_quick_refund")
    assert (event.is_public, event.data) == (True, {"amount": "300.00"})


def test_running_the_quick_refund_twice_refunds_once(django_capture_on_commit_callbacks):
    world = quick_refund_world()
    return_request = drive(world, submit(world), S.AWAITING_SHIPMENT)
    with django_capture_on_commit_callbacks(execute=True):
        return_tracking_add(return_request=return_request, carrier="SF", tracking_number="SF9", customer=world.customer)

    quick_refund_run(return_request_id=return_request.pk)

    assert len(_quick_refunds(return_request)) == 1


def test_an_untrusted_parcel_in_transit_waits_for_inspection(django_capture_on_commit_callbacks):
    world = quick_refund_world(tier=Customer.Tier.REGULAR)
    return_request = drive(world, submit(world), S.AWAITING_SHIPMENT)

    with django_capture_on_commit_callbacks(execute=True):
        return_tracking_add(return_request=return_request, carrier="SF", tracking_number="SF9", customer=world.customer)

    return_request.refresh_from_db()
    assert return_request.quick_refund_at is None
    assert _quick_refunds(return_request) == []
    assert not TicketEvent.objects.filter(ticket_id=return_request.ticket_id, verb="return_quick_refund").exists()


def test_inspection_rejecting_units_after_a_quick_refund_flags_the_return_for_supervisors():
    world = quick_refund_world()
    return_request = drive(world, submit(world), S.RECEIVED)
    assert return_request.quick_refund_at is not None

    return_request_inspect(
        return_request=return_request, actor=world.warehouse, lines=inspect_all(return_request, rejected_per_line=1)
    )

    return_request.refresh_from_db()
    assert return_request.review_reasons == [{"code": "quick_refund_rejected_units", "units": 2}]
    flagged = TicketEvent.objects.get(ticket_id=return_request.ticket_id, verb="return_quick_refund_flagged")
    assert (flagged.is_public, flagged.data) == (False, {"rejected": 2})
    told = Notification.objects.filter(ticket_id=return_request.ticket_id, template="return_quick_refund_flagged")
    assert list(told.values_list("recipient", flat=True)) == [world.supervisor.email]
