"""The returns API: open, list and read returns, each staff action, and refunds that an
``Idempotency-Key`` makes safe to retry — sequentially and from twenty threads at once."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from aftersales.models import IdempotencyRecord, OrderLine
from aftersales.tests.factories import CustomerFactory, OrderLineFactory, api_key_for
from aftersales.tests.races import race_errors
from returns.models import (
    ExecutionState,
    Refund,
    RefundExecution,
    ReplacementShipment,
    ReturnRequest,
    ReturnStatus,
    StoreCreditEntry,
)
from returns.tests.builders import (
    World,
    api_client,
    drive,
    every_resolution_world,
    inspect_all,
    make_order,
    make_world,
    return_snapshot,
    submit,
    url,
)
from tickets.models import TicketChannel


def status_of(return_request: ReturnRequest) -> str:
    return ReturnRequest.objects.get(pk=return_request.pk).status


# --- list and read -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_the_merchants_returns_newest_first_and_filters_them():
    # Given two returns of one order (one approved) and one of another customer's order
    world = every_resolution_world()
    first = submit(world, quantities=[1, 0])
    second = drive(world, submit(world, quantities=[1, 0], resolution="store_credit"), ReturnStatus.APPROVED)
    other_customer = CustomerFactory(merchant=world.merchant)
    other_order = make_order(world.merchant, other_customer)
    OrderLineFactory(order=other_order, line_number="1", quantity=1, unit_price=Decimal("50.00"))
    third = submit(world, order=other_order, quantities=[1])
    client = api_client(world.merchant)

    def numbers(**params):
        response = client.get(url("return-list"), params)
        assert response.status_code == 200
        return [row["number"] for row in response.json()["results"]]

    # Then the list is newest first, and each filter narrows it
    assert numbers() == [third.ticket.number, second.ticket.number, first.ticket.number]
    assert numbers(status="approved") == [second.ticket.number]
    assert numbers(status=["approved", "submitted"]) == [third.ticket.number, second.ticket.number, first.ticket.number]
    assert numbers(status="submitted") == [third.ticket.number, first.ticket.number]
    assert numbers(resolution="store_credit") == [second.ticket.number]
    assert numbers(order_number=other_order.external_number) == [third.ticket.number]
    assert numbers(customer=world.customer.pk) == [second.ticket.number, first.ticket.number]
    row = client.get(url("return-list"), {"status": "approved"}).json()["results"][0]
    assert row["status"] == "approved"
    assert row["order"] == {"id": world.order.pk, "number": world.order.external_number, "currency": "CNY"}
    assert row["reason"] == "changed_mind"


@pytest.mark.django_db
def test_the_list_pages_by_cursor():
    world = every_resolution_world(quantities=(3,))
    made = [submit(world, quantities=[1]) for _ in range(3)]
    client = api_client(world.merchant)

    page_one = client.get(url("return-list"), {"page_size": 2}).json()
    page_two = client.get(page_one["next"]).json()

    assert [row["number"] for row in page_one["results"]] == [made[2].ticket.number, made[1].ticket.number]
    assert [row["number"] for row in page_two["results"]] == [made[0].ticket.number]
    assert page_two["next"] is None


@pytest.mark.django_db
def test_another_merchants_key_sees_no_return_and_gets_404_on_each_one():
    # Given a return of one merchant and a key of another
    world = every_resolution_world()
    return_request = submit(world)
    stranger = api_client(make_world().merchant)
    before = return_snapshot(return_request)

    # Then the list is empty, reading is a 404, and every action is a 404 that changes nothing
    assert stranger.get(url("return-list")).json()["results"] == []
    assert stranger.get(url("return-detail", return_request)).status_code == 404
    bodies = {
        "return-approve": {},
        "return-reject": {"reason": "No."},
        "return-receive": {},
        "return-inspect": {"lines": [{"return_line": 1, "accepted": 1, "rejected": 0, "grade": "good"}]},
        "return-refund": {},
        "return-store-credit": {},
        "return-exchange": {"carrier": "SF", "tracking_number": "SF1"},
        "return-cancel": {},
    }
    for name, body in bodies.items():
        response = stranger.post(url(name, return_request), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert response.status_code == 404, name
        assert response.json()["error"]["code"] == "not_found"
    assert return_snapshot(return_request) == before
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_the_detail_shows_lines_terms_shipments_and_timers():
    world = every_resolution_world()
    return_request = drive(world, submit(world, quantities=[2, 1]), ReturnStatus.IN_TRANSIT)
    client = api_client(world.merchant)

    body = client.get(url("return-detail", return_request)).json()

    assert body["number"] == return_request.ticket.number
    assert body["status"] == "in_transit"
    assert [(line["order_line"], line["quantity"], line["unit_refund_amount"]) for line in body["lines"]] == [
        (world.lines[0].pk, 2, "100.00"),
        (world.lines[1].pk, 1, "100.00"),
    ]
    assert body["lines"][0]["terms"]["rule"] == "Everything"
    assert set(body["terms"]) == {str(world.lines[0].pk), str(world.lines[1].pk)}
    assert [(s["direction"], s["carrier"], s["method"]) for s in body["shipments"]] == [
        ("to_merchant", "SF Express", "drop_off")
    ]
    assert body["refunds"] == []
    assert {timer["kind"] for timer in body["timers"]} >= {"return.customer_ship"}


# --- create --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_integration_opens_a_return_for_an_order():
    world = every_resolution_world()
    client = api_client(world.merchant)

    response = client.post(
        url("return-list"),
        {
            "order": world.order.pk,
            "lines": [{"order_line": world.lines[0].pk, "quantity": 2}],
            "reason": "changed_mind",
            "resolution": "refund",
            "note": "Too small.",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "submitted"
    assert body["resolution"] == "refund"
    assert body["customer"]["id"] == world.customer.pk
    assert [(line["order_line"], line["quantity"]) for line in body["lines"]] == [(world.lines[0].pk, 2)]
    return_request = ReturnRequest.objects.get(ticket__number=body["number"])
    assert return_request.ticket.channel == TicketChannel.API
    assert OrderLine.objects.get(pk=world.lines[0].pk).quantity_requested == 2


@pytest.mark.django_db
def test_opening_a_return_retried_with_one_idempotency_key_opens_one_return_with_one_answer():
    # Given an order line of 3 units, so that every retry would be allowed a return of its own
    world = every_resolution_world()
    client = api_client(world.merchant)
    body = {
        "order": world.order.pk,
        "lines": [{"order_line": world.lines[0].pk, "quantity": 1}],
        "reason": "changed_mind",
        "resolution": "refund",
    }

    # When the integration sends it three times under one key (it never saw the first answer)
    answers = [client.post(url("return-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="open-A100") for _ in range(3)]
    # and once under the same key with another body
    other = client.post(
        url("return-list"), {**body, "resolution": "store_credit"}, format="json", HTTP_IDEMPOTENCY_KEY="open-A100"
    )

    # Then one return was opened, every retry got its answer, and the other body was refused
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert answers[1].json() == answers[2].json() == answers[0].json()
    assert [answer.headers.get("Idempotent-Replayed") for answer in answers] == [None, "true", "true"]
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert ReturnRequest.objects.get().ticket.number == answers[0].json()["number"]
    assert OrderLine.objects.get(pk=world.lines[0].pk).quantity_requested == 1
    assert IdempotencyRecord.objects.filter(endpoint="returns.create").count() == 1


@pytest.mark.django_db
def test_opening_a_return_is_refused_for_an_unknown_reason_another_merchants_order_or_too_many_units():
    world = every_resolution_world()
    stranger_order = make_world().order
    client = api_client(world.merchant)
    body = {
        "order": world.order.pk,
        "lines": [{"order_line": world.lines[0].pk, "quantity": 1}],
        "reason": "changed_mind",
        "resolution": "refund",
    }

    refusals = [
        client.post(url("return-list"), {**body, "reason": "nope"}, format="json"),
        client.post(url("return-list"), {**body, "order": stranger_order.pk}, format="json"),
        client.post(
            url("return-list"),
            {**body, "lines": [{"order_line": stranger_order.lines.first().pk, "quantity": 1}]},
            format="json",
        ),
        client.post(
            url("return-list"), {**body, "lines": [{"order_line": world.lines[0].pk, "quantity": 3}]}, format="json"
        ),
    ]

    assert [(r.status_code, r.json()["error"]["code"]) for r in refusals] == [
        (400, "unknown_reason"),
        (400, "unknown_order"),
        (400, "lines_not_on_order"),
        (400, "quantity_exceeds_returnable"),
    ]
    assert ReturnRequest.objects.count() == 0
    assert OrderLine.objects.get(pk=world.lines[0].pk).quantity_requested == 0


# --- actions -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approve_then_a_second_approve_is_refused_with_409_and_changes_nothing():
    world = every_resolution_world()
    return_request = submit(world)
    client = api_client(world.merchant)

    response = client.post(url("return-approve", return_request), {"note": "Fine."}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert {timer["kind"] for timer in response.json()["timers"]} >= {"return.customer_ship"}
    before = return_snapshot(return_request)
    again = client.post(url("return-approve", return_request), {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "transition_not_allowed"
    assert return_snapshot(return_request) == before


@pytest.mark.django_db
def test_reject_needs_a_reason_and_then_rejects():
    world = every_resolution_world()
    return_request = submit(world)
    client = api_client(world.merchant)
    before = return_snapshot(return_request)

    missing = client.post(url("return-reject", return_request), {"reason": ""}, format="json")
    assert missing.status_code == 400
    assert return_snapshot(return_request) == before

    response = client.post(url("return-reject", return_request), {"reason": "The seal is broken."}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["rejection_reason"] == "The seal is broken."


@pytest.mark.django_db
def test_receive_counts_units_in_and_is_refused_before_the_parcel_is_sent():
    world = every_resolution_world()
    waiting = submit(world, quantities=[1, 0])
    travelling = drive(world, submit(world, quantities=[1, 1]), ReturnStatus.IN_TRANSIT)
    client = api_client(world.merchant)
    before = return_snapshot(waiting)

    refused = client.post(url("return-receive", waiting), {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "transition_not_allowed"
    assert return_snapshot(waiting) == before

    lines = list(travelling.lines.order_by("pk"))
    response = client.post(
        url("return-receive", travelling),
        {"lines": [{"return_line": lines[0].pk, "quantity": 1}, {"return_line": lines[1].pk, "quantity": 0}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "received"
    assert [line["quantity_received"] for line in body["lines"]] == [1, 0]
    assert OrderLine.objects.get(pk=world.lines[0].pk).quantity_received == 1


@pytest.mark.django_db
def test_inspect_records_grades_and_accepted_units():
    world = every_resolution_world()
    return_request = drive(world, submit(world, quantities=[2, 0]), ReturnStatus.RECEIVED)
    client = api_client(world.merchant)
    line = return_request.lines.get()

    response = client.post(
        url("return-inspect", return_request),
        {"lines": [{"return_line": line.pk, "accepted": 1, "rejected": 1, "grade": "good", "disposition": "restock"}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "inspected"
    assert body["lines"][0]["quantity_accepted"] == 1
    assert body["lines"][0]["quantity_rejected"] == 1
    assert body["lines"][0]["inspection"]["grade"] == "good"
    assert OrderLine.objects.get(pk=world.lines[0].pk).quantity_accepted == 1


@pytest.mark.django_db
def test_refund_settles_the_accepted_units_and_opens_one_payment_call():
    world = every_resolution_world()
    return_request = drive(world, submit(world, quantities=[2, 0]), ReturnStatus.RECEIVED)
    from returns.services import return_request_inspect

    return_request_inspect(return_request=return_request, actor=world.warehouse, lines=inspect_all(return_request))
    client = api_client(world.merchant)

    response = client.post(url("return-refund", return_request), {"reason": "Returned."}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "settling"
    assert [(r["method"], r["amount"], r["state"]) for r in body["refunds"]] == [
        ("original_payment", "200.00", "granted")
    ]
    assert body["refunds"][0]["execution"]["adapter"] == "manual"
    assert body["refunds"][0]["execution"]["state"] == "pending"
    assert OrderLine.objects.get(pk=world.lines[0].pk).quantity_refunded == 2


@pytest.mark.django_db
def test_refund_before_the_items_are_back_is_refused_and_changes_nothing():
    world = every_resolution_world()
    return_request = drive(world, submit(world), ReturnStatus.APPROVED)
    client = api_client(world.merchant)
    before = return_snapshot(return_request)

    response = client.post(url("return-refund", return_request), {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "items_not_back"
    assert return_snapshot(return_request) == before
    assert RefundExecution.objects.count() == 0


@pytest.mark.django_db
def test_store_credit_pays_into_the_customers_balance_and_completes_the_return():
    world = every_resolution_world()
    return_request = drive(world, submit(world, quantities=[1, 0], resolution="store_credit"), ReturnStatus.RECEIVED)
    client = api_client(world.merchant)

    response = client.post(url("return-store-credit", return_request), {}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "completed"
    assert [(r["method"], r["amount"], r["state"], r["execution"]) for r in body["refunds"]] == [
        ("store_credit", "100.00", "paid", None)
    ]
    assert list(StoreCreditEntry.objects.values_list("amount", "balance_after")) == [
        (Decimal("100.00"), Decimal("100.00"))
    ]


@pytest.mark.django_db
def test_exchange_ships_a_replacement_and_completes_the_return():
    world = every_resolution_world()
    return_request = drive(world, submit(world, quantities=[2, 0], resolution="exchange"), ReturnStatus.RECEIVED)
    client = api_client(world.merchant)

    response = client.post(
        url("return-exchange", return_request),
        {
            "lines": [{"order_line": world.lines[0].pk, "quantity": 2, "sku": "SKU-L"}],
            "carrier": "SF Express",
            "tracking_number": "SF900",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "completed"
    assert [(r["sku"], r["quantity"], r["tracking_number"]) for r in body["replacements"]] == [("SKU-L", 2, "SF900")]
    assert OrderLine.objects.get(pk=world.lines[0].pk).quantity_exchanged == 2


@pytest.mark.django_db
def test_cancel_withdraws_the_return_and_frees_its_units():
    world = every_resolution_world()
    return_request = submit(world)
    client = api_client(world.merchant)

    response = client.post(url("return-cancel", return_request), format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert list(OrderLine.objects.filter(order=world.order).values_list("quantity_requested", flat=True)) == [0, 0]
    again = client.post(url("return-cancel", return_request), format="json")
    assert again.status_code == 409


# --- idempotency ---------------------------------------------------------------------------------


def received_return(world: World) -> ReturnRequest:
    return drive(world, submit(world, quantities=[2, 0]), ReturnStatus.RECEIVED)


@pytest.mark.django_db
def test_a_refund_replayed_twenty_times_with_one_key_is_one_refund_with_one_answer():
    world = every_resolution_world()
    return_request = received_return(world)
    client = api_client(world.merchant)
    body = {"reason": "Returned.", "lines": [{"order_line": world.lines[0].pk, "quantity": 2, "amount": "200.00"}]}

    responses = [
        client.post(url("return-refund", return_request), body, format="json", HTTP_IDEMPOTENCY_KEY="order-77-refund")
        for _ in range(20)
    ]

    assert {response.status_code for response in responses} == {201}
    assert len({response.content for response in responses}) == 1
    assert [response.headers.get("Idempotent-Replayed") for response in responses] == [None] + ["true"] * 19
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("200.00")]
    execution = RefundExecution.objects.get()
    assert execution.idempotency_key.startswith("pay:")
    assert responses[0].json()["refunds"][0]["execution"]["idempotency_key"] == execution.idempotency_key
    assert OrderLine.objects.get(pk=world.lines[0].pk).quantity_refunded == 2
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.response_status) == ("order-77-refund", 201)
    assert record.endpoint == f"returns.refund:{return_request.ticket.number}"


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_with_422_and_changes_nothing():
    world = every_resolution_world()
    return_request = received_return(world)
    client = api_client(world.merchant)
    first = client.post(
        url("return-refund", return_request), {"reason": "Returned."}, format="json", HTTP_IDEMPOTENCY_KEY="k-9"
    )
    assert first.status_code == 201
    before = return_snapshot(return_request)

    other_body = client.post(
        url("return-refund", return_request), {"reason": "Other."}, format="json", HTTP_IDEMPOTENCY_KEY="k-9"
    )
    other_endpoint = client.post(
        url("return-store-credit", return_request), {"reason": "Returned."}, format="json", HTTP_IDEMPOTENCY_KEY="k-9"
    )

    for response in (other_body, other_endpoint):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert return_snapshot(return_request) == before
    assert RefundExecution.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_under_a_key_is_the_answer_to_its_retries():
    world = every_resolution_world()
    return_request = drive(world, submit(world), ReturnStatus.APPROVED)
    client = api_client(world.merchant)

    responses = [
        client.post(url("return-refund", return_request), {}, format="json", HTTP_IDEMPOTENCY_KEY="early")
        for _ in range(3)
    ]

    assert [response.status_code for response in responses] == [409, 409, 409]
    assert len({response.content for response in responses}) == 1
    assert responses[0].json()["error"]["code"] == "items_not_back"
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_a_key_that_is_too_long_is_refused():
    world = every_resolution_world()
    return_request = received_return(world)
    client = api_client(world.merchant)

    response = client.post(url("return-refund", return_request), {}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert Refund.objects.count() == 0


@pytest.mark.django_db
def test_keys_are_per_merchant():
    # Given two merchants whose integrations happen to use the same key
    one, two = every_resolution_world(), every_resolution_world()
    first, second = received_return(one), received_return(two)

    a = api_client(one.merchant).post(url("return-refund", first), {}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    b = api_client(two.merchant).post(url("return-refund", second), {}, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert (a.status_code, b.status_code) == (201, 201)
    assert Refund.objects.count() == 2
    assert RefundExecution.objects.values("idempotency_key").distinct().count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("races")  # twenty connections: one race at a time
def test_twenty_concurrent_retries_of_one_refund_give_one_refund_one_execution_and_one_answer():
    world = every_resolution_world()
    return_request = received_return(world)
    _key, full_key = api_key_for(world.merchant, name="Shop sync")
    target = url("return-refund", return_request)
    clients = [APIClient() for _ in range(20)]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    answers: list[tuple[int, bytes]] = []

    def retry(index: int) -> None:
        response = clients[index].post(target, {"reason": "Returned."}, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
        answers.append((response.status_code, response.content))  # list.append is atomic

    assert race_errors(20, retry) == []
    assert len(answers) == 20
    assert {status for status, _content in answers} == {201}
    assert len({content for _status, content in answers}) == 1
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("200.00")]
    assert list(RefundExecution.objects.values_list("state", flat=True)) == [ExecutionState.PENDING]
    assert OrderLine.objects.get(pk=world.lines[0].pk).quantity_refunded == 2
    assert IdempotencyRecord.objects.count() == 1
    assert ReplacementShipment.objects.count() == 0
