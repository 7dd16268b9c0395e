"""The supplier-claim API: list, read, open, sent, paid, rejected; each move appends its internal
event on the repair's case; refusals change nothing; another merchant's claims are a 404."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, api_key_for
from repairs.models import LineCoverage, RepairLine, RepairStatus, SupplierClaim
from repairs.tests.builders import build_world
from repairs.tests.factories import RepairOrderFactory
from tickets.models import TicketEvent


def api_client(merchant) -> APIClient:
    _key, full_key = api_key_for(merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    return client


def repaired(merchant):
    repair = RepairOrderFactory(merchant=merchant, status=RepairStatus.RETURNED)
    RepairLine.objects.create(
        merchant=merchant,
        repair_order=repair,
        kind="labour",
        description="Refit",
        unit_price=Decimal("60.00"),
        coverage=LineCoverage.WARRANTY,
    )
    return repair


def verbs(repair) -> list[str]:
    return list(TicketEvent.objects.filter(ticket=repair.ticket).order_by("pk").values_list("verb", flat=True))


def test_an_integration_opens_sends_and_records_the_payment_of_a_claim(world):
    repair = repaired(world.merchant)
    client = api_client(world.merchant)

    opened = client.post(
        "/api/v1/supplier-claims/", {"repair": repair.ticket.number, "supplier": "TapWorks"}, format="json"
    )
    claim_id = opened.json()["id"]
    sent = client.post(f"/api/v1/supplier-claims/{claim_id}/send/", {"reference": "TW-77"}, format="json")
    paid = client.post(f"/api/v1/supplier-claims/{claim_id}/paid/", {"amount_paid": "50.00"}, format="json")
    listed = client.get("/api/v1/supplier-claims/?status=paid")
    read = client.get(f"/api/v1/supplier-claims/{claim_id}/")

    assert (opened.status_code, sent.status_code, paid.status_code) == (201, 200, 200)
    assert opened.json()["amount"] == "60.00"
    assert opened.json()["status"] == "open"
    assert sent.json()["status"] == "sent"
    assert (paid.json()["status"], paid.json()["amount_paid"], paid.json()["reference"]) == ("paid", "50.00", "TW-77")
    assert [c["id"] for c in listed.json()["results"]] == [claim_id]
    assert read.json()["repair"] == repair.ticket.number
    assert verbs(repair) == ["repair_claim_opened", "repair_claim_sent", "repair_claim_paid"]
    events = TicketEvent.objects.filter(ticket=repair.ticket).order_by("pk")
    assert [e.is_public for e in events] == [False, False, False]
    assert events.last().data == {"claim": claim_id, "reference": "TW-77", "amount_paid": "50.00"}


def test_a_refused_move_answers_409_and_changes_nothing(world):
    repair = repaired(world.merchant)
    client = api_client(world.merchant)
    claim_id = client.post(
        "/api/v1/supplier-claims/", {"repair": repair.ticket.number, "supplier": "TapWorks"}, format="json"
    ).json()["id"]

    paid_before_sent = client.post(f"/api/v1/supplier-claims/{claim_id}/paid/", {}, format="json")
    too_much = client.post(
        "/api/v1/supplier-claims/", {"repair": repair.ticket.number, "supplier": "X", "amount": "61.00"}, format="json"
    )
    unknown = client.post("/api/v1/supplier-claims/", {"repair": "RP-999999", "supplier": "X"}, format="json")

    assert paid_before_sent.status_code == 409
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (400, "invalid_claim_amount")
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "unknown_repair"
    claim = SupplierClaim.objects.get(pk=claim_id)
    assert (claim.status, claim.amount_paid, claim.amount) == ("open", Decimal("0.00"), Decimal("60.00"))
    assert verbs(repair) == ["repair_claim_opened"]


@pytest.mark.django_db
def test_another_merchants_claims_are_a_404_and_never_listed():
    world = build_world(slug="claims-a")
    stranger = build_world(slug="claims-b", serial="TAP-B")
    theirs = api_client(stranger.merchant).post(
        "/api/v1/supplier-claims/",
        {"repair": repaired(stranger.merchant).ticket.number, "supplier": "X"},
        format="json",
    )
    claim_id = theirs.json()["id"]
    client = api_client(world.merchant)
    own_repair_of_theirs = client.post(
        "/api/v1/supplier-claims/",
        {"repair": SupplierClaim.objects.get(pk=claim_id).repair_order.ticket.number, "supplier": "X"},
        format="json",
    )

    assert client.get(f"/api/v1/supplier-claims/{claim_id}/").status_code == 404
    assert client.post(f"/api/v1/supplier-claims/{claim_id}/send/", {}, format="json").status_code == 404
    assert client.get("/api/v1/supplier-claims/").json()["results"] == []
    assert own_repair_of_theirs.status_code == 400
    assert SupplierClaim.objects.get(pk=claim_id).status == "open"
    assert SupplierClaim.objects.count() == 1


def test_a_technicians_session_sees_no_claims(world):
    repaired_one = repaired(world.merchant)
    api_client(world.merchant).post(
        "/api/v1/supplier-claims/", {"repair": repaired_one.ticket.number, "supplier": "X"}, format="json"
    )
    technician = MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user
    client = APIClient()
    client.force_login(technician)

    assert client.get("/api/v1/supplier-claims/").json()["results"] == []


def test_the_schema_names_the_claim_status_enum(client):
    schema = client.get("/api/schema/?format=json").json()

    assert schema["components"]["schemas"]["SupplierClaimStatusEnum"]["enum"] == ["open", "sent", "paid", "rejected"]
    assert "/api/v1/supplier-claims/{claim_id}/paid/" in schema["paths"]
