"""Paying refunds: the manual adapter waits for staff, the HTTP adapter calls the shop's endpoint
with an idempotency key that every retry reuses."""

import socket
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused
from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory
from returns.models import (
    ExecutionState,
    Refund,
    RefundExecution,
    RefundGateway,
    RefundState,
    ReturnRequest,
    ReturnStatus,
)
from returns.services import refund_confirm_manual, refund_execute, refund_grant, return_request_settle
from returns.tests.builders import RefundEndpoint, approved_return, http_gateway, settlement_setup
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def setup():
    return settlement_setup()


@pytest.fixture
def received(setup):
    return approved_return(setup, status=ReturnStatus.RECEIVED)


def _events(return_request, verb):
    return list(TicketEvent.objects.filter(ticket=return_request.ticket, verb=verb).order_by("id"))


# --- HTTP ---------------------------------------------------------------------------------------


def test_a_failed_call_needs_action_and_the_retry_reuses_the_key_and_completes(setup, received):
    answers = [(502, {"error": {"message": "upstream gateway unavailable"}}, 0), (200, {"reference": "RF-88"}, 0)]
    with RefundEndpoint(answers) as endpoint:
        http_gateway(setup["merchant"], endpoint.url, api_token="shop-token")

        return_request = return_request_settle(return_request=received, actor=setup["supervisor"])

        execution = RefundExecution.objects.get()
        assert return_request.status == ReturnStatus.ACTION_REQUIRED
        assert (execution.state, execution.attempts) == (ExecutionState.FAILED, 1)
        assert execution.error == "The refund endpoint answered 502: upstream gateway unavailable"
        assert Refund.objects.get().state == RefundState.FAILED
        [failure] = _events(return_request, "refund_failed")
        assert failure.is_public is False
        assert failure.data["error"] == execution.error
        assert failure.data["idempotency_key"] == execution.idempotency_key

        retried = refund_execute(refund=execution.refund)

    assert (retried.pk, retried.idempotency_key) == (execution.pk, execution.idempotency_key)
    assert (retried.state, retried.attempts, retried.provider_reference) == (ExecutionState.SUCCEEDED, 2, "RF-88")
    assert retried.response_summary["status"] == 200
    assert endpoint.keys == [execution.idempotency_key, execution.idempotency_key]
    assert endpoint.calls[0]["json"] == endpoint.calls[1]["json"]
    assert endpoint.calls[0]["authorization"] == "Bearer shop-token"
    sent = endpoint.calls[0]["json"]
    assert (sent["amount"], sent["currency"], sent["idempotency_key"]) == ("580.00", "CNY", execution.idempotency_key)
    assert sent["lines"] == [
        {"line_number": setup["line"].line_number, "sku": setup["line"].sku, "quantity": 2, "amount": "580.00"}
    ]
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.COMPLETED
    assert Ticket.objects.get(pk=return_request.ticket_id).status == "resolved"
    assert Refund.objects.get().state == RefundState.PAID
    assert RefundExecution.objects.count() == 1


def test_the_same_key_replayed_twenty_times_gives_one_execution_and_one_call(setup, received):
    with RefundEndpoint([(201, {"refund_id": 5501}, 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        refund = refund_grant(return_request=received, actor=setup["supervisor"])

        executions = [refund_execute(refund=refund, idempotency_key="order-7-refund-1") for _ in range(20)]

    assert {execution.pk for execution in executions} == {executions[0].pk}
    assert RefundExecution.objects.count() == 1
    execution = RefundExecution.objects.get()
    assert (execution.state, execution.attempts, execution.provider_reference) == ("succeeded", 1, "5501")
    assert endpoint.keys == ["order-7-refund-1"]
    assert ReturnRequest.objects.get(pk=received.pk).status == ReturnStatus.COMPLETED


def test_another_key_for_a_refund_already_being_paid_is_refused(setup, received):
    refund = refund_grant(return_request=received, actor=setup["supervisor"])
    refund_execute(refund=refund, idempotency_key="key-A")

    with pytest.raises(Conflict) as refusal:
        refund_execute(refund=refund, idempotency_key="key-B")

    assert refusal.value.code == "idempotency_key_mismatch"
    assert list(RefundExecution.objects.values_list("idempotency_key", flat=True)) == ["key-A"]


def test_a_key_of_another_refund_is_refused(setup):
    first = approved_return(setup, quantity=1, status=ReturnStatus.RECEIVED)
    second = approved_return(setup, quantity=1, status=ReturnStatus.RECEIVED)
    refund_execute(refund=refund_grant(return_request=first, actor=setup["supervisor"]), idempotency_key="key-A")
    other = refund_grant(return_request=second, actor=setup["supervisor"])

    with pytest.raises(Conflict) as refusal:
        refund_execute(refund=other, idempotency_key="key-A")

    assert refusal.value.code == "idempotency_key_reused"
    assert RefundExecution.objects.count() == 1


def test_an_unreachable_endpoint_is_a_failure_with_the_reason(setup, received):
    http_gateway(setup["merchant"], f"http://127.0.0.1:{_unused_port()}/refunds")

    return_request = return_request_settle(return_request=received, actor=setup["supervisor"])

    execution = RefundExecution.objects.get()
    assert return_request.status == ReturnStatus.ACTION_REQUIRED
    assert execution.state == ExecutionState.FAILED
    assert execution.error.startswith("The refund endpoint could not be reached: ")
    assert "refused" in execution.error.lower()


def test_a_slow_endpoint_times_out_as_a_failure(setup, received):
    late = threading.Event()  # the answer comes only after the client has given up
    with RefundEndpoint([(200, {"reference": "late"}, late)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url, timeout_seconds=1)

        return_request = return_request_settle(return_request=received, actor=setup["supervisor"])
        late.set()

    execution = RefundExecution.objects.get()
    assert return_request.status == ReturnStatus.ACTION_REQUIRED
    assert execution.state == ExecutionState.FAILED
    assert "timed out" in execution.error
    assert len(endpoint.calls) == 1


def test_a_redirect_is_a_failure_and_is_not_followed(setup, received):
    with RefundEndpoint([(307, {"message": "moved"}, 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)

        return_request = return_request_settle(return_request=received, actor=setup["supervisor"])

    execution = RefundExecution.objects.get()
    assert return_request.status == ReturnStatus.ACTION_REQUIRED
    assert execution.error == "The refund endpoint answered 307: moved"
    assert len(endpoint.calls) == 1


# --- manual -------------------------------------------------------------------------------------


def test_the_manual_adapter_waits_for_staff_and_calling_it_again_changes_nothing(setup, received):
    return_request = return_request_settle(return_request=received, actor=setup["supervisor"])
    execution = RefundExecution.objects.get()

    again = refund_execute(refund=execution.refund)

    assert again.pk == execution.pk
    assert (again.adapter, again.state, again.attempts) == ("manual", ExecutionState.PENDING, 0)
    assert return_request.status == ReturnStatus.SETTLING
    assert Refund.objects.get().state == RefundState.GRANTED


def test_a_manual_confirmation_needs_a_reference_and_a_member_of_the_merchants_staff(setup, received):
    return_request_settle(return_request=received, actor=setup["supervisor"])
    execution = RefundExecution.objects.get()
    outsider = MembershipFactory(role=Membership.Role.MERCHANT_ADMIN).user
    warehouse = MembershipFactory(merchant=setup["merchant"], role=Membership.Role.WAREHOUSE).user

    with pytest.raises(InvalidInput):
        refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="  ")
    for actor in (outsider, warehouse):
        with pytest.raises(PermissionRefused):
            refund_confirm_manual(execution=execution, actor=actor, reference="BO-1")

    execution.refresh_from_db()
    assert (execution.state, execution.provider_reference) == (ExecutionState.PENDING, "")
    assert ReturnRequest.objects.get(pk=received.pk).status == ReturnStatus.SETTLING


def test_confirming_twice_is_one_payout_and_another_reference_is_refused(setup, received):
    return_request_settle(return_request=received, actor=setup["supervisor"])
    execution = RefundExecution.objects.get()
    refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="BO-1")

    again = refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="BO-1")
    with pytest.raises(Conflict) as refusal:
        refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="BO-2")

    assert (again.state, again.provider_reference) == (ExecutionState.SUCCEEDED, "BO-1")
    assert refusal.value.code == "already_confirmed"
    assert len(_events(received, "refund_paid")) == 1


def test_an_http_execution_cannot_be_confirmed_by_hand(setup, received):
    with RefundEndpoint([(500, "oops", 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        return_request_settle(return_request=received, actor=setup["supervisor"])
    execution = RefundExecution.objects.get()

    with pytest.raises(Conflict) as refusal:
        refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="BO-1")

    assert refusal.value.code == "not_manual"
    assert execution.error == "The refund endpoint answered 500: oops"
    assert RefundExecution.objects.get().state == ExecutionState.FAILED


def test_a_merchant_without_a_gateway_pays_by_hand_and_each_merchant_uses_its_own(setup, received):
    other = settlement_setup()
    with RefundEndpoint([(200, {"reference": "X"}, 0)]) as endpoint:
        http_gateway(other["merchant"], endpoint.url)

        return_request_settle(return_request=received, actor=setup["supervisor"])

    assert RefundExecution.objects.get().adapter == "manual"
    assert endpoint.calls == []


def test_store_credit_is_not_paid_through_an_adapter(setup):
    return_request = approved_return(setup, resolution="store_credit", status=ReturnStatus.RECEIVED)
    return_request_settle(return_request=return_request, actor=setup["supervisor"])

    with pytest.raises(InvalidInput):
        refund_execute(refund=Refund.objects.get())

    assert RefundExecution.objects.count() == 0
    assert Refund.objects.get().amount == Decimal("580.00")


# --- only public addresses ------------------------------------------------------------------------


def test_with_the_guard_on_a_refund_endpoint_on_loopback_gets_no_call_and_the_return_needs_action(
    setup, received, settings
):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False
    with RefundEndpoint([(200, {"reference": "RF-1"}, 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)

        return_request = return_request_settle(return_request=received, actor=setup["supervisor"])

        assert endpoint.calls == []
    execution = RefundExecution.objects.get()
    assert return_request.status == ReturnStatus.ACTION_REQUIRED
    assert execution.state == ExecutionState.FAILED
    assert execution.error == (
        "The refund endpoint is not a public address (127.0.0.1, loopback); refunds are not sent there."
    )
    # Nothing left, so the decision is known unpaid: a supervisor may void it
    assert execution.response_summary == {"status": None, "sent": False}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "Refunds are sent to public addresses only, and 169.254.169.254 is not one (link-local).",
        ),
        ("http://10.1.2.3/refunds", "Refunds are sent to public addresses only, and 10.1.2.3 is not one (private)."),
    ],
)
def test_a_refund_gateway_on_an_internal_address_does_not_validate(setup, settings, url, message):
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False
    gateway = RefundGateway(merchant=setup["merchant"], adapter="http", endpoint_url=url)

    with pytest.raises(ValidationError) as refused:
        gateway.full_clean()

    assert refused.value.message_dict["endpoint_url"] == [message]
    # The manual adapter calls nothing: whatever URL is left there is not checked.
    RefundGateway(merchant=setup["merchant"], adapter="manual", endpoint_url=url).full_clean()
