"""The staff page of a complaint costs a fixed number of queries, two more than a plain ticket's,
however many offers, regulator cases, escalations and refunds it carries: the complaint comes with
its lists in one query, and its order's refundable remainder with the refunds granted on the case
in another, read once for the form's two refund kinds and the refunds box."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, OrderFactory, OrderLineFactory
from returns.models import Refund
from returns.services import refund_execute
from tickets.models import Compensation, CompensationStatus, TicketChannel, TicketKind
from tickets.services import (
    compensation_answer,
    compensation_pay,
    compensation_propose,
    complaint_escalate,
    complaint_set_responsibility,
    regulator_case_record,
    ticket_create,
)

pytestmark = pytest.mark.django_db

# A plain ticket's page (tickets/tests/test_dashboard.py, TICKET_PAGE_QUERIES = 7), plus the
# complaint with its offers (and who proposed and approved them), escalations and regulator cases,
# plus the order's refundable remainder with the case's refunds and their payment calls.
PLAIN_TICKET_PAGE_QUERIES = 7
COMPLAINT_PAGE_QUERIES = PLAIN_TICKET_PAGE_QUERIES + 2


def _complaint(order):
    return ticket_create(
        merchant=order.merchant,
        kind=TicketKind.COMPLAINT,
        subject="Late, scratched, and the courier shouted",
        body="I want something back.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
    )


def _worked(order, rounds: int):
    """A complaint with ``rounds`` of everything: escalations, regulator cases, and offers of each
    kind (a coupon paid, a partial refund granted and paid by hand, one granted with no payment
    call yet, one awaiting approval)."""
    merchant = order.merchant
    agent = MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user
    supervisor = MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    ticket = _complaint(order)
    complaint_set_responsibility(
        ticket=ticket,
        actor=agent,
        party="carrier",
        evidence="The depot scan shows a crushed box.",
        third_party_name="ZTO",
    )
    today = timezone.localdate()
    for round_ in range(rounds):
        if round_ < 2:
            complaint_escalate(ticket=ticket, actor=agent, reason=f"Round {round_}")
        regulator_case_record(
            ticket=ticket,
            actor=supervisor,
            channel="12315",
            reference=f"12315-{round_}",
            received_on=today,
            answer_due_on=today + timedelta(days=5),
        )
        for kind, amount in (("coupon", "5"), ("partial_refund", "10"), ("partial_refund", "3")):
            offer = compensation_propose(ticket=ticket, actor=supervisor, kind=kind, amount=amount)
            compensation_pay(
                compensation=compensation_answer(compensation=offer, customer=ticket.customer, accept=True),
                actor=supervisor,
            )
        compensation_propose(ticket=ticket, actor=agent, kind="coupon", amount="80")  # above the agent's 50
        refund_execute(refund=Refund.objects.filter(ticket=ticket, amount=Decimal("10.00")).latest("id"))
    return ticket, agent


@pytest.mark.parametrize("rounds", [1, 3])
def test_the_complaint_page_costs_two_queries_more_than_a_plain_ticket_whatever_it_carries(
    client, rounds, django_assert_num_queries
):
    order = OrderFactory.create(shipping_amount=Decimal("12.00"))
    OrderLineFactory.create(order=order, quantity=2, unit_price=Decimal("199.00"))
    ticket, agent = _worked(order, rounds)
    client.force_login(agent)

    with django_assert_num_queries(COMPLAINT_PAGE_QUERIES):
        response = client.get(reverse("dashboard:ticket", args=[ticket.number]))

    assert response.status_code == 200
    page = response.content.decode()
    # What the lists read back is what the database holds, amounts exactly.
    complaint = response.context["complaint_box"]["complaint"]
    offers = list(complaint.compensations.all())
    assert [(offer.kind, offer.amount, offer.status) for offer in offers] == [
        ("coupon", Decimal("5.00"), CompensationStatus.PAID),
        ("partial_refund", Decimal("10.00"), CompensationStatus.GRANTED),
        ("partial_refund", Decimal("3.00"), CompensationStatus.GRANTED),
        ("coupon", Decimal("80.00"), CompensationStatus.AWAITING_APPROVAL),
    ] * rounds
    assert {offer.proposed_by.username for offer in offers} == set(
        Compensation.objects.filter(complaint__ticket=ticket).values_list("proposed_by__username", flat=True)
    )
    assert len(complaint.regulator_cases.all()) == rounds
    assert len(complaint.escalations.all()) == min(rounds, 2)
    assert f"Partial refund up to {Decimal('398.00') - 13 * rounds:.2f} CNY" in page
    refunds = response.context["order_refunds"]
    assert [(refund.amount, refund.state) for refund in refunds] == [
        (Decimal("10.00"), "granted"),
        (Decimal("3.00"), "granted"),
    ] * rounds
    # The refund paid by hand has its payment call (under the offer's key); the other none yet.
    executions = [getattr(refund, "execution", None) for refund in refunds]
    assert [execution.idempotency_key if execution else None for execution in executions] == [
        refund.grant_key if refund.amount == Decimal("10.00") else None for refund in refunds
    ]
    assert page.count("Confirm the payout") == rounds
    assert page.count("Start the payment") == rounds
    assert "12315-0" in page


def test_another_merchants_member_does_not_get_the_complaint_page(client):
    order = OrderFactory.create(shipping_amount=Decimal("12.00"))
    OrderLineFactory.create(order=order, quantity=1, unit_price=Decimal("50.00"))
    ticket, _agent = _worked(order, 1)
    outsider = MembershipFactory.create(merchant=OrderFactory.create().merchant, role=Membership.Role.MERCHANT_ADMIN)
    client.force_login(outsider.user)

    response = client.get(reverse("dashboard:ticket", args=[ticket.number]))

    assert response.status_code == 404
