"""A complaint's staff actions through the API, one endpoint each as on the dashboard: the third
party's answer, each step of a compensation (refund kinds included), the regulator record with its
clocks; refusals change nothing, and another merchant's complaint is a 404 for every one of them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aftersales.models import Deadline, Membership, Order
from aftersales.tests.factories import MembershipFactory, OrderFactory, OrderLineFactory, api_key_for
from tickets.models import (
    Compensation,
    CompensationStatus,
    Complaint,
    RegulatorCase,
    TicketChannel,
    TicketEvent,
    TicketKind,
)
from tickets.services import compensation_answer, compensation_propose, regulator_case_record, ticket_create

pytestmark = pytest.mark.django_db


def _complaint(order):
    return ticket_create(
        merchant=order.merchant,
        kind=TicketKind.COMPLAINT,
        subject="Broken on arrival",
        body="And the courier was rude.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
    )


@pytest.fixture
def complaint(order):
    return _complaint(order)


@pytest.fixture
def api(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")
    return client


@pytest.fixture
def staff_api(agent):
    client = APIClient()
    client.force_login(agent)
    return client


@pytest.fixture
def theirs():
    order = OrderFactory()
    OrderLineFactory(order=order)
    return _complaint(order)


def test_the_third_partys_answer_is_recorded_through_the_api(api, complaint):
    api.post(
        reverse("api:complaint-responsibility", args=[complaint.number]),
        {"party": "carrier", "evidence": "Tracking shows the box dropped.", "third_party_name": "ZTO"},
    )

    response = api.post(
        reverse("api:complaint-third-party-answer", args=[complaint.number]), {"answer": "We pay the damage."}
    )

    assert response.status_code == 200
    assert response.json()["third_party_answer"] == "We pay the damage."
    assert Complaint.objects.get(ticket=complaint).third_party_answered_at is not None


def test_a_refund_compensation_goes_through_its_steps_one_endpoint_each(staff_api, supervisor, complaint, order):
    proposed = staff_api.post(
        reverse("api:complaint-compensations", args=[complaint.number]),
        {"kind": "partial_refund", "amount": "120.00", "note": "Scratched lid"},
    )
    pk = proposed.json()["compensations"][0]["id"]
    refused = staff_api.post(reverse("api:complaint-compensation-approve", args=[complaint.number, pk]))
    staff_api.force_login(supervisor)
    approved = staff_api.post(reverse("api:complaint-compensation-approve", args=[complaint.number, pk]))
    answered = staff_api.post(
        reverse("api:complaint-compensation-answer", args=[complaint.number, pk]), {"accepted": True}, format="json"
    )
    paid = staff_api.post(reverse("api:complaint-compensation-pay", args=[complaint.number, pk]))

    assert proposed.status_code == 200
    assert proposed.json()["compensations"][0]["status"] == "awaiting_approval"  # above the agent's 50
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "over_approval_limit")
    assert approved.json()["compensations"][0]["status"] == "offered"
    assert answered.json()["compensations"][0]["status"] == "accepted"
    assert paid.status_code == 200
    offer = paid.json()["compensations"][0]
    # Granted, not paid: the merchant's (manual) gateway has not paid the refund yet.
    assert (
        offer["kind"],
        offer["amount"],
        offer["status"],
        offer["payment_reference"],
        offer["paid_at"],
        offer["payment_error"],
    ) == ("partial_refund", "120.00", "granted", f"compensation-{pk}", None, "")
    assert offer["granted_at"] is not None


def test_a_refund_offer_above_the_orders_remainder_is_refused_through_the_api(api, complaint):
    Order.objects.filter(pk=complaint.order_id).update(shipping_amount=Decimal("10.00"))

    response = api.post(
        reverse("api:complaint-compensations", args=[complaint.number]), {"kind": "shipping_refund", "amount": "10.01"}
    )

    assert (response.status_code, response.json()["error"]["code"]) == (409, "amount_exceeds_refundable")
    assert Compensation.objects.count() == 0


def test_a_compensation_is_withdrawn_through_the_api(api, agent, complaint):
    compensation = compensation_propose(ticket=complaint, actor=agent, kind="coupon", amount="20")

    response = api.post(
        reverse("api:complaint-compensation-withdraw", args=[complaint.number, compensation.pk]),
        {"reason": "Customer resolved it"},
    )

    assert response.status_code == 200
    assert Compensation.objects.get(pk=compensation.pk).status == CompensationStatus.WITHDRAWN


def test_a_regulator_complaint_is_recorded_accepted_and_answered_through_the_api(api, complaint):
    today = timezone.localdate()
    recorded = api.post(
        reverse("api:complaint-regulator-cases", args=[complaint.number]),
        {
            "channel": "12315",
            "reference": "12315-2026-0001",
            "received_on": (today - timedelta(days=2)).isoformat(),
            "answer_due_on": (today + timedelta(days=10)).isoformat(),
        },
    )
    case = RegulatorCase.objects.get(complaint__ticket=complaint)
    duplicate = api.post(
        reverse("api:complaint-regulator-cases", args=[complaint.number]),
        {
            "channel": "12315",
            "reference": "12315-2026-0001",
            "received_on": today.isoformat(),
            "answer_due_on": today.isoformat(),
        },
    )
    accepted = api.post(
        reverse("api:complaint-regulator-case-accept", args=[complaint.number, case.pk]),
        {"accepted_on": today.isoformat()},
    )
    answered = api.post(
        reverse("api:complaint-regulator-case-answer", args=[complaint.number, case.pk]),
        {"outcome": "Refunded in full; the customer withdrew."},
    )

    assert recorded.status_code == 200
    shown = recorded.json()["regulator_cases"][0]
    assert (shown["channel"], shown["reference"], shown["acceptance_due_at"] is not None) == (
        "12315",
        "12315-2026-0001",
        True,
    )
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "regulator_reference_exists")
    assert RegulatorCase.objects.filter(complaint__ticket=complaint).count() == 1
    assert accepted.json()["regulator_cases"][0]["accepted_on"] == today.isoformat()
    assert answered.json()["regulator_cases"][0]["outcome"] == "Refunded in full; the customer withdrew."
    assert Deadline.objects.filter(ticket=complaint, kind="complaint.regulator_mediation").count() == 1
    assert Deadline.objects.get(ticket=complaint, kind="complaint.regulator_answer").state == Deadline.State.MET


def test_the_schema_names_the_complaint_enums(api):
    schema = api.get(reverse("api-schema"), {"format": "json"}).json()

    names = set(schema["components"]["schemas"])
    assert {
        "ComplaintSeverityEnum",
        "ComplaintCategoryEnum",
        "CompensationKindEnum",
        "CompensationStatusEnum",
        "ResponsiblePartyEnum",
        "RegulatorChannelEnum",
    } <= names
    assert "/api/v1/tickets/{number}/complaint/regulator-cases/{id}/accept/" in schema["paths"]


@pytest.mark.parametrize(
    ("name", "body", "needs_pk"),
    [
        ("api:complaint-third-party-answer", {"answer": "x"}, False),
        (
            "api:complaint-regulator-cases",
            {"channel": "12315", "reference": "R", "received_on": "2026-01-01", "answer_due_on": "2026-01-02"},
            False,
        ),
        ("api:complaint-compensation-approve", {}, "compensation"),
        ("api:complaint-compensation-answer", {"accepted": True}, "compensation"),
        ("api:complaint-compensation-pay", {}, "compensation"),
        ("api:complaint-compensation-withdraw", {}, "compensation"),
        ("api:complaint-regulator-case-accept", {"accepted_on": "2026-01-02"}, "case"),
        ("api:complaint-regulator-case-answer", {"outcome": "x"}, "case"),
    ],
)
def test_another_merchant_cannot_act_on_our_complaint(api, theirs, name, body, needs_pk):
    their_agent = MembershipFactory(merchant=theirs.merchant, role=Membership.Role.SUPERVISOR).user
    compensation = compensation_propose(ticket=theirs, actor=their_agent, kind="coupon", amount="10")
    compensation_answer(compensation=compensation, customer=theirs.customer, accept=True)
    today = timezone.localdate()
    case = regulator_case_record(
        ticket=theirs,
        actor=their_agent,
        channel="12315",
        reference="THEIRS-1",
        received_on=today,
        answer_due_on=today,
    )
    events = TicketEvent.objects.filter(ticket=theirs).count()
    args = [theirs.number] + ([compensation.pk] if needs_pk == "compensation" else [case.pk] if needs_pk else [])

    response = api.post(reverse(name, args=args), body, format="json")

    assert response.status_code == 404
    assert TicketEvent.objects.filter(ticket=theirs).count() == events
    assert Compensation.objects.get(pk=compensation.pk).status == CompensationStatus.ACCEPTED
    assert RegulatorCase.objects.get(pk=case.pk).accepted_on is None
    assert Complaint.objects.get(ticket=theirs).third_party_answer == ""
