"""The repairs API: open, read, list, act; each merchant sees only its own repairs; refusals come
back with their stable code."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from aftersales.models import Notification, WebhookEndpoint
from aftersales.tests.factories import api_key_for
from repairs.models import RepairOrder, RepairStatus
from repairs.tests.builders import build_world, request_repair

SHANGHAI = ZoneInfo("Asia/Shanghai")
A_MONTH_ON = datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI)


def api_client(merchant) -> APIClient:
    _key, full_key = api_key_for(merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    return client


@pytest.fixture
def month_on():
    with time_machine.travel(A_MONTH_ON, tick=False):
        yield


@pytest.mark.usefixtures("month_on")
def test_an_integration_opens_a_repair_for_a_registered_serial_and_reads_it_with_its_coverage(world):
    client = api_client(world.merchant)

    created = client.post(
        "/api/v1/repairs/",
        {"serial_number": "TAP-0001", "mode": "mail_in", "fault_description": "Sprays water"},
        format="json",
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "requested"
    assert body["serial_number"] == "TAP-0001"
    coverages = {c["kind"] + c["component"]: c["covered"] for c in body["eligibility"]["coverages"]}
    assert coverages == {"parts": True, "labour": True, "travel": True, "componentcartridge": True}
    listed = client.get("/api/v1/repairs/").json()
    assert [row["number"] for row in listed["results"]] == [body["number"]]


@pytest.mark.usefixtures("month_on")
def test_each_staff_action_is_its_own_endpoint_and_a_refused_one_answers_409_with_its_code(world):
    client = api_client(world.merchant)
    repair = request_repair(world)
    number = repair.ticket.number

    triaged = client.post(f"/api/v1/repairs/{number}/triage/", {}, format="json")
    refused = client.post(f"/api/v1/repairs/{number}/qc/", {"passed": True}, format="json")
    received = client.post(f"/api/v1/repairs/{number}/device-received/", {}, format="json")

    assert triaged.status_code == 200
    assert triaged.json()["status"] == "awaiting_device"
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_in_repair"
    assert received.json()["status"] == "device_received"
    assert RepairOrder.objects.get(pk=repair.pk).status == RepairStatus.DEVICE_RECEIVED


@pytest.mark.usefixtures("month_on")
def test_bad_input_is_a_400_not_a_500(world):
    client = api_client(world.merchant)

    unknown_serial = client.post(
        "/api/v1/repairs/", {"serial_number": "NOPE", "mode": "mail_in", "fault_description": "x"}, format="json"
    )
    no_unit = client.post("/api/v1/repairs/", {"mode": "mail_in", "fault_description": "x"}, format="json")

    assert unknown_serial.status_code == 400
    assert unknown_serial.json()["error"]["code"] == "unknown_serial"
    assert no_unit.status_code == 400


@pytest.mark.usefixtures("month_on")
def test_one_merchant_never_sees_or_acts_on_another_merchants_repairs(world):
    other = build_world(slug="other-shop", serial="OTHER-1")
    theirs = request_repair(other)
    client = api_client(world.merchant)
    number = theirs.ticket.number

    assert client.get(f"/api/v1/repairs/{number}/").status_code == 404
    assert client.post(f"/api/v1/repairs/{number}/triage/", {}, format="json").status_code == 404
    assert client.get("/api/v1/repairs/").json()["results"] == []
    stolen = client.post(
        "/api/v1/repairs/", {"serial_number": "OTHER-1", "mode": "mail_in", "fault_description": "x"}, format="json"
    )
    assert stolen.status_code == 400
    assert RepairOrder.objects.get(pk=theirs.pk).status == RepairStatus.REQUESTED


@pytest.mark.usefixtures("month_on")
def test_every_status_change_queues_a_signed_webhook(world):
    WebhookEndpoint.objects.create(
        merchant=world.merchant, url="https://erp.example.com/hook", secret="s3cret", events=["repair.status_changed"]
    )
    client = api_client(world.merchant)
    repair = request_repair(world)

    client.post(f"/api/v1/repairs/{repair.ticket.number}/triage/", {}, format="json")

    hooks = Notification.objects.filter(channel="webhook", merchant=world.merchant).order_by("pk")
    assert [(h.context["data"]["repair"]["previous_status"], h.context["data"]["repair"]["status"]) for h in hooks] == [
        ("", "requested"),
        ("requested", "in_warranty"),
        ("in_warranty", "awaiting_device"),
    ]
