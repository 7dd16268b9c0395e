"""A complaint's compensation paid as a refund is paid only when the refund's payment succeeded:
granted while the gateway is called or stalls, failed (with the gateway's reason) when it
refuses, paid again under the same key, withdrawn when its refund is voided; the complaints
report counts paid apart from what is granted but unpaid. Against the scripted refund endpoint
the returns tests use (``RefundEndpoint``)."""

import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from aftersales.exceptions import PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, OrderFactory, OrderLineFactory
from returns.models import ExecutionState, Refund, RefundExecution, RefundState
from returns.services import refund_execute, refunds_redrive_stalled
from returns.tests.builders import RefundEndpoint, http_gateway
from tickets.models import (
    Compensation,
    CompensationStatus,
    ComplaintVerb,
    TicketChannel,
    TicketEvent,
    TicketKind,
)
from tickets.selectors import compensation_totals
from tickets.services import (
    compensation_answer,
    compensation_pay,
    compensation_propose,
    compensation_withdraw,
    ticket_create,
)

pytestmark = pytest.mark.django_db

REFUSED = (502, {"error": {"message": "upstream gateway unavailable"}}, 0)
REFUSAL_TEXT = "The refund endpoint answered 502: upstream gateway unavailable"


def _order(merchant=None):
    order = OrderFactory.create(shipping_amount=Decimal("12.00"), **({"merchant": merchant} if merchant else {}))
    OrderLineFactory.create(order=order, quantity=2, unit_price=Decimal("199.00"))  # paid 398.00
    return order


def _complaint(order):
    return ticket_create(
        merchant=order.merchant,
        kind=TicketKind.COMPLAINT,
        subject="Scratched on arrival",
        body="I want part of the price back.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
    )


def _supervisor(merchant):
    return MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user


def _accepted(ticket, actor, kind, amount):
    offer = compensation_propose(ticket=ticket, actor=actor, kind=kind, amount=amount)
    return compensation_answer(compensation=offer, customer=ticket.customer, accept=True)


def _verbs(ticket, *verbs):
    return [TicketEvent.objects.filter(ticket=ticket, verb=verb).count() for verb in verbs]


def test_a_refused_payment_shows_the_offer_failed_with_the_reason_and_paying_again_uses_the_same_key(
    django_capture_on_commit_callbacks,
):
    order = _order()
    supervisor = _supervisor(order.merchant)
    ticket = _complaint(order)
    offer = _accepted(ticket, supervisor, "partial_refund", "60")
    key = f"compensation-{offer.pk}"
    with RefundEndpoint([REFUSED, (200, {"reference": "RF-61"}, 0)]) as endpoint:
        http_gateway(order.merchant, endpoint.url)

        # When it is paid, and the gateway refuses
        with django_capture_on_commit_callbacks(execute=True):
            compensation_pay(compensation=offer, actor=supervisor)

        # Then it is failed, with the gateway's reason, not paid
        failed = Compensation.objects.get(pk=offer.pk)
        assert (failed.status, failed.amount, failed.payment_reference, failed.payment_error, failed.paid_at) == (
            CompensationStatus.PAYMENT_FAILED,
            Decimal("60.00"),
            key,
            REFUSAL_TEXT,
            None,
        )
        assert failed.granted_at is not None
        refund = Refund.objects.get(order=order)
        assert (refund.state, refund.amount, refund.payment_key) == (RefundState.FAILED, Decimal("60.00"), key)
        assert _verbs(
            ticket,
            ComplaintVerb.COMPENSATION_GRANTED,
            ComplaintVerb.COMPENSATION_PAYMENT_FAILED,
            ComplaintVerb.COMPENSATION_PAID,
        ) == [1, 1, 0]
        failure = TicketEvent.objects.get(ticket=ticket, verb=ComplaintVerb.COMPENSATION_PAYMENT_FAILED)
        assert (failure.is_public, failure.data["error"]) == (False, REFUSAL_TEXT)

        # When staff pay it again
        with django_capture_on_commit_callbacks(execute=True):
            compensation_pay(compensation=offer, actor=supervisor)

    # Then the same refund is paid under the same key, once, and the offer is paid
    paid = Compensation.objects.get(pk=offer.pk)
    assert (paid.status, paid.payment_reference, paid.payment_error) == (CompensationStatus.PAID, key, "")
    assert paid.paid_at is not None
    assert endpoint.keys == [key, key]
    assert Refund.objects.filter(order=order).count() == 1
    execution = RefundExecution.objects.get(refund=refund)
    assert (execution.state, execution.attempts, execution.provider_reference) == (
        ExecutionState.SUCCEEDED,
        2,
        "RF-61",
    )
    assert _verbs(
        ticket,
        ComplaintVerb.COMPENSATION_GRANTED,
        ComplaintVerb.COMPENSATION_PAYMENT_FAILED,
        ComplaintVerb.COMPENSATION_PAYMENT_RETRIED,
        ComplaintVerb.COMPENSATION_PAID,
    ) == [1, 1, 1, 1]


def test_a_retry_from_the_refunds_box_that_succeeds_pays_the_failed_offer(django_capture_on_commit_callbacks):
    order = _order()
    supervisor = _supervisor(order.merchant)
    ticket = _complaint(order)
    offer = _accepted(ticket, supervisor, "shipping_refund", "12")
    with RefundEndpoint([REFUSED, (201, {"id": "RF-9"}, 0)]) as endpoint:
        http_gateway(order.merchant, endpoint.url)
        with django_capture_on_commit_callbacks(execute=True):
            compensation_pay(compensation=offer, actor=supervisor)
        assert Compensation.objects.get(pk=offer.pk).status == CompensationStatus.PAYMENT_FAILED

        refund_execute(refund=Refund.objects.get(order=order))

    paid = Compensation.objects.get(pk=offer.pk)
    assert (paid.status, paid.amount, paid.payment_error) == (CompensationStatus.PAID, Decimal("12.00"), "")
    assert endpoint.keys == [f"compensation-{offer.pk}"] * 2


def test_a_stalled_payment_stays_granted_until_the_sweep_pays_it(django_capture_on_commit_callbacks):
    order = _order()
    supervisor = _supervisor(order.merchant)
    ticket = _complaint(order)
    offer = _accepted(ticket, supervisor, "partial_refund", "40")
    with RefundEndpoint([(200, {"reference": "RF-40"}, 0)]) as endpoint:
        http_gateway(order.merchant, endpoint.url)

        # The payment task after the grant is lost (no on-commit callback runs)
        compensation_pay(compensation=offer, actor=supervisor)

        granted = Compensation.objects.get(pk=offer.pk)
        assert (granted.status, granted.paid_at, granted.payment_error) == (CompensationStatus.GRANTED, None, "")
        assert endpoint.keys == []
        # A replay while it is under way changes nothing
        compensation_pay(compensation=offer, actor=supervisor)
        assert _verbs(ticket, ComplaintVerb.COMPENSATION_GRANTED, ComplaintVerb.COMPENSATION_PAID) == [1, 0]

        with time_machine.travel(timezone.now() + timedelta(hours=1)):
            assert refunds_redrive_stalled() == 1

    assert Compensation.objects.get(pk=offer.pk).status == CompensationStatus.PAID
    assert endpoint.keys == [f"compensation-{offer.pk}"]
    assert _verbs(ticket, ComplaintVerb.COMPENSATION_GRANTED, ComplaintVerb.COMPENSATION_PAID) == [1, 1]


def test_an_offer_being_paid_cannot_be_withdrawn_and_nothing_changes(django_capture_on_commit_callbacks):
    order = _order()
    supervisor = _supervisor(order.merchant)
    ticket = _complaint(order)
    offer = compensation_pay(compensation=_accepted(ticket, supervisor, "partial_refund", "40"), actor=supervisor)
    events = TicketEvent.objects.filter(ticket=ticket).count()

    with pytest.raises(TransitionNotAllowed) as refused:
        compensation_withdraw(compensation=offer, actor=supervisor, reason="changed our mind")

    assert refused.value.code == "compensation_payment_under_way"
    assert Compensation.objects.get(pk=offer.pk).status == CompensationStatus.GRANTED
    assert Refund.objects.get(order=order).state == RefundState.GRANTED
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


def test_a_coupon_is_paid_when_it_is_issued():
    order = _order()
    supervisor = _supervisor(order.merchant)
    ticket = _complaint(order)

    offer = compensation_pay(compensation=_accepted(ticket, supervisor, "coupon", "15"), actor=supervisor)

    assert (offer.status, offer.amount) == (CompensationStatus.PAID, Decimal("15.00"))
    assert offer.payment_reference.startswith("CP")
    assert offer.granted_at == offer.paid_at
    assert _verbs(ticket, ComplaintVerb.COMPENSATION_GRANTED, ComplaintVerb.COMPENSATION_PAID) == [0, 1]


def test_the_report_counts_paid_apart_from_granted_and_failed_and_only_the_merchants_own(
    client, django_capture_on_commit_callbacks
):
    order = _order()
    merchant = order.merchant
    supervisor = _supervisor(merchant)
    ticket = _complaint(order)
    coupon = _accepted(ticket, supervisor, "coupon", "15")
    store_credit = _accepted(ticket, supervisor, "store_credit", "20")
    failing = _accepted(ticket, supervisor, "partial_refund", "60")
    stalled = _accepted(ticket, supervisor, "partial_refund", "40")
    _accepted(ticket, supervisor, "coupon", "99")  # accepted, not paid: not counted
    with RefundEndpoint([REFUSED]) as endpoint:
        http_gateway(merchant, endpoint.url)
        compensation_pay(compensation=coupon, actor=supervisor)
        compensation_pay(compensation=store_credit, actor=supervisor)
        with django_capture_on_commit_callbacks(execute=True):
            compensation_pay(compensation=failing, actor=supervisor)
        compensation_pay(compensation=stalled, actor=supervisor)  # its task is lost
    other_order = _order()
    other_ticket = _complaint(other_order)
    other = _supervisor(other_order.merchant)
    compensation_pay(compensation=_accepted(other_ticket, other, "coupon", "70"), actor=other)
    start, end = timezone.now() - timedelta(days=1), timezone.now() + timedelta(days=1)

    totals = compensation_totals(merchant=merchant, start=start, end=end)

    assert [(row.status, row.currency, row.count, row.amount) for row in totals] == [
        (CompensationStatus.PAID, "CNY", 2, Decimal("35.00")),
        (CompensationStatus.GRANTED, "CNY", 1, Decimal("40.00")),
        (CompensationStatus.PAYMENT_FAILED, "CNY", 1, Decimal("60.00")),
    ]
    client.force_login(supervisor)
    page = client.get(reverse("dashboard:complaint_report")).content.decode()
    assert 'id="compensation-totals"' in page
    assert (
        '<tr data-status="paid" data-currency="CNY"><td data-label="Payment">Paid</td>'
        '<td data-label="Offers" class="num">2</td>'
    ) in page
    assert "35.00 CNY" in page
    assert '<tr data-status="granted" data-currency="CNY">' in page
    assert "40.00 CNY" in page
    assert "60.00 CNY" in page
    assert "70.00" not in page  # another merchant's coupon


def test_the_ticket_page_shows_the_failed_payment_with_its_reason_and_offers_to_pay_again(
    client, django_capture_on_commit_callbacks
):
    order = _order()
    supervisor = _supervisor(order.merchant)
    ticket = _complaint(order)
    offer = _accepted(ticket, supervisor, "partial_refund", "60")
    with RefundEndpoint([REFUSED]) as endpoint:
        http_gateway(order.merchant, endpoint.url)
        with django_capture_on_commit_callbacks(execute=True):
            compensation_pay(compensation=offer, actor=supervisor)
    client.force_login(supervisor)

    page = client.get(reverse("dashboard:ticket", args=[ticket.number])).content.decode()

    assert "Payment failed" in page
    assert f"The payment failed: {REFUSAL_TEXT}" in page
    assert 'value="pay"' in page
    assert "Pay again" in page


def test_another_merchants_staff_cannot_pay_a_failed_offer_again(django_capture_on_commit_callbacks):
    order = _order()
    supervisor = _supervisor(order.merchant)
    ticket = _complaint(order)
    offer = _accepted(ticket, supervisor, "partial_refund", "60")
    with RefundEndpoint([REFUSED]) as endpoint:
        http_gateway(order.merchant, endpoint.url)
        with django_capture_on_commit_callbacks(execute=True):
            compensation_pay(compensation=offer, actor=supervisor)
        outsider = _supervisor(OrderFactory.create().merchant)
        events = TicketEvent.objects.filter(ticket=ticket).count()

        with pytest.raises(PermissionRefused):
            compensation_pay(compensation=offer, actor=outsider)

    assert Compensation.objects.get(pk=offer.pk).status == CompensationStatus.PAYMENT_FAILED
    assert endpoint.keys == [f"compensation-{offer.pk}"]
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


def test_the_migration_makes_offers_marked_paid_before_the_states_what_their_refund_says(
    django_capture_on_commit_callbacks,
):
    order = _order()
    supervisor = _supervisor(order.merchant)
    ticket = _complaint(order)
    with RefundEndpoint([REFUSED]) as endpoint:
        http_gateway(order.merchant, endpoint.url)
        with django_capture_on_commit_callbacks(execute=True):
            failed = compensation_pay(
                compensation=_accepted(ticket, supervisor, "partial_refund", "60"), actor=supervisor
            )
    stalled = compensation_pay(compensation=_accepted(ticket, supervisor, "shipping_refund", "12"), actor=supervisor)
    coupon = compensation_pay(compensation=_accepted(ticket, supervisor, "coupon", "15"), actor=supervisor)
    # As the code before the payment states left them: every one paid when granted.
    marked = timezone.now() - timedelta(days=3)
    Compensation.objects.update(status=CompensationStatus.PAID, paid_at=marked, granted_at=None, payment_error="")
    backfill = importlib.import_module("tickets.migrations.0011_compensation_payment_states").BACKFILL

    with connection.cursor() as cursor:
        cursor.execute(backfill)

    assert [
        Compensation.objects.filter(pk=offer.pk).values_list("status", "payment_error", "paid_at", "granted_at").get()
        for offer in (failed, stalled, coupon)
    ] == [
        (CompensationStatus.PAYMENT_FAILED, REFUSAL_TEXT, None, marked),
        (CompensationStatus.GRANTED, "", None, marked),
        (CompensationStatus.PAID, "", marked, marked),
    ]
