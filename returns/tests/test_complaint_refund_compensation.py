"""Complaint compensation paid as a refund of shipping or part of the price: returns' payers write
the refund ledger against the complaint's order (no return request), under the same caps as a
return's refund, once per compensation whatever the replays or races; the payment goes through the
merchant's refund gateway under the compensation's key."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused
from aftersales.models import Membership, OrderLine
from aftersales.tests.factories import MembershipFactory, OrderFactory, OrderLineFactory
from aftersales.tests.races import race_errors
from returns.models import (
    ExecutionState,
    Refund,
    RefundAdapterName,
    RefundExecution,
    RefundLine,
    RefundMethod,
    RefundState,
)
from returns.selectors.order_refunds import order_refundable_remainder
from returns.services import refund_confirm_manual, refund_execute, refund_void
from returns.services._settling import shipping_refundable
from returns.timeline import ReturnVerb
from tickets.compensation_payers import registered_compensation_kinds
from tickets.models import (
    Compensation,
    CompensationKind,
    CompensationSettings,
    CompensationStatus,
    ComplaintVerb,
    TicketChannel,
    TicketEvent,
    TicketKind,
)
from tickets.services import (
    compensation_answer,
    compensation_approve,
    compensation_pay,
    compensation_propose,
    ticket_create,
)


def _order(shipping="12.00"):
    order = OrderFactory.create(shipping_amount=Decimal(shipping))
    OrderLineFactory.create(order=order, quantity=2, unit_price=Decimal("199.00"))  # paid 398.00
    OrderLineFactory.create(order=order, quantity=1, unit_price=Decimal("50.00"))  # paid 50.00
    return order


def _complaint(order, *, with_order=True):
    return ticket_create(
        merchant=order.merchant,
        kind=TicketKind.COMPLAINT,
        subject="The parcel came late and scratched",
        body="I want something back.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order if with_order else None,
    )


def _staff(merchant, role):
    return MembershipFactory.create(merchant=merchant, role=role).user


def _accepted(ticket, actor, kind, amount):
    compensation = compensation_propose(ticket=ticket, actor=actor, kind=kind, amount=amount)
    return compensation_answer(compensation=compensation, customer=ticket.customer, accept=True)


def _lines(order):
    return list(OrderLine.objects.filter(order=order).order_by("pk"))


def test_returns_registers_the_refund_payers():
    kinds = registered_compensation_kinds()
    assert CompensationKind.SHIPPING_REFUND in kinds
    assert CompensationKind.PARTIAL_REFUND in kinds


@pytest.mark.django_db
def test_shipping_refund_is_granted_against_the_order_once_under_20_replays_and_paid_through_the_gateway(
    django_capture_on_commit_callbacks,
):
    order = _order(shipping="12.00")
    agent = _staff(order.merchant, Membership.Role.AGENT)
    ticket = _complaint(order)
    compensation = _accepted(ticket, agent, "shipping_refund", "12")

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            compensation_pay(compensation=compensation, actor=agent)

    reference = f"compensation-{compensation.pk}"
    refund = Refund.objects.get(merchant=order.merchant)
    assert (refund.return_request_id, refund.order_id, refund.ticket_id) == (None, order.pk, ticket.pk)
    assert (refund.method, refund.amount, refund.shipping_amount, refund.currency) == (
        RefundMethod.ORIGINAL_PAYMENT,
        Decimal("12.00"),
        Decimal("12.00"),
        "CNY",
    )
    assert (refund.state, refund.grant_key, refund.payment_key, refund.granted_by) == (
        RefundState.GRANTED,
        reference,
        reference,
        agent,
    )
    assert RefundLine.objects.filter(refund=refund).count() == 0
    execution = RefundExecution.objects.get(refund=refund)  # the manual gateway: staff confirm it
    assert (execution.adapter, execution.state, execution.idempotency_key) == (
        RefundAdapterName.MANUAL,
        ExecutionState.PENDING,
        reference,
    )
    assert execution.request_summary["order_number"] == order.external_number
    assert execution.request_summary["case_number"] == ticket.number
    # Granted, not paid: the payout waits for staff to confirm it.
    granted = Compensation.objects.get(pk=compensation.pk)
    assert (granted.status, granted.payment_reference, granted.paid_at) == (
        CompensationStatus.GRANTED,
        reference,
        None,
    )
    assert TicketEvent.objects.filter(ticket=ticket, verb=ComplaintVerb.COMPENSATION_GRANTED).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, verb=ComplaintVerb.COMPENSATION_PAID).count() == 0
    assert TicketEvent.objects.filter(ticket=ticket, verb=ReturnVerb.REFUND_GRANTED).count() == 1
    assert shipping_refundable(order) == Decimal("0.00")  # returns of the order see it spent

    refund_confirm_manual(execution=execution, actor=agent, reference="BO-7781")

    refund.refresh_from_db()
    assert refund.state == RefundState.PAID
    assert TicketEvent.objects.filter(ticket=ticket, verb=ReturnVerb.REFUND_PAID).count() == 1
    paid = Compensation.objects.get(pk=compensation.pk)
    assert (paid.status, paid.payment_reference, paid.payment_error) == (CompensationStatus.PAID, reference, "")
    assert paid.paid_at is not None
    assert TicketEvent.objects.filter(ticket=ticket, verb=ComplaintVerb.COMPENSATION_PAID).count() == 1


@pytest.mark.django_db
def test_partial_refund_over_the_agents_limit_refused_then_approved_by_a_supervisor_spreads_over_the_lines():
    order = _order()
    merchant = order.merchant
    CompensationSettings.objects.create(merchant=merchant, agent_limit=Decimal(50), supervisor_limit=Decimal(500))
    agent = _staff(merchant, Membership.Role.AGENT)
    supervisor = _staff(merchant, Membership.Role.SUPERVISOR)
    ticket = _complaint(order)
    compensation = compensation_propose(ticket=ticket, actor=agent, kind="partial_refund", amount="420")

    with pytest.raises(PermissionRefused):
        compensation_approve(compensation=compensation, actor=agent)
    assert Compensation.objects.get(pk=compensation.pk).status == CompensationStatus.AWAITING_APPROVAL
    assert Refund.objects.count() == 0

    compensation_approve(compensation=compensation, actor=supervisor)
    compensation_answer(compensation=compensation, customer=order.customer, accept=True)
    compensation_pay(compensation=compensation, actor=agent)

    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.shipping_amount) == (Decimal("420.00"), Decimal("0.00"))
    first, second = _lines(order)
    assert list(
        RefundLine.objects.filter(refund=refund)
        .order_by("order_line_id")
        .values_list("order_line_id", "return_line_id", "quantity", "amount")
    ) == [(first.pk, None, 0, Decimal("398.00")), (second.pk, None, 0, Decimal("22.00"))]
    # Money back only: no unit left the customer, so the unit counters stay where they were.
    assert [(line.quantity_refunded, line.quantity_requested) for line in _lines(order)] == [(0, 0), (0, 0)]
    remainder = order_refundable_remainder(ticket)
    assert (remainder.price, remainder.shipping) == (Decimal("28.00"), Decimal("12.00"))


@pytest.mark.django_db
def test_an_offer_above_the_orders_refundable_remainder_is_refused_and_nothing_is_written():
    order = _order(shipping="12.00")
    supervisor = _staff(order.merchant, Membership.Role.SUPERVISOR)
    ticket = _complaint(order)
    events = TicketEvent.objects.filter(ticket=ticket).count()

    with pytest.raises(Conflict) as shipping_refused:
        compensation_propose(ticket=ticket, actor=supervisor, kind="shipping_refund", amount="12.01")
    with pytest.raises(Conflict) as price_refused:
        compensation_propose(ticket=ticket, actor=supervisor, kind="partial_refund", amount="448.01")

    assert (shipping_refused.value.code, shipping_refused.value.extra["refundable"]) == (
        "amount_exceeds_refundable",
        "12.00",
    )
    assert (price_refused.value.code, price_refused.value.extra["refundable"]) == (
        "amount_exceeds_refundable",
        "448.00",
    )
    assert Compensation.objects.count() == 0
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


@pytest.mark.django_db
def test_a_payment_beyond_what_is_left_when_it_is_paid_is_refused_and_changes_nothing():
    order = _order()
    supervisor = _staff(order.merchant, Membership.Role.SUPERVISOR)
    ticket = _complaint(order)
    first = _accepted(ticket, supervisor, "partial_refund", "400")
    second = _accepted(ticket, supervisor, "partial_refund", "100")  # 448 left when offered
    compensation_pay(compensation=first, actor=supervisor)
    events = TicketEvent.objects.filter(ticket=ticket).count()

    with pytest.raises(Conflict) as refused:
        compensation_pay(compensation=second, actor=supervisor)

    assert (refused.value.code, refused.value.extra["refundable"]) == ("amount_exceeds_refundable", "48.00")
    assert Compensation.objects.get(pk=second.pk).status == CompensationStatus.ACCEPTED
    assert Compensation.objects.get(pk=second.pk).payment_reference == ""
    assert list(Refund.objects.values_list("grant_key", flat=True)) == [f"compensation-{first.pk}"]
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


@pytest.mark.django_db
def test_a_refund_kind_is_refused_for_a_complaint_without_an_order():
    order = _order()
    supervisor = _staff(order.merchant, Membership.Role.SUPERVISOR)
    ticket = _complaint(order, with_order=False)

    with pytest.raises(InvalidInput) as refused:
        compensation_propose(ticket=ticket, actor=supervisor, kind="partial_refund", amount="10")

    assert refused.value.code == "no_order"
    assert Compensation.objects.count() == 0


@pytest.mark.django_db
def test_another_merchants_staff_cannot_pay_the_compensation():
    order = _order()
    agent = _staff(order.merchant, Membership.Role.AGENT)
    ticket = _complaint(order)
    compensation = _accepted(ticket, agent, "shipping_refund", "10")
    outsider = _staff(OrderFactory.create().merchant, Membership.Role.MERCHANT_ADMIN)

    with pytest.raises(PermissionRefused):
        compensation_pay(compensation=compensation, actor=outsider)

    assert Compensation.objects.get(pk=compensation.pk).status == CompensationStatus.ACCEPTED
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_voiding_an_unpaid_compensation_refund_gives_the_remainder_back():
    order = _order()
    supervisor = _staff(order.merchant, Membership.Role.SUPERVISOR)
    ticket = _complaint(order)
    compensation = compensation_pay(
        compensation=_accepted(ticket, supervisor, "partial_refund", "60"), actor=supervisor
    )
    refund = Refund.objects.get(order=order)

    refund_void(refund=refund, actor=supervisor, reason="Paid by hand in the shop instead")

    refund.refresh_from_db()
    assert refund.state == RefundState.VOIDED
    assert order_refundable_remainder(ticket).price == Decimal("448.00")
    assert TicketEvent.objects.filter(ticket=ticket, verb=ReturnVerb.REFUND_VOIDED).count() == 1
    # Its money never left: the offer is withdrawn, neither paid nor pending.
    withdrawn = Compensation.objects.get(pk=compensation.pk)
    assert (withdrawn.status, withdrawn.paid_at) == (CompensationStatus.WITHDRAWN, None)
    assert TicketEvent.objects.filter(ticket=ticket, verb=ComplaintVerb.COMPENSATION_WITHDRAWN).count() == 1


@pytest.mark.xdist_group("races")
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_refund_payments_grant_one_refund():
    order = _order()
    agent = _staff(order.merchant, Membership.Role.AGENT)
    ticket = _complaint(order)
    compensation = _accepted(ticket, agent, "partial_refund", "40")
    errors = race_errors(20, lambda _index: compensation_pay(compensation=compensation, actor=agent))

    assert errors == []
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.grant_key) == (Decimal("40.00"), f"compensation-{compensation.pk}")
    assert RefundLine.objects.filter(refund=refund).count() == 1
    assert RefundExecution.objects.filter(refund=refund).count() == 1
    assert Compensation.objects.get(pk=compensation.pk).status == CompensationStatus.GRANTED
    assert TicketEvent.objects.filter(ticket=ticket, verb=ComplaintVerb.COMPENSATION_GRANTED).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, verb=ReturnVerb.REFUND_GRANTED).count() == 1


# --- pages: the compensation form's remainder, the refunds box, the payout confirmed ------------


@pytest.mark.django_db
def test_the_compensation_form_offers_the_refund_kinds_with_the_orders_refundable_remainder(client):
    order = _order(shipping="12.00")
    agent = _staff(order.merchant, Membership.Role.AGENT)
    ticket = _complaint(order)
    client.force_login(agent)

    page = client.get(reverse("dashboard:ticket", args=[ticket.number])).content.decode()

    assert '<option value="shipping_refund">' in page
    assert '<option value="partial_refund">' in page
    assert 'id="compensation-refundable"' in page
    assert "Refund of shipping up to 12.00 CNY" in page
    assert "Partial refund up to 448.00 CNY" in page


@pytest.mark.django_db
def test_the_refund_kinds_are_not_offered_on_a_complaint_without_an_order(client):
    order = _order()
    agent = _staff(order.merchant, Membership.Role.AGENT)
    ticket = _complaint(order, with_order=False)
    client.force_login(agent)

    page = client.get(reverse("dashboard:ticket", args=[ticket.number])).content.decode()

    assert '<option value="store_credit">' in page
    assert '<option value="shipping_refund">' not in page
    assert 'id="compensation-refundable"' not in page


@pytest.mark.django_db
def test_staff_confirm_the_manual_payout_of_a_compensation_refund_from_the_ticket_page(client):
    order = _order()
    agent = _staff(order.merchant, Membership.Role.AGENT)
    ticket = _complaint(order)
    compensation = _accepted(ticket, agent, "partial_refund", "30")
    client.force_login(agent)
    client.post(reverse("dashboard:compensation_act", args=[ticket.number, compensation.pk]), {"action": "pay"})
    refund = Refund.objects.get(order=order)
    refund_execute(refund=refund)  # the task after the grant: the manual gateway waits for staff

    page = client.get(reverse("dashboard:ticket", args=[ticket.number])).content.decode()
    confirm = reverse("dashboard:order_refund_confirm", args=[ticket.number, refund.pk])
    assert 'id="order-refunds"' in page
    assert confirm in page

    response = client.post(confirm, {"reference": "BO-1"})

    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.state == RefundState.PAID
    assert RefundExecution.objects.get(refund=refund).provider_reference == "BO-1"


@pytest.mark.django_db
def test_another_merchants_staff_cannot_see_or_confirm_a_compensation_refund(client):
    order = _order()
    agent = _staff(order.merchant, Membership.Role.AGENT)
    ticket = _complaint(order)
    compensation_pay(compensation=_accepted(ticket, agent, "shipping_refund", "12"), actor=agent)
    refund = Refund.objects.get(order=order)
    refund_execute(refund=refund)
    outsider = _staff(OrderFactory.create().merchant, Membership.Role.MERCHANT_ADMIN)
    client.force_login(outsider)

    response = client.post(
        reverse("dashboard:order_refund_confirm", args=[ticket.number, refund.pk]), {"reference": "BO-1"}
    )

    assert response.status_code == 404
    refund.refresh_from_db()
    assert refund.state == RefundState.GRANTED
    assert RefundExecution.objects.get(refund=refund).state == ExecutionState.PENDING
