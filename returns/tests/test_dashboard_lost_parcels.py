"""The dashboard's lost parcels: the "Parcel lost" action on a return in transit, the carrier
claim's panel with its decisions, and the merchant's list of claims. Each action is one service
call; a refusal shows its message and changes nothing; another merchant's staff get 404s."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.models import Membership, OrderLine
from aftersales.tests.builders import flash_messages
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from returns.models import CarrierClaim, ClaimState, ReturnRequest, ReturnShipment, ReturnStatus
from returns.services import carrier_claim_reject, carrier_claim_settle
from returns.tests.builders import drive, in_transit, lost_claim, make_world, submit
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


# --- helpers ------------------------------------------------------------------------------------------


def _url(name: str, return_request: ReturnRequest, **kwargs) -> str:
    return reverse(name, kwargs={"number": return_request.ticket.number, **kwargs})


def _claim_url(name: str, claim: CarrierClaim) -> str:
    return reverse(name, kwargs={"number": claim.return_request.ticket.number, "claim_id": claim.pk})


def _post(client, url, data=None):
    return client.post(url, data or {}, follow=True)


def _snapshot(return_request: ReturnRequest) -> dict:
    fresh = ReturnRequest.objects.get(pk=return_request.pk)
    return {
        "status": fresh.status,
        "order_lines": list(
            OrderLine.objects.filter(order_id=fresh.order_id)
            .order_by("pk")
            .values_list("quantity_received", "quantity_accepted")
        ),
        "shipments": list(
            ReturnShipment.objects.filter(return_request=fresh).order_by("pk").values_list("lost_at", "received_at")
        ),
        "claims": list(
            CarrierClaim.objects.filter(return_request=fresh)
            .order_by("pk")
            .values_list("state", "amount_recovered", "carrier_reference", "decision_note")
        ),
        "events": TicketEvent.objects.filter(ticket_id=fresh.ticket_id).count(),
    }


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def agent_client(client, world):
    client.force_login(world.agent)
    return client


# --- declaring the parcel lost ------------------------------------------------------------------------


def test_a_return_in_transit_offers_the_parcel_lost_action(agent_client, world):
    return_request = in_transit(world)

    page = agent_client.get(_url("dashboard:return", return_request)).content.decode()

    assert _url("dashboard:return_declare_lost", return_request) in page
    assert "Declare the parcel lost" in page
    assert 'id="lost_note"' in page
    assert "Carrier claim" not in page


def test_the_warehouse_sees_who_declares_a_parcel_lost_instead_of_the_action(client, world):
    return_request = in_transit(world)
    client.force_login(world.warehouse)

    page = client.get(_url("dashboard:return", return_request)).content.decode()

    assert _url("dashboard:return_declare_lost", return_request) not in page
    assert "A lost parcel is declared by agents, supervisors and merchant admins." in page


@pytest.mark.parametrize("status", [ReturnStatus.AWAITING_SHIPMENT, ReturnStatus.RECEIVED])
def test_a_return_not_in_transit_does_not_offer_the_action(agent_client, world, status):
    return_request = drive(world, submit(world), status)

    page = agent_client.get(_url("dashboard:return", return_request)).content.decode()

    assert _url("dashboard:return_declare_lost", return_request) not in page


def test_declaring_the_parcel_lost_settles_the_return_and_shows_the_claim(
    agent_client, world, django_capture_on_commit_callbacks
):
    return_request = in_transit(world)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            agent_client, _url("dashboard:return_declare_lost", return_request), {"note": "SF: lost in Hangzhou hub"}
        )

    assert flash_messages(response) == [
        "Parcel declared lost: the return is being settled and the carrier claim is open."
    ]
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.SETTLING
    claim = CarrierClaim.objects.get(return_request=return_request)
    assert (claim.state, claim.amount_claimed, claim.notes, claim.opened_by) == (
        ClaimState.OPEN,
        Decimal("300.00"),
        "SF: lost in Hangzhou hub",
        world.agent,
    )
    page = response.content.decode()
    assert "Carrier claim" in page
    assert "Lost in transit" in page
    assert "300.00 CNY" in page
    for action in ("settle", "reject", "withdraw"):
        assert _claim_url(f"dashboard:carrier_claim_{action}", claim) in page
    assert _url("dashboard:return_declare_lost", return_request) not in page


def test_a_second_declaration_shows_the_refusal_and_changes_nothing(agent_client, world):
    claim = lost_claim(world, note="Lost at the depot.")
    return_request = claim.return_request
    before = _snapshot(return_request)

    response = _post(agent_client, _url("dashboard:return_declare_lost", return_request), {"note": ""})

    assert flash_messages(response) == ["Only a parcel in transit, with its tracking number, can be declared lost."]
    assert _snapshot(return_request) == before


def test_the_warehouse_posting_the_action_is_refused_and_nothing_changes(client, world):
    return_request = in_transit(world)
    before = _snapshot(return_request)
    client.force_login(world.warehouse)

    response = _post(client, _url("dashboard:return_declare_lost", return_request), {"note": ""})

    assert flash_messages(response) == ["Your role does not allow lost parcels and carrier claims."]
    assert _snapshot(return_request) == before


# --- the claim's decisions ----------------------------------------------------------------------------


def test_recording_the_carriers_payment_from_the_return_page(agent_client, world):
    claim = lost_claim(world, note="Lost at the depot.")

    response = _post(
        agent_client,
        _claim_url("dashboard:carrier_claim_settle", claim),
        {"amount_recovered": "280.00", "reference": "SF-CLM-1"},
    )

    assert flash_messages(response) == ["Claim recorded as paid by the carrier."]
    claim.refresh_from_db()
    assert (claim.state, claim.amount_recovered, claim.carrier_reference) == (
        ClaimState.PAID,
        Decimal("280.00"),
        "SF-CLM-1",
    )
    page = response.content.decode()
    assert "Paid by the carrier" in page
    assert _claim_url("dashboard:carrier_claim_settle", claim) not in page


def test_a_payment_above_the_claim_is_refused_with_the_services_message(agent_client, world):
    claim = lost_claim(world, note="Lost at the depot.")
    before = _snapshot(claim.return_request)

    response = _post(
        agent_client,
        _claim_url("dashboard:carrier_claim_settle", claim),
        {"amount_recovered": "300.01", "reference": "SF-CLM-1"},
    )

    assert flash_messages(response) == ["At most 300.00 CNY was claimed."]
    assert _snapshot(claim.return_request) == before


def test_a_payment_form_without_a_reference_is_shown_again_with_its_error(agent_client, world):
    claim = lost_claim(world, note="Lost at the depot.")
    before = _snapshot(claim.return_request)

    response = agent_client.post(_claim_url("dashboard:carrier_claim_settle", claim), {"amount_recovered": "10"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert _snapshot(claim.return_request) == before


def test_recording_the_carriers_rejection_from_the_return_page(agent_client, world):
    claim = lost_claim(world, note="Lost at the depot.")

    response = _post(
        agent_client, _claim_url("dashboard:carrier_claim_reject", claim), {"reason": "No insurance on the waybill."}
    )

    assert flash_messages(response) == ["Claim recorded as rejected by the carrier."]
    claim.refresh_from_db()
    assert (claim.state, claim.decision_note) == (ClaimState.REJECTED, "No insurance on the waybill.")


def test_withdrawing_the_claim_when_the_parcel_turns_up(agent_client, world):
    claim = lost_claim(world, note="Lost at the depot.")
    counted = _snapshot(claim.return_request)["order_lines"]

    response = _post(agent_client, _claim_url("dashboard:carrier_claim_withdraw", claim), {"note": "At the back door."})

    assert flash_messages(response) == ["Claim withdrawn; the parcel is recorded as received."]
    claim.refresh_from_db()
    assert claim.state == ClaimState.WITHDRAWN
    assert ReturnShipment.objects.get(pk=claim.shipment_id).received_at == claim.decided_at
    assert _snapshot(claim.return_request)["order_lines"] == counted


def test_scanning_a_lost_parcel_at_the_door_tells_staff_to_withdraw_the_claim(agent_client, world):
    claim = lost_claim(world, note="Lost at the depot.")
    before = _snapshot(claim.return_request)

    response = _post(agent_client, reverse("dashboard:return_scan"), {"tracking_number": claim.tracking_number})

    assert flash_messages(response) == [
        (
            "This parcel was declared lost and the return settled without it. If it has turned up, withdraw the "
            "carrier claim first: that records it as found; its units are already counted."
        )
    ]
    assert _snapshot(claim.return_request) == before


def test_the_warehouse_sees_the_claim_but_not_its_decisions(client, world):
    claim = lost_claim(world, note="Lost at the depot.")
    client.force_login(world.warehouse)

    page = client.get(_url("dashboard:return", claim.return_request)).content.decode()

    assert "Carrier claim" in page
    assert _claim_url("dashboard:carrier_claim_settle", claim) not in page
    assert "Carrier claims are decided by agents, supervisors and merchant admins." in page


def test_a_claim_of_another_return_is_a_404(agent_client, world):
    claim = lost_claim(world, note="Lost at the depot.", quantities=[1, 0])
    other = in_transit(world, quantities=[1, 1])
    before = _snapshot(claim.return_request)

    response = agent_client.post(
        reverse("dashboard:carrier_claim_reject", kwargs={"number": other.ticket.number, "claim_id": claim.pk}),
        {"reason": "No."},
    )

    assert response.status_code == 404
    assert _snapshot(claim.return_request) == before


# --- tenancy ------------------------------------------------------------------------------------------


def _stranger(client):
    client.force_login(MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN).user)
    return client


def test_another_merchants_staff_get_404_for_the_lost_action(client, world):
    return_request = in_transit(world)
    before = _snapshot(return_request)

    response = _stranger(client).post(_url("dashboard:return_declare_lost", return_request), {"note": ""})

    assert response.status_code == 404
    assert _snapshot(return_request) == before


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("dashboard:carrier_claim_settle", {"amount_recovered": "1", "reference": "R"}),
        ("dashboard:carrier_claim_reject", {"reason": "No."}),
        ("dashboard:carrier_claim_withdraw", {"note": ""}),
    ],
)
def test_another_merchants_staff_get_404_for_each_claim_decision(client, world, name, data):
    claim = lost_claim(world, note="Lost at the depot.")
    before = _snapshot(claim.return_request)

    response = _stranger(client).post(_claim_url(name, claim), data)

    assert response.status_code == 404
    assert _snapshot(claim.return_request) == before


@pytest.mark.parametrize(
    "name",
    [
        "dashboard:return_declare_lost",
        "dashboard:carrier_claim_settle",
        "dashboard:carrier_claim_reject",
        "dashboard:carrier_claim_withdraw",
    ],
)
def test_the_lost_parcel_actions_take_only_post(agent_client, world, name):
    claim = lost_claim(world, note="Lost at the depot.")
    kwargs = {"claim_id": claim.pk} if "claim" in name else {}

    assert agent_client.get(_url(name, claim.return_request, **kwargs)).status_code == 405


# --- the claims list ----------------------------------------------------------------------------------

# auth and header 3 (as the returns pages), the totals, the page of claims with their returns
CLAIMS_PAGE_QUERIES = 5


def test_the_returns_queue_links_to_the_claims(agent_client):
    page = agent_client.get(reverse("dashboard:returns")).content.decode()

    assert reverse("dashboard:carrier_claims") in page


def test_the_claims_list_shows_open_claims_first_with_the_totals(agent_client, world):
    # Given three claims: the oldest open, a newer one paid back, the newest rejected; and another
    # merchant's claim
    oldest = lost_claim(world, note="Lost at the depot.", quantities=[1, 0])
    paid = lost_claim(world, note="Lost at the depot.", quantities=[1, 0])
    rejected = lost_claim(world, note="Lost at the depot.", quantities=[0, 1])
    carrier_claim_settle(claim=paid, actor=world.agent, amount_recovered="60", reference="SF-1")
    carrier_claim_reject(claim=rejected, actor=world.agent, reason="No.")
    foreign = lost_claim(make_world(), note="Lost at the depot.")

    response = agent_client.get(reverse("dashboard:carrier_claims"))

    # Then the open one comes first, then the newest; the totals add up every claim of ours
    assert response.status_code == 200
    assert [claim.pk for claim in response.context["page"].claims] == [oldest.pk, rejected.pk, paid.pk]
    assert [(t.currency, t.claims, t.claimed, t.recovered) for t in response.context["page"].totals] == [
        ("CNY", 3, Decimal("300.00"), Decimal("60.00"))
    ]
    page = response.content.decode()
    for claim in (oldest, paid, rejected):
        assert claim.tracking_number in page
    # (ticket numbers are per merchant; the tracking number is the other merchant's own)
    assert foreign.tracking_number not in page


def test_the_claims_list_filters_by_state(agent_client, world):
    open_claim = lost_claim(world, note="Lost at the depot.", quantities=[1, 0])
    paid = lost_claim(world, note="Lost at the depot.", quantities=[0, 1])
    carrier_claim_settle(claim=paid, actor=world.agent, amount_recovered="100", reference="SF-1")

    open_page = agent_client.get(reverse("dashboard:carrier_claims"), {"state": "open"}).context["page"]
    paid_page = agent_client.get(reverse("dashboard:carrier_claims"), {"state": "paid"}).context["page"]
    junk_page = agent_client.get(reverse("dashboard:carrier_claims"), {"state": "nonsense"}).context["page"]

    assert [claim.pk for claim in open_page.claims] == [open_claim.pk]
    assert [(t.claims, t.claimed, t.recovered) for t in open_page.totals] == [(1, Decimal("100.00"), Decimal("0.00"))]
    assert [claim.pk for claim in paid_page.claims] == [paid.pk]
    assert [(t.claims, t.recovered) for t in paid_page.totals] == [(1, Decimal("100.00"))]
    assert [claim.pk for claim in junk_page.claims] == [open_claim.pk, paid.pk]


def test_the_claims_list_pages_by_keyset(agent_client, world, monkeypatch):
    monkeypatch.setattr("returns.selectors.claims.CLAIMS_PAGE_SIZE", 2)
    first, second, third = (
        lost_claim(world, note="Lost at the depot.", quantities=q) for q in ([1, 0], [1, 0], [0, 1])
    )
    carrier_claim_reject(claim=third, actor=world.agent, reason="No.")

    page_one = agent_client.get(reverse("dashboard:carrier_claims"))
    page_two = agent_client.get(reverse("dashboard:carrier_claims"), {"after": page_one.context["next_cursor"]})

    assert [claim.pk for claim in page_one.context["page"].claims] == [second.pk, first.pk]
    assert [claim.pk for claim in page_two.context["page"].claims] == [third.pk]
    assert page_two.context["next_cursor"] is None
    assert "First page" in page_two.content.decode()
    # the totals are over every claim, on each page
    assert [t.claims for t in page_two.context["page"].totals] == [3]


def test_another_merchants_claims_are_never_listed(client, world):
    lost_claim(world, note="Lost at the depot.")

    response = _stranger(client).get(reverse("dashboard:carrier_claims"))

    assert response.status_code == 200
    assert response.context["page"].claims == []
    assert response.context["page"].totals == []
    assert "No parcel has been declared lost." in response.content.decode()


def test_a_technician_may_not_open_the_claims_list(client, world):
    lost_claim(world, note="Lost at the depot.")
    client.force_login(MembershipFactory(merchant=world.merchant, role=Membership.Role.TECHNICIAN).user)

    response = client.get(reverse("dashboard:carrier_claims"))

    assert response.status_code == 403


def test_the_claims_list_costs_the_same_queries_for_one_claim_and_for_five(agent_client, django_assert_num_queries):
    world = make_world(quantities=(5,))
    agent_client.force_login(world.agent)
    lost_claim(world, note="Lost at the depot.", quantities=[1])
    with django_assert_num_queries(CLAIMS_PAGE_QUERIES):
        agent_client.get(reverse("dashboard:carrier_claims"))
    for _ in range(4):
        lost_claim(world, note="Lost at the depot.", quantities=[1])

    with django_assert_num_queries(CLAIMS_PAGE_QUERIES):
        response = agent_client.get(reverse("dashboard:carrier_claims"))

    assert len(response.context["page"].claims) == 5
