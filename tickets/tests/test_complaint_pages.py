"""The complaint box on the ticket page and its actions, the portal's escalation and compensation
answer, and the complaint-rate report; another merchant's complaint is never reachable."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.models import Membership
from aftersales.tests.builders import sign_in
from aftersales.tests.factories import MembershipFactory, OrderFactory, StoreFactory, api_key_for
from tickets.models import (
    Compensation,
    CompensationSettings,
    CompensationStatus,
    Complaint,
    ComplaintEscalation,
    RegulatorCase,
    TicketChannel,
    TicketKind,
)
from tickets.services import compensation_propose, ticket_create

pytestmark = pytest.mark.django_db


def complaint_on(order, subject="Late and rude courier"):
    return ticket_create(
        merchant=order.merchant,
        kind=TicketKind.COMPLAINT,
        subject=subject,
        body="Three days late and the courier shouted.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
    )


@pytest.fixture
def complaint(order):
    return complaint_on(order)


@pytest.fixture
def limits(merchant):
    return CompensationSettings.objects.create(
        merchant=merchant, agent_limit=Decimal(50), supervisor_limit=Decimal(500)
    )


def test_the_ticket_page_shows_the_complaint_box_only_on_complaints(client, agent, complaint, make_ticket):
    support = make_ticket(kind=TicketKind.SUPPORT)
    client.force_login(agent)

    on_complaint = client.get(reverse("dashboard:ticket", args=[complaint.number])).content.decode()
    on_support = client.get(reverse("dashboard:ticket", args=[support.number])).content.decode()

    assert 'id="complaint"' in on_complaint
    assert reverse("dashboard:complaint_classify", args=[complaint.number]) in on_complaint
    assert 'id="complaint"' not in on_support


def test_an_agent_classifies_and_records_responsibility_from_the_ticket_page(client, agent, complaint):
    client.force_login(agent)

    client.post(
        reverse("dashboard:complaint_classify", args=[complaint.number]),
        {"severity": "serious", "category": "delivery"},
    )
    response = client.post(
        reverse("dashboard:complaint_responsibility", args=[complaint.number]),
        {"party": "carrier", "third_party_name": "ZTO", "evidence": "Tracking shows three days in the depot."},
    )

    assert response.status_code == 302
    saved = Complaint.objects.get(ticket=complaint)
    assert (saved.severity, saved.category, saved.responsible_party, saved.third_party_name) == (
        "serious",
        "delivery",
        "carrier",
        "ZTO",
    )


def test_bad_input_on_the_ticket_page_is_a_message_not_an_error(client, agent, complaint):
    client.force_login(agent)

    response = client.post(
        reverse("dashboard:complaint_classify", args=[complaint.number]), {"severity": "apocalyptic"}, follow=True
    )

    assert response.status_code == 200
    assert Complaint.objects.count() == 0
    assert len(list(response.context["messages"])) >= 1


def test_an_agent_cannot_approve_above_the_limit_on_the_page_and_a_supervisor_can(
    client, agent, supervisor, complaint, limits
):
    client.force_login(agent)
    client.post(
        reverse("dashboard:compensation_propose", args=[complaint.number]),
        {"kind": "store_credit", "amount": "120.00", "note": ""},
    )
    offer = Compensation.objects.get()
    act = reverse("dashboard:compensation_act", args=[complaint.number, offer.pk])

    refused = client.post(act, {"action": "approve"}, follow=True)
    assert Compensation.objects.get().status == CompensationStatus.AWAITING_APPROVAL
    assert "above what your role may approve" in refused.content.decode()

    client.force_login(supervisor)
    client.post(act, {"action": "approve"})
    assert Compensation.objects.get().status == CompensationStatus.OFFERED


def test_a_supervisor_works_a_complaint_to_its_close_out_from_the_ticket_page(client, supervisor, complaint):
    # Given a complaint a carrier is responsible for
    client.force_login(supervisor)
    client.post(
        reverse("dashboard:complaint_responsibility", args=[complaint.number]),
        {"party": "carrier", "third_party_name": "ZTO", "evidence": "Three days in the depot."},
    )

    # When the supervisor records the carrier's answer, escalates, records a 12315 case, its
    # acceptance and our answer, then closes the complaint out, each from the ticket page
    posts = [
        ("dashboard:complaint_third_party_answer", [complaint.number], {"answer": "The depot was flooded."}),
        ("dashboard:complaint_escalate", [complaint.number], {"reason": "The customer called twice."}),
        (
            "dashboard:regulator_case_record",
            [complaint.number],
            {
                "channel": "12315",
                "reference": "SH-2026-0042",
                "received_on": "2026-12-01",
                "answer_due_on": "2026-12-10",
            },
        ),
    ]
    answers = [client.post(reverse(name, args=args), data) for name, args, data in posts]
    case = RegulatorCase.objects.get()
    for name, data in (
        ("dashboard:regulator_case_accept", {"accepted_on": "2026-12-02"}),
        ("dashboard:regulator_case_answer", {"outcome": "Refunded the delivery fee."}),
    ):
        answers.append(client.post(reverse(name, args=[complaint.number, case.pk]), data))
    answers.append(
        client.post(
            reverse("dashboard:complaint_close_out", args=[complaint.number]),
            {"root_cause": "Depot flood.", "corrective_action": "Second carrier for the region."},
            follow=True,
        )
    )

    # Then each went back to the complaint box with its success, and the complaint holds all of it
    assert [answer.status_code for answer in answers[:-1]] == [302] * 5
    assert {answer["Location"] for answer in answers[:-1]} == {
        reverse("dashboard:ticket", args=[complaint.number]) + "#complaint"
    }
    assert [str(message) for message in answers[-1].context["messages"]] == [
        "Responsibility is recorded.",
        "The third party's answer is recorded.",
        "The complaint is escalated.",
        "The regulator complaint is recorded, with its deadlines.",
        "The acceptance is recorded; the mediation clock runs.",
        "The answer to the regulator is recorded.",
        "The complaint is closed out and the case resolved.",
    ]
    saved = Complaint.objects.get(ticket=complaint)
    assert (saved.third_party_answer, saved.tier, saved.root_cause, saved.corrective_action) == (
        "The depot was flooded.",
        1,
        "Depot flood.",
        "Second carrier for the region.",
    )
    assert saved.closed_out_at is not None
    case.refresh_from_db()
    assert (case.channel, case.reference, str(case.accepted_on), case.outcome) == (
        "12315",
        "SH-2026-0042",
        "2026-12-02",
        "Refunded the delivery fee.",
    )


def test_a_regulator_case_of_another_complaint_is_not_reachable_through_this_one(client, supervisor, order):
    ours, other = complaint_on(order), complaint_on(order, subject="Wrong colour")
    client.force_login(supervisor)
    client.post(
        reverse("dashboard:regulator_case_record", args=[other.number]),
        {"channel": "12315", "reference": "SH-1", "received_on": "2026-12-01", "answer_due_on": "2026-12-10"},
    )
    case = RegulatorCase.objects.get()

    # When the case's id is posted under the other complaint's number
    refused = client.post(
        reverse("dashboard:regulator_case_accept", args=[ours.number, case.pk]), {"accepted_on": "2026-12-02"}
    )

    # Then it is not found, and the case is as it was
    assert refused.status_code == 404
    case.refresh_from_db()
    assert case.accepted_on is None


def test_another_merchants_complaint_and_offers_are_not_reachable(client, agent, complaint, limits):
    theirs_order = OrderFactory()
    complaint_on(theirs_order)  # numbers are per merchant: theirs is CP-000002, ours CP-000001
    theirs = complaint_on(theirs_order)
    their_agent = MembershipFactory(merchant=theirs_order.merchant, role=Membership.Role.AGENT).user
    their_offer = compensation_propose(ticket=theirs, actor=their_agent, kind="coupon", amount="10")
    client.force_login(agent)

    classify = client.post(
        reverse("dashboard:complaint_classify", args=[theirs.number]), {"severity": "serious", "category": "delivery"}
    )
    # Our ticket's number with their offer's id: still not theirs to touch.
    act = client.post(
        reverse("dashboard:compensation_act", args=[complaint.number, their_offer.pk]), {"action": "withdraw"}
    )

    assert (classify.status_code, act.status_code) == (404, 404)
    assert Complaint.objects.get(ticket=theirs).severity == "normal"
    assert Compensation.objects.get(pk=their_offer.pk).status == CompensationStatus.OFFERED


def test_the_customer_asks_for_escalation_once_per_level_in_the_portal(
    client, django_capture_on_commit_callbacks, order, complaint
):
    sign_in(client, django_capture_on_commit_callbacks, order)
    url = reverse("portal:complaint_escalate", args=[order.merchant.slug, complaint.number])
    page = client.get(reverse("portal:ticket", args=[order.merchant.slug, complaint.number])).content.decode()
    assert url in page

    client.post(url, {"tier": 0, "reason": "No answer for a week"})
    replay = client.post(url, {"tier": 0, "reason": "No answer for a week"}, follow=True)

    assert Complaint.objects.get(ticket=complaint).tier == 1
    assert ComplaintEscalation.objects.count() == 1
    assert replay.status_code == 200


def test_the_customer_accepts_an_offer_in_the_portal(
    client, django_capture_on_commit_callbacks, order, complaint, agent, limits
):
    offer = compensation_propose(ticket=complaint, actor=agent, kind="coupon", amount="20")
    sign_in(client, django_capture_on_commit_callbacks, order)

    client.post(
        reverse("portal:compensation_answer", args=[order.merchant.slug, complaint.number, offer.pk]),
        {"answer": "accept"},
    )

    assert Compensation.objects.get(pk=offer.pk).status == CompensationStatus.ACCEPTED


def test_a_visitor_without_the_order_cannot_escalate(client, order, complaint):
    response = client.post(
        reverse("portal:complaint_escalate", args=[order.merchant.slug, complaint.number]), {"tier": 0}
    )

    assert response.status_code == 302  # to the order lookup
    assert Complaint.objects.filter(ticket=complaint).count() == 0


def test_the_report_gives_complaints_per_thousand_orders_by_store_and_category(client, merchant, supervisor, agent):
    store = StoreFactory(merchant=merchant, name="Tmall flagship")
    orders = [OrderFactory(merchant=merchant, store=store) for _ in range(8)]
    for order in orders[:2]:
        ticket = complaint_on(order)
        client.force_login(agent)
        client.post(
            reverse("dashboard:complaint_classify", args=[ticket.number]),
            {"severity": "normal", "category": "delivery"},
        )
    complaint_on(orders[2])
    client.force_login(supervisor)

    response = client.get(reverse("dashboard:complaint_report"))

    rows = {
        (r.store_name, r.category): (r.complaints, r.orders, r.per_thousand_orders) for r in response.context["rows"]
    }
    assert rows[("Tmall flagship", "delivery")] == (2, 8, Decimal("250.00"))
    assert rows[("Tmall flagship", "")] == (1, 8, Decimal("125.00"))
    totals = {r.store_name: r.per_thousand_orders for r in response.context["totals"]}
    assert totals["Tmall flagship"] == Decimal("375.00")


def test_agents_do_not_see_the_report(client, agent):
    client.force_login(agent)

    assert client.get(reverse("dashboard:complaint_report")).status_code == 403


# --- API ------------------------------------------------------------------------------------------


@pytest.fixture
def api(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")
    return client


def test_the_api_reads_and_sets_a_complaints_fields(api, complaint):
    before = api.get(reverse("api:complaint-detail", args=[complaint.number]))
    classified = api.post(
        reverse("api:complaint-classify", args=[complaint.number]), {"severity": "critical", "category": "privacy"}
    )
    refused = api.post(
        reverse("api:complaint-responsibility", args=[complaint.number]), {"party": "nobody", "evidence": "x"}
    )

    assert before.status_code == 200
    assert (before.json()["severity"], before.json()["compensations"]) == ("normal", [])
    assert (classified.json()["severity"], classified.json()["category"]) == ("critical", "privacy")
    assert refused.status_code == 400
    assert Complaint.objects.get(ticket=complaint).responsible_party == ""


def test_the_api_never_shows_another_merchants_complaint(api, order):
    theirs_order = OrderFactory()
    complaint_on(theirs_order)
    theirs = complaint_on(theirs_order)

    assert api.get(reverse("api:complaint-detail", args=[theirs.number])).status_code == 404
    response = api.post(
        reverse("api:complaint-classify", args=[theirs.number]), {"severity": "critical", "category": "privacy"}
    )
    assert response.status_code == 404
    assert Complaint.objects.filter(ticket=theirs).count() == 0
