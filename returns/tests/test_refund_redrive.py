"""A refund whose payment stalled is paid without a click: the beat sweep re-drives it under the
key stored on the refund at its grant, which is also the key an API retry of the same call pays
under; so the platform sees one key and pays once, whoever gets there first. A failed payment
is the shop's to look at, and is left alone."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from returns.models import ExecutionState, Refund, RefundExecution, RefundState, ReturnRequest, ReturnStatus
from returns.services import (
    refund_execute,
    refund_grant,
    refund_void,
    refunds_redrive_stalled,
    return_request_settle,
)
from returns.tests.builders import RefundEndpoint, approved_return, http_gateway, race, settlement_setup

STALLED = timedelta(seconds=settings.REFUND_REDRIVE_AFTER_SECONDS + 1)


@pytest.fixture
def setup(db):
    return settlement_setup()


@pytest.fixture
def received(setup):
    return approved_return(setup, status=ReturnStatus.RECEIVED)


def later(by: timedelta = STALLED):
    return time_machine.travel(timezone.now() + by, tick=False)


@pytest.mark.django_db
def test_a_grant_whose_payment_task_was_lost_is_paid_by_the_sweep_under_the_key_stored_at_the_grant(setup, received):
    with RefundEndpoint([(200, {"reference": "RF-1"}, 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        # Given a refund granted whose payment call never ran (the task after the grant was lost)
        refund = refund_grant(return_request=received, actor=setup["supervisor"])
        assert len(refund.payment_key) == 32
        assert RefundExecution.objects.count() == 0

        # When the sweep runs once the grant has waited long enough, and then again
        with later():
            driven = refunds_redrive_stalled()
            again = refunds_redrive_stalled()

    # Then the payment was made once, under the key fixed at the grant, and the return completed
    assert (driven, again) == (1, 0)
    assert endpoint.keys == [refund.payment_key]
    execution = RefundExecution.objects.get()
    assert (execution.idempotency_key, execution.state, execution.attempts) == (
        refund.payment_key,
        ExecutionState.SUCCEEDED,
        1,
    )
    assert Refund.objects.get(pk=refund.pk).state == RefundState.PAID
    assert ReturnRequest.objects.get(pk=received.pk).status == ReturnStatus.COMPLETED


@pytest.mark.django_db
def test_a_fresh_grant_is_left_to_its_own_task(setup, received):
    with RefundEndpoint([(200, {"reference": "RF-1"}, 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        refund = refund_grant(return_request=received, actor=setup["supervisor"])

        with later(STALLED - timedelta(seconds=2)):
            driven = refunds_redrive_stalled()

    assert driven == 0
    assert endpoint.calls == []
    assert Refund.objects.get(pk=refund.pk).state == RefundState.GRANTED


@pytest.mark.django_db
def test_an_attempt_whose_worker_died_is_re_driven_once_its_lease_ran_out_under_the_same_key(setup, received):
    with RefundEndpoint([(200, {"reference": "RF-2"}, 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url, timeout_seconds=10)
        refund = refund_grant(return_request=received, actor=setup["supervisor"])
        # Given an attempt claimed by a worker that died before the call returned
        RefundExecution.objects.create(
            merchant_id=refund.merchant_id,
            refund=refund,
            adapter="http",
            idempotency_key=refund.payment_key,
            attempts=1,
            last_attempt_at=timezone.now(),
            lease_expires_at=timezone.now() + timedelta(seconds=40),
        )
        with later(timedelta(seconds=20)):
            in_flight = refunds_redrive_stalled(stalled_for=timedelta(seconds=10))

        with later():
            driven = refunds_redrive_stalled()

    assert (in_flight, driven) == (0, 1)
    assert endpoint.keys == [refund.payment_key]
    execution = RefundExecution.objects.get()
    assert (execution.state, execution.attempts) == (ExecutionState.SUCCEEDED, 2)


@pytest.mark.django_db
def test_the_sweep_and_an_api_retry_pay_under_one_key_and_once(setup, received):
    with RefundEndpoint([(200, {"reference": "RF-3"}, 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        # Given a grant made by an API call whose payment call never ran
        refund = refund_grant(return_request=received, actor=setup["supervisor"], payment_key="pay:abc123")

        # When the sweep pays it, and the API client retries the same call later
        with later():
            refunds_redrive_stalled()
        retried = refund_execute(refund=refund, idempotency_key="pay:abc123")

    # Then one execution, one call, under the API's key
    assert endpoint.keys == ["pay:abc123"]
    assert (retried.idempotency_key, retried.state, retried.attempts) == ("pay:abc123", ExecutionState.SUCCEEDED, 1)
    assert RefundExecution.objects.count() == 1


@pytest.mark.django_db
def test_a_payment_key_of_another_refund_is_refused_at_the_grant_and_nothing_is_written(setup):
    first = approved_return(setup, quantity=1, status=ReturnStatus.RECEIVED)
    second = approved_return(setup, quantity=1, status=ReturnStatus.RECEIVED)
    refund_grant(return_request=first, actor=setup["supervisor"], payment_key="pay:same")

    with pytest.raises(Exception, match="belongs to another refund") as refusal:
        refund_grant(return_request=second, actor=setup["supervisor"], payment_key="pay:same")

    assert refusal.value.code == "idempotency_key_reused"
    assert Refund.objects.count() == 1
    assert ReturnRequest.objects.get(pk=second.pk).status == ReturnStatus.RECEIVED


@pytest.mark.django_db
def test_a_failed_payment_is_left_to_the_shop(setup, received):
    with RefundEndpoint([(502, {"error": {"message": "down"}}, 0), (200, {"reference": "RF-4"}, 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        return_request_settle(return_request=received, actor=setup["supervisor"])
        assert Refund.objects.get().state == RefundState.FAILED

        with later():
            driven = refunds_redrive_stalled()

    assert driven == 0
    assert len(endpoint.calls) == 1
    assert ReturnRequest.objects.get(pk=received.pk).status == ReturnStatus.ACTION_REQUIRED


@pytest.mark.django_db
def test_a_voided_grant_is_never_paid(setup, received):
    with RefundEndpoint([(200, {"reference": "RF-5"}, 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        refund = refund_grant(return_request=received, actor=setup["supervisor"])
        refund_void(refund=refund, actor=setup["supervisor"], reason="Granted twice by mistake.")

        with later():
            driven = refunds_redrive_stalled()

    assert driven == 0
    assert endpoint.calls == []
    assert RefundExecution.objects.count() == 0


@pytest.mark.xdist_group("races")
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_make_one_call():
    setup = settlement_setup()
    received = approved_return(setup, status=ReturnStatus.RECEIVED)
    with RefundEndpoint([(200, {"reference": "RF-6"}, 0.3)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        refund = refund_grant(return_request=received, actor=setup["supervisor"])

        with later():
            outcomes = race(2, refunds_redrive_stalled)

    assert outcomes == ["ok", "ok"]
    assert endpoint.keys == [refund.payment_key]
    assert RefundExecution.objects.get().state == ExecutionState.SUCCEEDED
