"""Complaint compensation paid as store credit: returns' payer, registered with the case hub,
writes the customer's store-credit ledger once per compensation, whatever the replays or races."""

from decimal import Decimal

import pytest

from aftersales.exceptions import PermissionRefused
from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, OrderFactory
from aftersales.tests.races import race_errors
from returns.models import StoreCreditAccount, StoreCreditEntry
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


def _complaint(order):
    return ticket_create(
        merchant=order.merchant,
        kind=TicketKind.COMPLAINT,
        subject="The box arrived crushed",
        body="And nobody answers.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
    )


def _staff(merchant, role):
    return MembershipFactory.create(merchant=merchant, role=role).user


def test_returns_registers_the_store_credit_payer():
    assert CompensationKind.STORE_CREDIT in registered_compensation_kinds()


@pytest.mark.django_db
def test_store_credit_over_the_agents_limit_refused_approved_by_a_supervisor_and_paid_once_under_20_replays():
    order = OrderFactory.create()
    merchant = order.merchant
    CompensationSettings.objects.create(merchant=merchant, agent_limit=Decimal(50), supervisor_limit=Decimal(500))
    agent = _staff(merchant, Membership.Role.AGENT)
    supervisor = _staff(merchant, Membership.Role.SUPERVISOR)
    ticket = _complaint(order)
    compensation = compensation_propose(ticket=ticket, actor=agent, kind="store_credit", amount="200")

    with pytest.raises(PermissionRefused):
        compensation_approve(compensation=compensation, actor=agent)
    assert Compensation.objects.get(pk=compensation.pk).status == CompensationStatus.AWAITING_APPROVAL
    assert StoreCreditEntry.objects.count() == 0

    compensation_approve(compensation=compensation, actor=supervisor)
    compensation_answer(compensation=compensation, customer=order.customer, accept=True)
    for _ in range(20):
        compensation_pay(compensation=compensation, actor=agent)

    entry = StoreCreditEntry.objects.get(customer=order.customer)
    assert (entry.amount, entry.balance_after, entry.reference) == (
        Decimal("200.00"),
        Decimal("200.00"),
        f"compensation-{compensation.pk}",
    )
    assert StoreCreditAccount.objects.get(customer=order.customer).balance == Decimal("200.00")
    assert TicketEvent.objects.filter(ticket=ticket, verb=ComplaintVerb.COMPENSATION_PAID).count() == 1


@pytest.mark.xdist_group("races")
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_store_credit_payments_credit_once():
    order = OrderFactory.create()
    agent = _staff(order.merchant, Membership.Role.AGENT)
    ticket = _complaint(order)
    compensation = compensation_propose(ticket=ticket, actor=agent, kind="store_credit", amount="40")
    compensation_answer(compensation=compensation, customer=order.customer, accept=True)
    errors = race_errors(20, lambda _index: compensation_pay(compensation=compensation, actor=agent))

    assert errors == []
    assert StoreCreditEntry.objects.filter(customer=order.customer).count() == 1
    assert StoreCreditAccount.objects.get(customer=order.customer).balance == Decimal("40.00")
    assert TicketEvent.objects.filter(ticket=ticket, verb=ComplaintVerb.COMPENSATION_PAID).count() == 1
