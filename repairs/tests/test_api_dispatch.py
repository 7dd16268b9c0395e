"""Dispatch over the API: free windows, booking (and the 409 when taken), a technician's day, the
plan of a day; every endpoint answers only from the key's merchant."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from aftersales.tests.factories import MerchantFactory, api_key_for
from repairs.models import DispatchPolicy, Visit
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def shanghai(day, hour):
    return datetime(2026, 6, day, tzinfo=UTC) + timedelta(hours=hour - 8)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shop(db):
    merchant = MerchantFactory(slug="api-taps", timezone="Asia/Shanghai")
    DispatchPolicy.objects.create(merchant=merchant, visits_per_window=1)
    return merchant


@pytest.fixture
def technician(shop):
    return TechnicianFactory(merchant=shop, calendar=working_calendar(shop))


def client_of(merchant):
    _key, full_key = api_key_for(merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    return client


def test_the_free_windows_of_a_repair_and_of_an_address(clock, shop, technician):
    # given
    repair = OnSiteRepairFactory(merchant=shop)
    client = client_of(shop)

    # when
    for_repair = client.get(f"/api/v1/repairs/{repair.ticket.number}/slots/")
    for_address = client.get("/api/v1/dispatch/slots/", {"postal_code": "200001", "skill": "taps", "days": 2})
    no_address = client.get("/api/v1/dispatch/slots/", {"skill": "taps"})

    # then
    assert for_repair.status_code == 200
    assert len(for_repair.json()) == 67
    assert for_repair.json()[0] == {"start": "2026-06-01T06:00:00Z", "end": "2026-06-01T08:00:00Z"}
    assert [slot["start"] for slot in for_address.json()] == [
        "2026-06-01T06:00:00Z",
        "2026-06-01T08:00:00Z",
        "2026-06-02T00:00:00Z",
        "2026-06-02T02:00:00Z",
        "2026-06-02T04:00:00Z",
        "2026-06-02T06:00:00Z",
        "2026-06-02T08:00:00Z",
    ]
    assert no_address.status_code == 400


def test_booking_over_the_api_and_the_conflict_when_the_window_is_taken(clock, shop, technician):
    # given
    first, second = OnSiteRepairFactory(merchant=shop), OnSiteRepairFactory(merchant=shop)
    client = client_of(shop)

    # when
    booked = client.post(
        f"/api/v1/repairs/{first.ticket.number}/visits/", {"window_start": "2026-06-03T10:00:00+08:00"}, format="json"
    )
    taken = client.post(
        f"/api/v1/repairs/{second.ticket.number}/visits/", {"window_start": "2026-06-03T10:00:00+08:00"}, format="json"
    )

    # then
    assert booked.status_code == 201
    assert (booked.json()["technician"], booked.json()["status"]) == (technician.pk, "booked")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "slot_taken"
    assert Visit.objects.filter(repair=second).count() == 0


def test_a_technicians_day_and_the_days_visits(clock, shop, technician):
    # given
    repair = OnSiteRepairFactory(merchant=shop, serial_number="TAP-0042")
    client = client_of(shop)
    client.post(f"/api/v1/repairs/{repair.ticket.number}/visits/", {"window_start": "2026-06-02T10:00:00+08:00"})

    # when
    day = client.get(f"/api/v1/technicians/{technician.pk}/days/2026-06-02/")
    visits = client.get("/api/v1/dispatch/days/2026-06-02/visits/")
    bad_day = client.get(f"/api/v1/technicians/{technician.pk}/days/2026-13-40/")

    # then
    assert day.status_code == 200
    [visit] = day.json()
    assert (visit["repair"], visit["serial_number"], visit["window_start"]) == (
        repair.ticket.number,
        "TAP-0042",
        "2026-06-02T02:00:00Z",
    )
    assert [v["id"] for v in visits.json()] == [visit["id"]]
    assert bad_day.status_code == 404


def test_planning_a_day_over_the_api_needs_a_supervisor_key_user(clock, shop, technician):
    # given: the API key's integration user is no supervisor
    client = client_of(shop)

    # when
    refused = client.post("/api/v1/dispatch/days/2026-06-02/plan/")

    # then
    assert refused.status_code == 403


def test_one_merchant_never_sees_another_merchants_dispatch(clock, shop, technician):
    # given: a repair, a visit and a technician of another merchant
    other = MerchantFactory(slug="api-other", timezone="Asia/Shanghai")
    other_technician = TechnicianFactory(merchant=other, calendar=working_calendar(other))
    other_repair = OnSiteRepairFactory(merchant=other)
    other_client = client_of(other)
    other_client.post(
        f"/api/v1/repairs/{other_repair.ticket.number}/visits/", {"window_start": "2026-06-02T10:00:00+08:00"}
    )
    client = client_of(shop)

    # then
    assert client.get(f"/api/v1/repairs/{other_repair.ticket.number}/slots/").status_code == 404
    assert (
        client.post(
            f"/api/v1/repairs/{other_repair.ticket.number}/visits/", {"window_start": "2026-06-03T10:00:00+08:00"}
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/technicians/{other_technician.pk}/days/2026-06-02/").status_code == 404
    assert client.get("/api/v1/dispatch/days/2026-06-02/visits/").json() == []
    # the other merchant's technician serves 200001 too, yet is never offered to this shop
    technician.is_active = False
    technician.save()
    assert client.get("/api/v1/dispatch/slots/", {"postal_code": "200001", "skill": "taps"}).json() == []
