"""The staff actions on a return after its decision, as the dashboard offers them: the parcel,
receipt (one return, a scan, many at once), inspection, settlement and its ledger, a supervisor's
decision, and the return's timers. Each action is one service call; a refusal shows the service's
message and changes nothing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from aftersales.models import Deadline, Membership, OrderLine
from aftersales.tests.builders import flash_messages
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from returns.models import (
    ExecutionState,
    Refund,
    RefundAdapterName,
    RefundExecution,
    RefundGateway,
    RefundLine,
    RefundState,
    ReplacementShipment,
    ReturnLine,
    ReturnLineInspection,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
    StoreCreditEntry,
)
from returns.payments import AdapterResult
from returns.services import (
    refund_grant,
    return_request_escalate,
    return_request_inspect,
    return_request_settle,
    return_shipping_choose,
)
from returns.tests.builders import drive, every_resolution_world, in_transit, inspect_all, make_world, submit
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


# --- helpers ------------------------------------------------------------------------------------------


def _url(name: str, return_request: ReturnRequest, **kwargs) -> str:
    return reverse(name, kwargs={"number": return_request.ticket.number, **kwargs})


def _verbs(return_request: ReturnRequest) -> list[str]:
    """The ticket's events in order, the generic status changes that follow each step left out."""
    return list(
        TicketEvent.objects.filter(ticket_id=return_request.ticket_id)
        .exclude(verb="status_changed")
        .order_by("id")
        .values_list("verb", flat=True)
    )


def _snapshot(return_request: ReturnRequest) -> dict:
    """Everything an action on the return could change."""
    rr = ReturnRequest.objects.get(pk=return_request.pk)
    return {
        "status": rr.status,
        "review_reasons": rr.review_reasons,
        "lines": list(
            ReturnLine.objects.filter(return_request=rr)
            .order_by("pk")
            .values_list("quantity_received", "quantity_accepted", "quantity_rejected")
        ),
        "order_lines": list(
            OrderLine.objects.filter(order_id=rr.order_id)
            .order_by("pk")
            .values_list(
                "quantity_requested",
                "quantity_received",
                "quantity_accepted",
                "quantity_refunded",
                "quantity_exchanged",
            )
        ),
        "shipments": list(
            ReturnShipment.objects.filter(return_request=rr)
            .order_by("pk")
            .values_list("direction", "carrier", "tracking_number", "pickup_booked_at", "received_at")
        ),
        "inspections": ReturnLineInspection.objects.filter(return_line__return_request=rr).count(),
        "refunds": list(Refund.objects.filter(return_request=rr).order_by("pk").values_list("amount", "state")),
        "executions": list(
            RefundExecution.objects.filter(refund__return_request=rr).order_by("pk").values_list("state", "attempts")
        ),
        "credit": StoreCreditEntry.objects.filter(return_request=rr).count(),
        "replacements": ReplacementShipment.objects.filter(return_request=rr).count(),
        "events": _verbs(rr),
        "ticket_status": rr.ticket.status,
    }


def _post(client, url, data=None, **extra):
    return client.post(url, data or {}, follow=True, **extra)


@pytest.fixture
def world(db):
    # Two lines: 2 units and 1 unit at 100.00, so the whole return refunds 300.00; every
    # resolution allowed for 15 days, no restocking fee.
    return every_resolution_world(rule_name="Everything, 15 days")


@pytest.fixture
def agent_client(client, world):
    client.force_login(world.agent)
    return client


def _received(world, **submit_kwargs):
    return drive(world, submit(world, **submit_kwargs), ReturnStatus.RECEIVED)


def _inspected(world, **submit_kwargs):
    return_request = _received(world, **submit_kwargs)
    return_request_inspect(return_request=return_request, actor=world.warehouse, lines=inspect_all(return_request))
    return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)


def _lines(return_request):
    return list(return_request.lines.order_by("pk"))


# --- the parcel ---------------------------------------------------------------------------------------


def test_recording_the_parcel_puts_the_return_in_transit_with_its_tracking(agent_client, world):
    return_request = drive(world, submit(world), ReturnStatus.AWAITING_SHIPMENT)

    response = _post(
        agent_client,
        _url("dashboard:return_tracking", return_request),
        {"carrier": "SF Express", "tracking_number": "sf 1234 5678"},
    )

    assert response.redirect_chain == [(_url("dashboard:return", return_request), 302)]
    assert flash_messages(response) == ["Parcel recorded; the return is in transit."]
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.IN_TRANSIT
    inbound = ReturnShipment.objects.get(return_request=return_request, direction=ShipmentDirection.TO_MERCHANT)
    assert (inbound.carrier, inbound.tracking_number) == ("SF Express", "SF12345678")
    assert _verbs(return_request)[-1] == "return_in_transit"


def test_the_parcel_form_is_offered_only_once_the_customer_picked_how_it_goes_back(agent_client, world):
    return_request = drive(world, submit(world), ReturnStatus.APPROVED)
    approved_page = agent_client.get(_url("dashboard:return", return_request)).content.decode()

    return_shipping_choose(return_request=return_request, method="drop_off", customer=world.customer)
    awaiting_page = agent_client.get(_url("dashboard:return", return_request)).content.decode()

    assert _url("dashboard:return_tracking", return_request) not in approved_page
    assert _url("dashboard:return_tracking", return_request) in awaiting_page


def test_recording_a_parcel_for_an_approved_return_not_yet_shipping_is_refused_and_changes_nothing(agent_client, world):
    return_request = drive(world, submit(world), ReturnStatus.APPROVED)
    before = _snapshot(return_request)

    response = _post(
        agent_client,
        _url("dashboard:return_tracking", return_request),
        {"carrier": "SF Express", "tracking_number": "SF1"},
    )

    assert flash_messages(response) == ["A return that is Approved cannot become In transit."]
    assert _snapshot(return_request) == before


def test_booking_a_pickup_records_the_carrier_and_reference(agent_client, world):
    return_request = drive(world, submit(world), ReturnStatus.APPROVED)
    start = timezone.now() + timedelta(days=1)
    return_shipping_choose(
        return_request=return_request,
        method="pickup",
        customer=world.customer,
        pickup_address="5 Lake Road",
        pickup_slot_start=start,
        pickup_slot_end=start + timedelta(hours=2),
    )
    page = agent_client.get(_url("dashboard:return", return_request)).content.decode()
    assert _url("dashboard:return_pickup", return_request) in page

    response = _post(
        agent_client, _url("dashboard:return_pickup", return_request), {"carrier": "JD Logistics", "reference": "PK-9"}
    )

    assert flash_messages(response) == ["Pickup booked; the customer sees the carrier."]
    inbound = ReturnShipment.objects.get(return_request=return_request)
    assert (inbound.carrier, inbound.pickup_reference, inbound.pickup_booked_at is not None) == (
        "JD Logistics",
        "PK-9",
        True,
    )
    assert _verbs(return_request)[-1] == "return_pickup_booked"
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.AWAITING_SHIPMENT


def test_booking_a_pickup_for_a_drop_off_is_refused_and_changes_nothing(agent_client, world):
    return_request = drive(world, submit(world), ReturnStatus.AWAITING_SHIPMENT)
    before = _snapshot(return_request)

    response = _post(agent_client, _url("dashboard:return_pickup", return_request), {"carrier": "JD Logistics"})

    assert flash_messages(response) == ["A pickup can be booked only for a return awaiting a home pickup."]
    assert _snapshot(return_request) == before


# --- receipt ------------------------------------------------------------------------------------------


def test_receive_counts_every_expected_unit_in_by_default(agent_client, world):
    return_request = in_transit(world)

    response = _post(agent_client, _url("dashboard:return_receive", return_request), {})

    assert flash_messages(response) == ["Parcel received; inspect it next."]
    assert _snapshot(return_request)["status"] == ReturnStatus.RECEIVED
    assert _snapshot(return_request)["lines"] == [(2, 0, 0), (1, 0, 0)]
    assert [row[1] for row in _snapshot(return_request)["order_lines"]] == [2, 1]
    assert _verbs(return_request)[-1] == "return_received"


def test_receive_takes_per_line_counts(agent_client, world):
    return_request = in_transit(world)
    first, second = _lines(return_request)

    _post(
        agent_client,
        _url("dashboard:return_receive", return_request),
        {f"units_{first.pk}": "1", f"units_{second.pk}": "0", "note": "One boot missing"},
    )

    snapshot = _snapshot(return_request)
    assert snapshot["status"] == ReturnStatus.RECEIVED
    assert snapshot["lines"] == [(1, 0, 0), (0, 0, 0)]
    assert [row[1] for row in snapshot["order_lines"]] == [1, 0]
    event = TicketEvent.objects.filter(ticket_id=return_request.ticket_id, verb="return_received").get()
    assert event.data == {"lines": {str(first.pk): 1, str(second.pk): 0}, "note": "One boot missing"}


def test_receiving_more_units_than_requested_is_refused_and_changes_nothing(agent_client, world):
    return_request = in_transit(world)
    first, second = _lines(return_request)
    before = _snapshot(return_request)

    response = _post(
        agent_client,
        _url("dashboard:return_receive", return_request),
        {f"units_{first.pk}": "3", f"units_{second.pk}": "1"},
    )

    assert flash_messages(response) == [f"{first.order_line.name}: at most 2 units were requested."]
    assert _snapshot(return_request) == before


def test_scanning_a_tracking_number_on_the_queue_receives_the_matching_return(agent_client, world):
    return_request = in_transit(world)

    page = agent_client.get(reverse("dashboard:returns")).content.decode()
    assert reverse("dashboard:return_scan") in page
    response = _post(agent_client, reverse("dashboard:return_scan"), {"tracking_number": f"sf{return_request.pk:010d}"})

    assert response.redirect_chain == [(_url("dashboard:return", return_request), 302)]
    assert flash_messages(response) == [f"{return_request.ticket.number} received in full."]
    assert _snapshot(return_request)["lines"] == [(2, 0, 0), (1, 0, 0)]


def test_scanning_an_unknown_tracking_number_says_so_and_changes_nothing(agent_client, world):
    return_request = in_transit(world)
    before = _snapshot(return_request)

    response = _post(agent_client, reverse("dashboard:return_scan"), {"tracking_number": "YT000"})

    assert response.redirect_chain == [(reverse("dashboard:returns"), 302)]
    assert flash_messages(response) == ["No return carries this tracking number."]
    assert _snapshot(return_request) == before


# --- inspection ---------------------------------------------------------------------------------------


def _inspection_payload(return_request, rows):
    data = {}
    for line, (accepted, rejected, grade, disposition, notes) in zip(_lines(return_request), rows, strict=True):
        data |= {
            f"accepted_{line.pk}": accepted,
            f"rejected_{line.pk}": rejected,
            f"grade_{line.pk}": grade,
            f"disposition_{line.pk}": disposition,
            f"notes_{line.pk}": notes,
        }
    return data


def test_inspect_records_accepted_and_rejected_units_grade_and_disposition_per_line(agent_client, world):
    return_request = _received(world)
    page = agent_client.get(_url("dashboard:return", return_request)).content.decode()
    assert _url("dashboard:return_inspect", return_request) in page

    response = _post(
        agent_client,
        _url("dashboard:return_inspect", return_request),
        _inspection_payload(
            return_request, [(1, 1, "damaged", "refurbish", "Scuffed toe"), (0, 1, "unusable", "", "Soaked")]
        ),
    )

    assert flash_messages(response) == ["Inspection recorded."]
    snapshot = _snapshot(return_request)
    assert snapshot["status"] == ReturnStatus.INSPECTED
    assert snapshot["lines"] == [(2, 1, 1), (1, 0, 1)]
    assert [row[2] for row in snapshot["order_lines"]] == [1, 0]
    first, second = _lines(return_request)
    assert (first.inspection.grade, first.inspection.disposition, first.inspection.notes) == (
        "damaged",
        "refurbish",
        "Scuffed toe",
    )
    assert (second.inspection.grade, second.inspection.disposition) == ("unusable", "")
    # Rejected units go back: a parcel to the customer is opened.
    assert (
        ReturnShipment.objects.filter(return_request=return_request, direction=ShipmentDirection.TO_CUSTOMER).count()
        == 1
    )
    assert _verbs(return_request)[-2:] == ["return_inspected", "return_inspection_details"]
    html = response.content.decode()
    assert "Scuffed toe" in html
    assert "Refurbish" in html


def test_an_inspection_that_leaves_units_unjudged_is_refused_and_changes_nothing(agent_client, world):
    return_request = _received(world)
    first, _second = _lines(return_request)
    before = _snapshot(return_request)

    response = _post(
        agent_client,
        _url("dashboard:return_inspect", return_request),
        _inspection_payload(return_request, [(1, 0, "good", "restock", ""), (1, 0, "good", "restock", "")]),
    )

    assert flash_messages(response) == [f"{first.order_line.name}: accept or reject each of the 2 units received."]
    assert _snapshot(return_request) == before


# --- settlement ---------------------------------------------------------------------------------------


def test_the_settle_form_starts_from_the_amounts_the_terms_give(agent_client, world):
    return_request = _inspected(world)

    response = agent_client.get(_url("dashboard:return", return_request))

    defaults = response.context["settle"]
    assert [(d.units, d.amount) for d in defaults.lines] == [(2, Decimal("200.00")), (1, Decimal("100.00"))]
    assert (defaults.shipping_default, defaults.total) == (Decimal("0.00"), Decimal("300.00"))
    assert _url("dashboard:return_refund", return_request) in response.content.decode()


def test_refund_grants_the_default_amounts_and_leaves_a_manual_payout_pending(agent_client, world):
    return_request = _inspected(world)
    first, second = _lines(return_request)

    response = _post(
        agent_client,
        _url("dashboard:return_refund", return_request),
        {
            f"units_{first.pk}": "2",
            f"amount_{first.pk}": "200.00",
            f"units_{second.pk}": "1",
            f"amount_{second.pk}": "100.00",
            "shipping_amount": "0.00",
            "reason": "As requested",
        },
    )

    assert flash_messages(response) == ["Refund granted."]
    snapshot = _snapshot(return_request)
    assert snapshot["status"] == ReturnStatus.SETTLING
    assert snapshot["refunds"] == [(Decimal("300.00"), RefundState.GRANTED)]
    assert snapshot["executions"] == [(ExecutionState.PENDING, 0)]
    assert [row[3] for row in snapshot["order_lines"]] == [2, 1]
    assert list(RefundLine.objects.order_by("order_line_id").values_list("quantity", "amount")) == [
        (2, Decimal("200.00")),
        (1, Decimal("100.00")),
    ]
    assert _verbs(return_request)[-2:] == ["return_settling", "refund_granted"]
    # The ledger shows the refund and its payment call, with its key and a box for the payout reference.
    execution = RefundExecution.objects.get()
    html = response.content.decode()
    assert execution.idempotency_key in html
    assert _url("dashboard:refund_confirm", return_request, refund_id=execution.refund_id) in html


def test_a_partial_refund_pays_what_staff_entered_and_leaves_the_rest_to_settle(agent_client, world):
    return_request = _inspected(world)
    first, second = _lines(return_request)

    response = _post(
        agent_client,
        _url("dashboard:return_refund", return_request),
        {f"units_{first.pk}": "1", f"amount_{first.pk}": "80.00", f"units_{second.pk}": "0", f"amount_{second.pk}": ""},
    )

    assert flash_messages(response) == ["Refund granted."]
    assert _snapshot(return_request)["refunds"] == [(Decimal("80.00"), RefundState.GRANTED)]
    assert [(d.units, d.amount) for d in response.context["settle"].lines] == [
        (1, Decimal("100.00")),
        (1, Decimal("100.00")),
    ]


def test_an_agent_is_refused_a_refund_above_the_limit_and_nothing_changes(agent_client, world, settings):
    settings.REFUND_AGENT_LIMIT = "250.00"
    return_request = _inspected(world)
    first, second = _lines(return_request)
    before = _snapshot(return_request)

    response = _post(
        agent_client,
        _url("dashboard:return_refund", return_request),
        {
            f"units_{first.pk}": "2",
            f"amount_{first.pk}": "200.00",
            f"units_{second.pk}": "1",
            f"amount_{second.pk}": "100.00",
        },
    )

    assert flash_messages(response) == ["Refunds above 250.00 on one return need a supervisor."]
    assert _snapshot(return_request) == before


def test_a_refund_above_what_was_paid_is_refused_and_nothing_changes(agent_client, world):
    return_request = _inspected(world)
    first, _second = _lines(return_request)
    before = _snapshot(return_request)

    response = _post(
        agent_client,
        _url("dashboard:return_refund", return_request),
        {f"units_{first.pk}": "2", f"amount_{first.pk}": "250.00"},
    )

    assert flash_messages(response) == [
        f"{first.order_line.name}: at most 200.00 more can be refunded; 200.00 was paid for it."
    ]
    assert _snapshot(return_request) == before


def test_confirming_the_manual_payout_pays_the_refund_and_completes_the_return(agent_client, world):
    return_request = _inspected(world)
    return_request_settle(return_request=return_request, actor=world.agent)
    refund = Refund.objects.get()

    response = _post(
        agent_client, _url("dashboard:refund_confirm", return_request, refund_id=refund.pk), {"reference": "TB-7781"}
    )

    assert flash_messages(response) == ["Payout confirmed."]
    snapshot = _snapshot(return_request)
    assert snapshot["status"] == ReturnStatus.COMPLETED
    assert snapshot["refunds"] == [(Decimal("300.00"), RefundState.PAID)]
    execution = RefundExecution.objects.get()
    assert (execution.state, execution.provider_reference, execution.confirmed_by_id) == (
        ExecutionState.SUCCEEDED,
        "TB-7781",
        world.agent.pk,
    )
    assert _verbs(return_request)[-2:] == ["refund_paid", "return_completed"]


def test_confirming_a_payout_without_its_reference_shows_the_form_again_and_changes_nothing(agent_client, world):
    return_request = _inspected(world)
    return_request_settle(return_request=return_request, actor=world.agent)
    refund = Refund.objects.get()
    before = _snapshot(return_request)

    response = agent_client.post(
        _url("dashboard:refund_confirm", return_request, refund_id=refund.pk), {"reference": "  "}
    )

    assert response.status_code == 400
    assert response.context["confirm_form"].errors == {"reference": ["This field is required."]}
    assert _snapshot(return_request) == before


class ScriptedAdapter:
    def __init__(self, *results):
        self.results = list(results)

    def refund(self, execution):
        return self.results.pop(0)


def test_a_failed_payment_is_tried_again_with_the_same_key_and_pays(agent_client, world, monkeypatch):
    RefundGateway.objects.create(
        merchant=world.merchant, adapter=RefundAdapterName.HTTP, endpoint_url="https://shop.example/refunds"
    )
    adapter = ScriptedAdapter(
        AdapterResult.failed("gateway timeout"), AdapterResult(state=ExecutionState.SUCCEEDED, provider_reference="R-1")
    )
    monkeypatch.setattr("returns.services.refunds.adapter_for", lambda execution: adapter)
    return_request = _inspected(world)
    return_request_settle(return_request=return_request, actor=world.agent)
    refund = Refund.objects.get()
    key = RefundExecution.objects.get().idempotency_key
    assert _snapshot(return_request)["status"] == ReturnStatus.ACTION_REQUIRED
    page = agent_client.get(_url("dashboard:return", return_request)).content.decode()
    assert "gateway timeout" in page
    assert key in page

    response = _post(agent_client, _url("dashboard:refund_retry", return_request, refund_id=refund.pk))

    assert flash_messages(response) == ["Payment tried again and made."]
    snapshot = _snapshot(return_request)
    assert snapshot["status"] == ReturnStatus.COMPLETED
    assert snapshot["refunds"] == [(Decimal("300.00"), RefundState.PAID)]
    assert snapshot["executions"] == [(ExecutionState.SUCCEEDED, 2)]
    assert RefundExecution.objects.get().idempotency_key == key


def test_retrying_a_refund_that_did_not_fail_is_refused_and_changes_nothing(agent_client, world):
    return_request = _inspected(world)
    return_request_settle(return_request=return_request, actor=world.agent)
    refund = Refund.objects.get()
    before = _snapshot(return_request)

    response = _post(agent_client, _url("dashboard:refund_retry", return_request, refund_id=refund.pk))

    assert flash_messages(response) == ["Only a failed payment is tried again."]
    assert _snapshot(return_request) == before


def test_a_refund_whose_payment_never_started_is_started_from_the_page_and_pays(agent_client, world, monkeypatch):
    # Given a refund granted whose payment task was lost (granted, never called)
    RefundGateway.objects.create(
        merchant=world.merchant, adapter=RefundAdapterName.HTTP, endpoint_url="https://shop.example/refunds"
    )
    monkeypatch.setattr(
        "returns.services.refunds.adapter_for",
        lambda execution: ScriptedAdapter(AdapterResult(state=ExecutionState.SUCCEEDED, provider_reference="R-9")),
    )
    return_request = _inspected(world)
    refund = refund_grant(return_request=return_request, actor=world.agent)
    page = agent_client.get(_url("dashboard:return", return_request)).content.decode()
    assert "not called yet" in page
    assert _url("dashboard:refund_pay", return_request, refund_id=refund.pk) in page

    # When staff start the payment
    response = _post(agent_client, _url("dashboard:refund_pay", return_request, refund_id=refund.pk))

    # Then it is called once and paid, and the return completes
    assert flash_messages(response) == ["Payment started."]
    snapshot = _snapshot(return_request)
    assert snapshot["status"] == ReturnStatus.COMPLETED
    assert snapshot["refunds"] == [(Decimal("300.00"), RefundState.PAID)]
    assert snapshot["executions"] == [(ExecutionState.SUCCEEDED, 1)]
    assert _url("dashboard:refund_pay", return_request, refund_id=refund.pk) not in response.content.decode()


def test_starting_a_payment_that_already_started_is_refused_and_changes_nothing(agent_client, world):
    # Given a refund whose manual payout is waiting for staff to confirm it
    return_request = _inspected(world)
    return_request_settle(return_request=return_request, actor=world.agent)
    refund = Refund.objects.get()
    before = _snapshot(return_request)
    assert before["executions"] == [(ExecutionState.PENDING, 0)]

    response = _post(agent_client, _url("dashboard:refund_pay", return_request, refund_id=refund.pk))

    assert flash_messages(response) == ["Only a granted refund whose payment never started is started here."]
    assert _snapshot(return_request) == before


def test_a_role_without_refunds_cannot_start_a_payment(client, world):
    return_request = _inspected(world)
    refund = refund_grant(return_request=return_request, actor=world.agent)
    before = _snapshot(return_request)
    client.force_login(world.warehouse)

    response = _post(client, _url("dashboard:refund_pay", return_request, refund_id=refund.pk))

    assert flash_messages(response) == ["Your role does not allow refunds."]
    assert _snapshot(return_request) == before
    assert not RefundExecution.objects.exists()


def test_store_credit_pays_into_the_customers_balance_and_completes_the_return(agent_client, world):
    return_request = _inspected(world, resolution="store_credit")
    first, second = _lines(return_request)
    page = agent_client.get(_url("dashboard:return", return_request))
    assert (page.context["can_refund"], page.context["can_store_credit"]) == (False, True)

    response = _post(
        agent_client,
        _url("dashboard:return_store_credit", return_request),
        {
            f"units_{first.pk}": "2",
            f"amount_{first.pk}": "200.00",
            f"units_{second.pk}": "1",
            f"amount_{second.pk}": "100.00",
        },
    )

    assert flash_messages(response) == ["Store credit granted."]
    snapshot = _snapshot(return_request)
    assert snapshot["status"] == ReturnStatus.COMPLETED
    assert snapshot["refunds"] == [(Decimal("300.00"), RefundState.PAID)]
    assert snapshot["credit"] == 1
    assert StoreCreditEntry.objects.get().balance_after == Decimal("300.00")
    assert _verbs(return_request)[-2:] == ["store_credit_granted", "return_completed"]


def test_shipping_the_replacement_of_an_exchange_completes_it(agent_client, world):
    return_request = _inspected(world, resolution="exchange")
    page = agent_client.get(_url("dashboard:return", return_request))
    assert (page.context["can_exchange"], page.context["settle_form"]) == (True, None)

    response = _post(
        agent_client,
        _url("dashboard:return_exchange_ship", return_request),
        {"carrier": "SF Express", "tracking_number": "SF-OUT-1"},
    )

    assert flash_messages(response) == ["Replacement shipped."]
    snapshot = _snapshot(return_request)
    assert snapshot["status"] == ReturnStatus.COMPLETED
    assert snapshot["replacements"] == 2
    assert [row[4] for row in snapshot["order_lines"]] == [2, 1]
    assert "SF-OUT-1" in response.content.decode()


def test_the_warehouse_is_refused_a_refund_and_nothing_changes(client, world):
    return_request = _inspected(world)
    first, _second = _lines(return_request)
    client.force_login(world.warehouse)
    assert client.get(_url("dashboard:return", return_request)).context["settle_form"] is None
    before = _snapshot(return_request)

    response = _post(
        client,
        _url("dashboard:return_refund", return_request),
        {f"units_{first.pk}": "2", f"amount_{first.pk}": "200.00"},
    )

    assert flash_messages(response) == ["Your role does not allow refunds."]
    assert _snapshot(return_request) == before


# --- a supervisor's decision ------------------------------------------------------------------------------


def _escalated(world):
    return_request = drive(world, submit(world), ReturnStatus.REJECTED)
    return_request_escalate(return_request=return_request, customer=world.customer, note="The seal was intact.")
    return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)


def test_a_supervisor_approves_an_escalated_return(client, world):
    return_request = _escalated(world)
    client.force_login(world.supervisor)
    assert client.get(_url("dashboard:return", return_request)).context["can_decide_escalation"] is True

    response = _post(
        client, _url("dashboard:return_decide_escalation", return_request), {"decision": "approve", "note": "Fair."}
    )

    assert flash_messages(response) == ["Escalation decided: the return is approved."]
    assert _snapshot(return_request)["status"] == ReturnStatus.APPROVED
    assert _verbs(return_request)[-1] == "return_approved"


def test_a_supervisor_rejects_an_escalated_return_finally(client, world):
    return_request = _escalated(world)
    client.force_login(world.supervisor)

    response = _post(
        client, _url("dashboard:return_decide_escalation", return_request), {"decision": "reject", "note": "Worn."}
    )

    assert flash_messages(response) == ["Escalation decided: the return stays rejected, finally."]
    assert _snapshot(return_request)["status"] == ReturnStatus.REJECTED
    event = TicketEvent.objects.filter(ticket_id=return_request.ticket_id, verb="return_rejected").last()
    assert event.data == {"reason": "Worn.", "final": True}


def test_an_agent_is_not_offered_the_escalation_and_is_refused_it(agent_client, world):
    return_request = _escalated(world)
    page = agent_client.get(_url("dashboard:return", return_request))
    assert (page.context["can_decide_escalation"], page.context["can_approve"], page.context["can_reject"]) == (
        False,
        False,
        False,
    )
    before = _snapshot(return_request)

    response = _post(agent_client, _url("dashboard:return_decide_escalation", return_request), {"decision": "approve"})

    assert flash_messages(response) == ["Only a supervisor decides an escalated return."]
    assert _snapshot(return_request) == before


# --- bulk actions on the queue ----------------------------------------------------------------------------


def test_bulk_approve_approves_each_return_it_can_and_says_what_happened_to_each(agent_client, world):
    first = submit(world, quantities=[1, 0])
    second = submit(world, quantities=[0, 1])
    rejected = drive(world, submit(world, quantities=[1, 0]), ReturnStatus.REJECTED)
    outsider = make_world()
    foreign = submit(outsider)
    foreign_before = _snapshot(foreign)

    response = _post(
        agent_client,
        reverse("dashboard:return_bulk"),
        {"action": "approve", "ids": [first.pk, rejected.pk, second.pk, foreign.pk]},
    )

    assert response.redirect_chain == [(reverse("dashboard:returns"), 302)]
    assert flash_messages(response) == [
        (
            f"2 of 4 done. {first.ticket.number}: Approved; "
            f"{rejected.ticket.number}: A return that is Rejected cannot become Approved.; "
            f"{second.ticket.number}: Approved; #{foreign.pk}: no such return"
        )
    ]
    assert [ReturnRequest.objects.get(pk=r.pk).status for r in (first, second, rejected)] == [
        ReturnStatus.APPROVED,
        ReturnStatus.APPROVED,
        ReturnStatus.REJECTED,
    ]
    assert _snapshot(foreign) == foreign_before


def test_bulk_receive_receives_each_parcel_in_full(agent_client, world):
    travelling = in_transit(world, quantities=[1, 0])
    approved = drive(world, submit(world, quantities=[1, 0]), ReturnStatus.APPROVED)
    before = _snapshot(approved)

    response = _post(
        agent_client, reverse("dashboard:return_bulk"), {"action": "receive", "ids": [travelling.pk, approved.pk]}
    )

    assert flash_messages(response) == [
        (
            f"1 of 2 done. {travelling.ticket.number}: Received; {approved.ticket.number}: "
            "A return that is Approved cannot become Received."
        )
    ]
    assert (_snapshot(travelling)["status"], _snapshot(travelling)["lines"]) == (ReturnStatus.RECEIVED, [(1, 0, 0)])
    after = _snapshot(approved)
    # The two returns share the order line, whose received counter the first one moved.
    assert [row[1] for row in after.pop("order_lines")] == [1, 0]
    before.pop("order_lines")
    assert after == before


def test_bulk_without_a_ticked_return_says_so(agent_client, world):
    response = _post(agent_client, reverse("dashboard:return_bulk"), {"action": "approve"})

    assert flash_messages(response) == ["Tick at least one return and pick what to do."]


# --- timers ---------------------------------------------------------------------------------------------


def test_the_return_page_shows_its_timers_due_in_the_merchants_time_zone(agent_client, world):
    world.merchant.timezone = "Asia/Shanghai"
    world.merchant.save(update_fields=["timezone"])
    with time_machine.travel(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), tick=False):
        return_request = submit(world)
        response = agent_client.get(_url("dashboard:return", return_request))

    clocks = response.context["clocks"]
    assert [(c.deadline.kind, c.deadline.state) for c in clocks] == [
        ("return.merchant_response", Deadline.State.PENDING)
    ]
    due = clocks[0].deadline.due_at
    local = timezone.localtime(due, timezone=ZoneInfo("Asia/Shanghai"))
    html = response.content.decode()
    assert "Merchant response" in html
    assert f'datetime="{local.isoformat()}"' in html


# --- the page and who may act -------------------------------------------------------------------------


NEW_ACTIONS = [
    "dashboard:return_tracking",
    "dashboard:return_pickup",
    "dashboard:return_receive",
    "dashboard:return_inspect",
    "dashboard:return_refund",
    "dashboard:return_store_credit",
    "dashboard:return_exchange_ship",
    "dashboard:return_decide_escalation",
]
PAYLOAD = {"carrier": "SF", "tracking_number": "SF1", "reference": "R", "decision": "approve", "note": "x"}


@pytest.mark.parametrize("name", NEW_ACTIONS)
def test_another_merchants_staff_get_404_for_every_new_action(client, world, name):
    return_request = _received(world)
    before = _snapshot(return_request)
    client.force_login(MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN).user)

    response = client.post(_url(name, return_request), PAYLOAD)

    assert response.status_code == 404
    assert _snapshot(return_request) == before


@pytest.mark.parametrize("name", ["dashboard:refund_retry", "dashboard:refund_confirm", "dashboard:refund_pay"])
def test_another_merchants_staff_get_404_for_the_refund_actions(client, world, name):
    return_request = _inspected(world)
    return_request_settle(return_request=return_request, actor=world.agent)
    refund = Refund.objects.get()
    before = _snapshot(return_request)
    client.force_login(MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN).user)

    response = client.post(_url(name, return_request, refund_id=refund.pk), PAYLOAD)

    assert response.status_code == 404
    assert _snapshot(return_request) == before


def test_a_refund_of_another_return_is_a_404(agent_client, world):
    settled = _inspected(world, quantities=[1, 0])
    return_request_settle(return_request=settled, actor=world.agent)
    other = _inspected(world, quantities=[1, 1])
    refund = Refund.objects.get()

    response = agent_client.post(_url("dashboard:refund_confirm", other, refund_id=refund.pk), {"reference": "R"})

    assert response.status_code == 404
    assert RefundExecution.objects.get().state == ExecutionState.PENDING


def test_another_merchants_staff_cannot_scan_or_bulk_our_returns(client, world):
    return_request = in_transit(world)
    before = _snapshot(return_request)
    client.force_login(MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN).user)

    scan = _post(client, reverse("dashboard:return_scan"), {"tracking_number": f"SF{return_request.pk:010d}"})
    bulk = _post(client, reverse("dashboard:return_bulk"), {"action": "receive", "ids": [return_request.pk]})

    assert flash_messages(scan) == ["No return carries this tracking number."]
    assert flash_messages(bulk) == [f"0 of 1 done. #{return_request.pk}: no such return"]
    assert _snapshot(return_request) == before


@pytest.mark.parametrize("name", NEW_ACTIONS)
def test_the_new_actions_take_only_post(agent_client, world, name):
    return_request = _received(world)

    assert agent_client.get(_url(name, return_request)).status_code == 405


# auth and header 3, the return with its lines (and their inspections), its photos, the customer's
# history 2, the timers, the parcels, the refunds with their executions, their allocations, the
# replacements, the order's shipping already refunded
RETURN_WITH_LEDGER_QUERIES = 13


@pytest.mark.parametrize("lines", [(2, 1), (1, 1, 1, 1)])
def test_the_page_of_a_return_with_a_refund_and_an_inspection_costs_a_fixed_number_of_queries(
    agent_client, lines, django_assert_num_queries
):
    world = make_world(quantities=lines)
    agent_client.force_login(world.agent)
    return_request = _inspected(world)
    first = _lines(return_request)[0]
    return_request_settle(
        return_request=return_request, actor=world.agent, lines=[(first.order_line, 1, Decimal("50.00"))]
    )

    with django_assert_num_queries(RETURN_WITH_LEDGER_QUERIES):
        response = agent_client.get(_url("dashboard:return", return_request))

    assert response.status_code == 200
    assert len(response.context["ledger"].refunds) == 1
    assert response.context["inspected"] is True
