"""A supervisor voids a refund that has not been paid: it stops counting against the line, its units
are given back, the return can be settled again — and the money still leaves once."""

import socket
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused
from aftersales.models import Membership, OrderLine
from aftersales.tests.factories import MembershipFactory, api_key_for
from returns.models import (
    ExecutionState,
    Refund,
    RefundExecution,
    RefundState,
    ReturnRequest,
    ReturnStatus,
)
from returns.services import (
    refund_confirm_manual,
    refund_execute,
    refund_grant,
    refund_void,
    return_request_settle,
)
from returns.tests.builders import RefundEndpoint, approved_return, http_gateway, settlement_setup
from tickets.models import Ticket, TicketEvent

REASON = "Customer gave the wrong account; paying by bank transfer instead."


def snapshot(return_request) -> tuple:
    """What a void may change: the refunds' states, the line's counter, the return, its events."""
    fresh = ReturnRequest.objects.get(pk=return_request.pk)
    return (
        list(Refund.objects.filter(return_request=fresh).order_by("pk").values_list("state", "voided_at")),
        list(OrderLine.objects.filter(order_id=fresh.order_id).values_list("quantity_refunded", flat=True)),
        fresh.status,
        TicketEvent.objects.filter(ticket_id=fresh.ticket_id).count(),
    )


def verbs_since(return_request, verb) -> list[str]:
    verbs = list(
        TicketEvent.objects.filter(ticket_id=return_request.ticket_id).order_by("id").values_list("verb", flat=True)
    )
    return verbs[len(verbs) - verbs[::-1].index(verb) - 1 :]


@pytest.mark.django_db
def test_a_failed_refund_voided_then_refunded_again_is_paid_once():
    setup = settlement_setup()
    received = approved_return(setup, status=ReturnStatus.RECEIVED)
    # The provider answers no (a 4xx): the money certainly stayed, so the decision may be voided.
    answers = [(422, {"error": {"message": "account closed"}}, 0), (200, {"reference": "RF-2"}, 0)]
    with RefundEndpoint(answers) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)
        # Given a refund whose payment failed: the return needs action, the line counts 2 refunded
        return_request = return_request_settle(return_request=received, actor=setup["supervisor"])
        failed = Refund.objects.get()
        assert (return_request.status, failed.state) == (ReturnStatus.ACTION_REQUIRED, RefundState.FAILED)
        assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 2

        # When a supervisor voids it
        voided = refund_void(refund=failed, actor=setup["supervisor"], reason=f"  {REASON} ")

        # Then it is voided with who, when and why; the units are given back; staff settle again
        assert (voided.state, voided.voided_by, voided.void_reason) == (
            RefundState.VOIDED,
            setup["supervisor"],
            REASON,
        )
        assert voided.voided_at is not None
        assert voided.paid_at is None
        assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 0
        return_request.refresh_from_db()
        assert return_request.status == ReturnStatus.SETTLING
        assert Ticket.objects.get(pk=return_request.ticket_id).status == "open"
        [event] = TicketEvent.objects.filter(ticket_id=return_request.ticket_id, verb="refund_voided")
        assert event.actor_user == setup["supervisor"]
        assert event.data == {
            "refund": failed.pk,
            "amount": "580.00",
            "shipping": "0.00",
            "currency": "CNY",
            "previous_state": "failed",
            "reason": REASON,
            "lines": {str(setup["line"].pk): {"units": 2, "amount": "580.00"}},
        }
        assert verbs_since(return_request, "refund_voided") == ["refund_voided", "return_settling"]

        # When the return is settled again, the full amount is granted anew and paid
        return_request = return_request_settle(return_request=return_request, actor=setup["supervisor"])

    # Then the money left once: one paid refund of 580.00 beside the voided one
    assert list(Refund.objects.order_by("pk").values_list("state", "amount")) == [
        (RefundState.VOIDED, Decimal("580.00")),
        (RefundState.PAID, Decimal("580.00")),
    ]
    first, second = RefundExecution.objects.order_by("pk")
    assert (first.state, second.state) == (ExecutionState.FAILED, ExecutionState.SUCCEEDED)
    assert endpoint.keys == [first.idempotency_key, second.idempotency_key]
    assert [call["json"]["amount"] for call in endpoint.calls] == ["580.00", "580.00"]
    assert return_request.status == ReturnStatus.COMPLETED
    assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 2


@pytest.mark.django_db
def test_a_manual_payout_voided_before_confirmation_is_never_paid_and_the_new_one_is():
    setup = settlement_setup()
    received = approved_return(setup, status=ReturnStatus.RECEIVED)
    return_request_settle(return_request=received, actor=setup["supervisor"])
    first = RefundExecution.objects.get()

    refund_void(refund=first.refund, actor=setup["supervisor"], reason=REASON)

    # The voided one can no longer be confirmed nor paid
    with pytest.raises(Conflict) as confirmed:
        refund_confirm_manual(execution=first, actor=setup["supervisor"], reference="TMALL-1")
    assert confirmed.value.code == "refund_voided"
    with pytest.raises(Conflict) as executed:
        refund_execute(refund=first.refund)
    assert executed.value.code == "refund_voided"
    # The new refund takes the same units and amount, and its payout completes the return
    return_request_settle(return_request=received, actor=setup["supervisor"])
    second = RefundExecution.objects.exclude(pk=first.pk).get()
    refund_confirm_manual(execution=second, actor=setup["supervisor"], reference="TMALL-2")

    assert list(Refund.objects.order_by("pk").values_list("state", flat=True)) == ["voided", "paid"]
    first.refresh_from_db()
    assert (first.state, first.provider_reference) == (ExecutionState.PENDING, "")
    assert ReturnRequest.objects.get(pk=received.pk).status == ReturnStatus.COMPLETED
    assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 2


@pytest.mark.django_db
def test_voiding_a_partial_refund_frees_its_units_and_amount_under_the_paid_cap():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(
        return_request=return_request,
        actor=setup["supervisor"],
        lines=[(setup["line"], 1, Decimal("290.00"))],
    )
    refund_void(refund=refund, actor=setup["supervisor"], reason=REASON)

    # The whole 580.00 paid for the line can be granted again (290.00 of it was voided)
    again = refund_grant(
        return_request=return_request,
        actor=setup["supervisor"],
        lines=[(setup["line"], 2, Decimal("580.00"))],
    )

    assert again.amount == Decimal("580.00")
    assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 2


@pytest.mark.django_db
def test_a_paid_refund_cannot_be_voided_and_nothing_changes():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    return_request_settle(return_request=return_request, actor=setup["supervisor"])
    execution = RefundExecution.objects.get()
    refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="TMALL-RF-1")
    before = snapshot(return_request)

    with pytest.raises(Conflict) as refused:
        refund_void(refund=execution.refund, actor=setup["supervisor"], reason=REASON)

    assert refused.value.code == "refund_paid"
    assert snapshot(return_request) == before
    assert before[0] == [(RefundState.PAID, None)]


@pytest.mark.django_db
def test_store_credit_is_paid_when_granted_and_cannot_be_voided():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED, resolution="store_credit")
    return_request_settle(return_request=return_request, actor=setup["supervisor"])
    before = snapshot(return_request)

    with pytest.raises(Conflict) as refused:
        refund_void(refund=Refund.objects.get(), actor=setup["supervisor"], reason=REASON)

    assert refused.value.code == "refund_paid"
    assert snapshot(return_request) == before


@pytest.mark.django_db(transaction=True)
def test_a_refund_whose_payment_call_is_in_flight_cannot_be_voided_and_nothing_changes():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    answer = threading.Event()  # the endpoint answers once the void has been tried
    with RefundEndpoint([(200, {"reference": "RF-SLOW"}, answer)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url)

        def pay():
            try:
                refund_execute(refund=refund)
            finally:
                connection.close()

        worker = threading.Thread(target=pay)
        worker.start()
        # When the call has reached the endpoint and is waiting for its answer
        deadline = time.monotonic() + 10
        while not endpoint.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        before = snapshot(return_request)
        with pytest.raises(Conflict) as refused:
            refund_void(refund=refund, actor=setup["supervisor"], reason=REASON)
        after = snapshot(return_request)
        answer.set()
        worker.join(timeout=30)

    # Then the void was refused and changed nothing; the call went on to pay the refund
    assert refused.value.code == "payment_in_flight"
    assert after == before
    assert before[0] == [(RefundState.GRANTED, None)]
    assert Refund.objects.get().state == RefundState.PAID
    assert len(endpoint.calls) == 1


@pytest.mark.django_db
def test_a_call_whose_answer_never_came_cannot_be_voided():
    # Given a worker that died mid-call: its lease has run out, the provider may have paid
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    RefundExecution.objects.create(
        merchant=setup["merchant"],
        refund=refund,
        adapter="http",
        idempotency_key="died-mid-call",
        attempts=1,
        state=ExecutionState.PENDING,
    )
    before = snapshot(return_request)

    with pytest.raises(Conflict) as refused:
        refund_void(refund=refund, actor=setup["supervisor"], reason=REASON)

    assert refused.value.code == "payment_in_flight"
    assert snapshot(return_request) == before


@pytest.mark.django_db
def test_an_agent_cannot_void_and_nothing_changes():
    setup = settlement_setup()
    agent = MembershipFactory(merchant=setup["merchant"], role=Membership.Role.AGENT).user
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    before = snapshot(return_request)

    with pytest.raises(PermissionRefused) as refused:
        refund_void(refund=refund, actor=agent, reason=REASON)

    assert refused.value.code == "supervisor_required"
    assert snapshot(return_request) == before


@pytest.mark.django_db
def test_another_merchants_supervisor_cannot_void_and_nothing_changes():
    setup, other = settlement_setup(), settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    before = snapshot(return_request)

    with pytest.raises(PermissionRefused):
        refund_void(refund=refund, actor=other["supervisor"], reason=REASON)

    assert snapshot(return_request) == before


@pytest.mark.django_db
def test_a_void_needs_a_reason_and_a_second_void_changes_nothing():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    before = snapshot(return_request)

    with pytest.raises(InvalidInput) as refused:
        refund_void(refund=refund, actor=setup["supervisor"], reason="   ")
    assert refused.value.code == "reason_required"
    assert snapshot(return_request) == before

    refund_void(refund=refund, actor=setup["supervisor"], reason=REASON)
    once = snapshot(return_request)
    again = refund_void(refund=refund, actor=setup["supervisor"], reason="Another reason")

    assert snapshot(return_request) == once
    assert (again.state, again.void_reason) == (RefundState.VOIDED, REASON)
    assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 0


# --- the dashboard --------------------------------------------------------------------------------


def _page(number):
    return reverse("dashboard:return", kwargs={"number": number})


def _void_url(number, refund):
    return reverse("dashboard:refund_void", kwargs={"number": number, "refund_id": refund.pk})


@pytest.mark.django_db
def test_a_supervisor_voids_from_the_refund_ledger(client):
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    return_request_settle(return_request=return_request, actor=setup["supervisor"])
    refund = Refund.objects.get()
    number = return_request.ticket.number
    client.force_login(setup["supervisor"])

    page = client.get(_page(number)).content.decode()
    assert f'action="{_void_url(number, refund)}"' in page
    assert "Void this refund" in page

    response = client.post(_void_url(number, refund), {"reason": REASON}, follow=True)

    assert response.status_code == 200
    assert "Refund voided: its units and amount can be settled again." in response.content.decode()
    refund.refresh_from_db()
    assert (refund.state, refund.void_reason) == (RefundState.VOIDED, REASON)
    body = response.content.decode()
    assert REASON in body
    assert f'action="{_void_url(number, refund)}"' not in body
    assert "Confirm the payout" not in body  # the voided refund's payout is not confirmed any more


@pytest.mark.django_db
def test_the_dashboard_asks_for_a_reason(client):
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    client.force_login(setup["supervisor"])

    response = client.post(_void_url(return_request.ticket.number, refund), {"reason": ""})

    assert response.status_code == 400
    assert "Say why the refund is voided." in response.content.decode()
    assert Refund.objects.get().state == RefundState.GRANTED


@pytest.mark.django_db
def test_an_agent_sees_no_void_button_and_is_refused(client):
    setup = settlement_setup()
    agent = MembershipFactory(merchant=setup["merchant"], role=Membership.Role.AGENT).user
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    number = return_request.ticket.number
    client.force_login(agent)
    before = snapshot(return_request)

    page = client.get(_page(number)).content.decode()
    response = client.post(_void_url(number, refund), {"reason": REASON}, follow=True)

    assert "Void this refund" not in page
    assert "Only a supervisor can void a refund." in response.content.decode()
    assert snapshot(return_request) == before


@pytest.mark.django_db
def test_another_merchants_supervisor_gets_404_on_the_dashboard(client):
    setup, other = settlement_setup(), settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    client.force_login(other["supervisor"])
    before = snapshot(return_request)

    response = client.post(_void_url(return_request.ticket.number, refund), {"reason": REASON})

    assert response.status_code == 404
    assert snapshot(return_request) == before


@pytest.mark.django_db
def test_a_refund_of_another_return_gets_404_on_the_dashboard(client):
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED, quantity=1)
    other_return = approved_return(setup, status=ReturnStatus.RECEIVED, quantity=1)
    refund = refund_grant(return_request=other_return, actor=setup["supervisor"])
    client.force_login(setup["supervisor"])

    response = client.post(_void_url(return_request.ticket.number, refund), {"reason": REASON})

    assert response.status_code == 404
    assert Refund.objects.get().state == RefundState.GRANTED


# --- the API --------------------------------------------------------------------------------------


def _api_url(return_request, refund):
    return reverse("api:return-refund-void", kwargs={"number": return_request.ticket.number, "refund_id": refund.pk})


@pytest.mark.django_db
def test_a_supervisor_voids_through_the_api_and_reads_the_return():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    api = APIClient()
    api.force_login(setup["supervisor"])

    response = api.post(_api_url(return_request, refund), {"reason": REASON}, format="json")

    assert response.status_code == 200, response.json()
    [shown] = response.json()["refunds"]
    assert (shown["id"], shown["state"], shown["void_reason"]) == (refund.pk, "voided", REASON)
    assert shown["voided_at"] is not None
    assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 0


@pytest.mark.django_db
def test_the_api_refuses_a_paid_refund_with_409_and_an_agent_key_with_403():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    return_request_settle(return_request=return_request, actor=setup["supervisor"])
    execution = RefundExecution.objects.get()
    refund_confirm_manual(execution=execution, actor=setup["supervisor"], reference="TMALL-1")
    supervisor = APIClient()
    supervisor.force_login(setup["supervisor"])
    _key, full_key = api_key_for(setup["merchant"])
    integration = APIClient()
    integration.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    before = snapshot(return_request)

    paid = supervisor.post(_api_url(return_request, execution.refund), {"reason": REASON}, format="json")
    as_agent = integration.post(_api_url(return_request, execution.refund), {"reason": REASON}, format="json")

    assert (paid.status_code, paid.json()["error"]["code"]) == (409, "refund_paid")
    assert (as_agent.status_code, as_agent.json()["error"]["code"]) == (403, "supervisor_required")
    assert snapshot(return_request) == before


@pytest.mark.django_db
def test_another_merchants_key_gets_404_and_nothing_changes():
    setup, other = settlement_setup(), settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    _key, full_key = api_key_for(other["merchant"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    before = snapshot(return_request)

    response = api.post(_api_url(return_request, refund), {"reason": REASON}, format="json")

    assert response.status_code == 404
    assert snapshot(return_request) == before


@pytest.mark.django_db
def test_the_api_needs_a_reason():
    setup = settlement_setup()
    return_request = approved_return(setup, status=ReturnStatus.RECEIVED)
    refund = refund_grant(return_request=return_request, actor=setup["supervisor"])
    api = APIClient()
    api.force_login(setup["supervisor"])

    response = api.post(_api_url(return_request, refund), {}, format="json")

    assert response.status_code == 400
    assert Refund.objects.get().state == RefundState.GRANTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "body", "held"),
    [
        (502, {"error": {"message": "bad gateway"}}, False),  # a server error: it may have paid first
        (200, {"reference": "RF-LATE"}, True),  # the answer came too late: it may have paid
    ],
    ids=["server-error", "timeout"],
)
def test_a_failed_call_that_may_have_reached_the_provider_cannot_be_voided_and_nothing_changes(status, body, held):
    setup = settlement_setup()
    received = approved_return(setup, status=ReturnStatus.RECEIVED)
    late = threading.Event()  # a held answer comes only after the client has given up
    with RefundEndpoint([(status, body, late if held else 0)]) as endpoint:
        http_gateway(setup["merchant"], endpoint.url, timeout_seconds=1)
        return_request = return_request_settle(return_request=received, actor=setup["supervisor"])
        late.set()
        refund = Refund.objects.get()
        assert refund.state == RefundState.FAILED
        before = snapshot(return_request)

        with pytest.raises(Conflict) as refused:
            refund_void(refund=refund, actor=setup["supervisor"], reason=REASON)

    assert refused.value.code == "payment_outcome_unknown"
    assert snapshot(return_request) == before
    assert Refund.objects.get().is_voidable is False


@pytest.mark.django_db
def test_a_call_refused_before_it_was_sent_may_be_voided():
    # Given an endpoint nobody listens on: the connection is refused, nothing reached a provider
    setup = settlement_setup()
    received = approved_return(setup, status=ReturnStatus.RECEIVED)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http_gateway(setup["merchant"], f"http://127.0.0.1:{port}/refunds")
    return_request_settle(return_request=received, actor=setup["supervisor"])
    refund = Refund.objects.get()
    assert RefundExecution.objects.get().response_summary == {"status": None, "sent": False}

    voided = refund_void(refund=refund, actor=setup["supervisor"], reason=REASON)

    assert voided.state == RefundState.VOIDED
    assert OrderLine.objects.get(pk=setup["line"].pk).quantity_refunded == 0
