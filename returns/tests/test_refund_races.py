"""Two clicks, two workers or two API retries give one refund — raced on PostgreSQL, each thread
with its own connection, all released at once by a barrier."""

from decimal import Decimal

import pytest

from aftersales.models import OrderLine
from returns.models import ExecutionState, Refund, RefundExecution, RefundLine, ReturnRequest, ReturnStatus
from returns.services import refund_execute, refund_grant, return_request_settle
from returns.tests.builders import RefundEndpoint, approved_return, http_gateway, race, settlement_setup

# Up to fifty connections each: the races share one xdist worker, so two never run at once against
# PostgreSQL's 100 connections.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("races")]


def test_fifty_concurrent_refund_grants_for_one_return_give_exactly_one_refund():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)

    outcomes = race(50, lambda: refund_grant(return_request=return_request, actor=setup["supervisor"]))

    assert outcomes == ["nothing_to_refund"] * 49 + ["ok"]
    refund = Refund.objects.get()
    assert refund.amount == Decimal("580.00")
    assert list(RefundLine.objects.values_list("quantity", "amount")) == [(2, Decimal("580.00"))]
    assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 2
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.SETTLING


def test_fifty_concurrent_settle_clicks_give_one_refund_and_one_execution():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)

    outcomes = race(50, lambda: return_request_settle(return_request=return_request, actor=setup["supervisor"]))

    # Every click after the first finds the return settled as far as it can be (the payout
    # waits for staff) and changes nothing.
    assert outcomes == ["ok"] * 50
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("580.00")]
    assert list(RefundExecution.objects.values_list("adapter", "state")) == [("manual", ExecutionState.PENDING)]
    assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 2
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.SETTLING


def test_fifty_workers_paying_one_refund_make_one_call():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    # The endpoint answers slowly, so every other worker arrives while the first call is in flight.
    with RefundEndpoint([(200, {"reference": "RF-1"}, 0.5)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        refund = refund_grant(return_request=return_request, actor=setup["supervisor"])

        outcomes = race(50, lambda: refund_execute(refund=refund))

    assert outcomes == ["ok"] * 50
    assert len(endpoint.calls) == 1
    execution = RefundExecution.objects.get()
    assert (execution.state, execution.attempts, execution.provider_reference) == (
        ExecutionState.SUCCEEDED,
        1,
        "RF-1",
    )
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.COMPLETED


def test_the_same_idempotency_key_replayed_twenty_times_at_once_gives_one_execution():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    with RefundEndpoint([(200, {"reference": "RF-2"}, 0.2)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        refund = refund_grant(return_request=return_request, actor=setup["supervisor"])

        outcomes = race(20, lambda: refund_execute(refund=refund, idempotency_key="api-retry-42"))

    assert outcomes == ["ok"] * 20
    assert list(RefundExecution.objects.values_list("idempotency_key", "state", "attempts")) == [
        ("api-retry-42", ExecutionState.SUCCEEDED, 1)
    ]
    assert endpoint.keys == ["api-retry-42"]
    assert Refund.objects.count() == 1
