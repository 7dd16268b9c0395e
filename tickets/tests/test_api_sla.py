"""SLA state in the API: each ticket's clocks, and the merchant's policies."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.tests.factories import MerchantFactory, api_key_for
from tickets.models import SlaPolicy, TicketStatus
from tickets.services import ticket_change_status

pytestmark = pytest.mark.django_db

MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _client(merchant) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")
    return client


@pytest.fixture
def policy(merchant):
    return SlaPolicy.objects.create(
        merchant=merchant, name="Standard", position=1, first_response_minutes=60, resolution_minutes=240
    )


def test_a_ticket_shows_its_clocks_with_their_pauses(merchant, policy, make_ticket, agent):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = make_ticket()
    with time_machine.travel(MONDAY_10 + timedelta(minutes=30), tick=False):
        ticket_change_status(ticket=ticket, actor=agent, status=TicketStatus.WAITING_THIRD_PARTY)

    response = _client(merchant).get(reverse("api:ticket-detail", kwargs={"number": ticket.number}))

    assert response.status_code == 200
    body = response.json()
    assert (body["sla_policy"], body["next_deadline_at"]) == (policy.pk, None)
    clocks = {clock["kind"]: clock for clock in body["deadlines"]}
    assert set(clocks) == {"sla.first_response", "sla.resolution"}
    resolution = clocks["sla.resolution"]
    assert (resolution["state"], resolution["target_minutes"], resolution["remaining_seconds"]) == (
        "paused",
        240,
        210 * 60,
    )
    assert resolution["pauses"] == [
        {"paused_at": "2026-11-23T02:30:00Z", "resumed_at": None, "reason": "waiting_third_party"}
    ]


def test_the_list_carries_the_next_deadline(merchant, policy, make_ticket):
    with time_machine.travel(MONDAY_10, tick=False):
        make_ticket()

    rows = _client(merchant).get(reverse("api:ticket-list")).json()["results"]

    assert [row["next_deadline_at"] for row in rows] == ["2026-11-23T03:00:00Z"]


def test_policies_are_listed_in_the_order_they_are_tried(merchant, policy):
    SlaPolicy.objects.create(merchant=merchant, name="VIP", position=0, match_customer_tiers=["vip"])
    SlaPolicy.objects.create(merchant=MerchantFactory(), name="Someone else's", position=0)

    response = _client(merchant).get(reverse("api:sla-policy-list"))

    assert response.status_code == 200
    assert [(row["name"], row["position"]) for row in response.json()["results"]] == [("VIP", 0), ("Standard", 1)]
    assert response.json()["results"][1]["first_response_minutes"] == 60


def test_another_merchants_key_sees_no_policies_and_no_clocks(merchant, policy, make_ticket):
    ticket = make_ticket()
    outsider = _client(MerchantFactory())

    assert outsider.get(reverse("api:sla-policy-list")).json()["results"] == []
    assert outsider.get(reverse("api:ticket-detail", kwargs={"number": ticket.number})).status_code == 404
