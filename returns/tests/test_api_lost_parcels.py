"""The API of lost parcels: declare a return's parcel lost, list the carrier claims by cursor, and
settle, reject or withdraw one. Refusals come back as the service raised them; another merchant's
key sees nothing and gets 404s."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.models import Membership, OrderLine
from aftersales.tests.factories import MembershipFactory
from returns.models import CarrierClaim, Refund, ReturnRequest, ReturnShipment, ReturnStatus
from returns.services import carrier_claim_reject
from returns.tests.builders import api_client, drive, in_transit, lost_claim, make_world, submit
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def lost_url(return_request: ReturnRequest) -> str:
    return reverse("api:return-lost", kwargs={"number": return_request.ticket.number})


def claim_url(action: str, claim: CarrierClaim) -> str:
    return reverse(f"api:carrier-claim-{action}", kwargs={"claim_id": claim.pk})


LIST_URL = "/api/v1/carrier-claims/"


def snapshot(return_request: ReturnRequest) -> tuple:
    fresh = ReturnRequest.objects.get(pk=return_request.pk)
    return (
        fresh.status,
        TicketEvent.objects.filter(ticket_id=fresh.ticket_id).count(),
        Refund.objects.filter(return_request=fresh).count(),
        list(
            OrderLine.objects.filter(order_id=fresh.order_id)
            .order_by("pk")
            .values_list("quantity_received", "quantity_accepted")
        ),
        list(ReturnShipment.objects.filter(return_request=fresh).values_list("lost_at", "received_at")),
        list(
            CarrierClaim.objects.filter(return_request=fresh)
            .order_by("pk")
            .values_list("state", "amount_recovered", "carrier_reference", "decision_note")
        ),
    )


# --- declaring lost -----------------------------------------------------------------------------------


def test_declaring_a_parcel_lost_answers_with_the_return_settling_and_its_claim(django_capture_on_commit_callbacks):
    world = make_world()
    return_request = in_transit(world)
    client = api_client(world.merchant)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(lost_url(return_request), {"note": "Carrier confirmed loss"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "settling"
    assert [line["quantity_accepted"] for line in body["lines"]] == [2, 1]
    assert body["shipments"][0]["lost_at"] is not None
    [claim] = body["carrier_claims"]
    assert {key: claim[key] for key in ("state", "amount_claimed", "amount_recovered", "currency", "notes")} == {
        "state": "open",
        "amount_claimed": "300.00",
        "amount_recovered": "0.00",
        "currency": "CNY",
        "notes": "Carrier confirmed loss",
    }
    assert (claim["return_number"], claim["tracking_number"]) == (
        return_request.ticket.number,
        f"SF{return_request.pk:010d}",
    )
    # The API key acts as its integration user, an agent; the settlement followed the commit.
    assert CarrierClaim.objects.get().opened_by.username.startswith("api-")
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("300.00")]


def test_declaring_lost_a_return_not_in_transit_is_a_409_that_changes_nothing():
    world = make_world()
    return_request = drive(world, submit(world), ReturnStatus.RECEIVED)
    before = snapshot(return_request)

    response = api_client(world.merchant).post(lost_url(return_request), {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_in_transit"
    assert snapshot(return_request) == before


def test_a_technicians_session_cannot_reach_the_return_to_declare_it_lost(client):
    world = make_world()
    return_request = in_transit(world)
    client.force_login(MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user)
    before = snapshot(return_request)

    response = client.post(lost_url(return_request), {}, content_type="application/json")

    assert response.status_code == 404
    assert snapshot(return_request) == before


def test_a_warehouse_session_is_refused_with_a_403(client):
    world = make_world()
    return_request = in_transit(world)
    client.force_login(world.warehouse)
    before = snapshot(return_request)

    response = client.post(lost_url(return_request), {}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_cannot_claim"
    assert snapshot(return_request) == before


# --- the list -----------------------------------------------------------------------------------------


def test_the_claims_list_is_newest_first_filters_by_state_and_pages_by_cursor():
    world = make_world(quantities=(3,))
    first, second, third = (lost_claim(world, quantities=[1]) for _ in range(3))
    carrier_claim_reject(claim=second, actor=world.agent, reason="No.")
    client = api_client(world.merchant)

    def ids(**params):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [third.pk, second.pk, first.pk]
    assert ids(state="open") == [third.pk, first.pk]
    assert ids(state=["rejected", "paid"]) == [second.pk]
    assert ids(return_number=first.return_request.ticket.number) == [first.pk]
    page_one = client.get(LIST_URL, {"page_size": 2}).json()
    page_two = client.get(page_one["next"]).json()
    assert [row["id"] for row in page_one["results"]] == [third.pk, second.pk]
    assert [row["id"] for row in page_two["results"]] == [first.pk]
    assert page_two["next"] is None
    assert client.get(LIST_URL, {"state": "nonsense"}).status_code == 400


# --- the decisions ------------------------------------------------------------------------------------


def test_settling_a_claim_answers_with_the_paid_claim_and_a_retry_changes_nothing():
    world = make_world()
    claim = lost_claim(world)
    client = api_client(world.merchant)
    body = {"amount_recovered": "250.00", "reference": "SF-CLM-7"}

    first = client.post(claim_url("settle", claim), body, format="json")
    before = snapshot(claim.return_request)
    again = client.post(claim_url("settle", claim), body, format="json")

    assert first.status_code == again.status_code == 200
    assert {key: first.json()[key] for key in ("id", "state", "amount_recovered", "carrier_reference")} == {
        "id": claim.pk,
        "state": "paid",
        "amount_recovered": "250.00",
        "carrier_reference": "SF-CLM-7",
    }
    assert first.json()["decided_by"] is not None
    assert again.json() == first.json()
    assert snapshot(claim.return_request) == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount_recovered": "300.01", "reference": "R"}, 400, "amount_exceeds_claim"),
        ({"amount_recovered": "0", "reference": "R"}, 400, "amount_not_positive"),
        ({"reference": "R"}, 400, "invalid"),
    ],
)
def test_a_payment_that_cannot_be_is_refused_and_changes_nothing(body, status, code):
    world = make_world()
    claim = lost_claim(world)
    before = snapshot(claim.return_request)

    response = api_client(world.merchant).post(claim_url("settle", claim), body, format="json")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert snapshot(claim.return_request) == before


def test_rejecting_then_withdrawing_a_claim_is_a_409_the_second_time():
    world = make_world()
    claim = lost_claim(world)
    client = api_client(world.merchant)

    rejected = client.post(claim_url("reject", claim), {"reason": "Not insured."}, format="json")
    before = snapshot(claim.return_request)
    withdrawn = client.post(claim_url("withdraw", claim), {}, format="json")

    assert rejected.status_code == 200
    assert (rejected.json()["state"], rejected.json()["decision_note"]) == ("rejected", "Not insured.")
    assert withdrawn.status_code == 409
    assert withdrawn.json()["error"]["code"] == "claim_already_decided"
    assert snapshot(claim.return_request) == before


def test_withdrawing_a_claim_records_the_parcel_received_and_counts_nothing_again():
    world = make_world()
    claim = lost_claim(world)
    counted = snapshot(claim.return_request)[3]

    response = api_client(world.merchant).post(claim_url("withdraw", claim), {"note": "Found"}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == "withdrawn"
    assert ReturnShipment.objects.get(pk=claim.shipment_id).received_at is not None
    assert snapshot(claim.return_request)[3] == counted
    receive = api_client(world.merchant).post(
        reverse("api:return-receive", kwargs={"number": claim.return_request.ticket.number}), {}, format="json"
    )
    assert receive.status_code == 409
    assert receive.json()["error"]["code"] == "parcel_declared_lost"
    assert snapshot(claim.return_request)[3] == counted


# --- tenancy ------------------------------------------------------------------------------------------


def test_another_merchants_key_sees_no_claim_and_gets_404_on_each_endpoint():
    world = make_world()
    claim = lost_claim(world)
    other_return = in_transit(make_world())
    stranger = api_client(make_world().merchant)
    before = snapshot(claim.return_request)

    assert stranger.get(LIST_URL).json()["results"] == []
    bodies = {
        "settle": {"amount_recovered": "1.00", "reference": "R"},
        "reject": {"reason": "No."},
        "withdraw": {},
    }
    for action, body in bodies.items():
        response = stranger.post(claim_url(action, claim), body, format="json")
        assert response.status_code == 404, action
        assert response.json()["error"]["code"] == "not_found"
    assert snapshot(claim.return_request) == before
    # and a return of a third merchant cannot be declared lost with this key
    other_before = snapshot(other_return)
    assert stranger.post(lost_url(other_return), {}, format="json").status_code == 404
    assert snapshot(other_return) == other_before


def test_a_technicians_session_lists_no_claim(client):
    world = make_world()
    lost_claim(world)
    client.force_login(MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_schema_describes_the_lost_parcel_endpoints(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()

    assert {
        "/api/v1/returns/{number}/lost/",
        "/api/v1/carrier-claims/",
        "/api/v1/carrier-claims/{claim_id}/settle/",
        "/api/v1/carrier-claims/{claim_id}/reject/",
        "/api/v1/carrier-claims/{claim_id}/withdraw/",
    } <= set(schema["paths"])
    assert set(schema["components"]["schemas"]["CarrierClaimOutput"]["properties"]) >= {
        "state",
        "amount_claimed",
        "amount_recovered",
        "currency",
    }
