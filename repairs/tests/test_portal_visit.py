"""The customer picks the technician's visit in the portal: free windows by day, a booking, the
"taken, here are the next ones" answer, moving and cancelling; another customer's repair is a 404."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from aftersales.portal import PORTAL_SESSION_KEY
from aftersales.tests.factories import OrderFactory
from repairs.models import DispatchPolicy, RepairStatus, Visit, VisitStatus
from repairs.services.dispatch import visit_book
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def shanghai(day, hour):
    return datetime(2026, 6, day, tzinfo=UTC) + timedelta(hours=hour - 8)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def repair(db):
    repair = OnSiteRepairFactory(merchant__slug="portal-taps", merchant__timezone="Asia/Shanghai")
    DispatchPolicy.objects.create(merchant=repair.merchant, visits_per_window=1)
    TechnicianFactory(merchant=repair.merchant, calendar=working_calendar(repair.merchant))
    return repair


def portal_client(repair):
    """A browser whose session proved an order of the repair's customer."""
    order = OrderFactory(merchant=repair.merchant, customer=repair.customer)
    client = Client()
    session = client.session
    session[PORTAL_SESSION_KEY] = {
        str(repair.merchant_id): {
            "order_ids": [order.pk],
            "customer_ids": [repair.customer_id],
            "expires_at": time.time() + 3600,
        }
    }
    session.save()
    return client


def url(repair, suffix=""):
    return f"/portal/{repair.merchant.slug}/repairs/{repair.ticket.number}/visit/{suffix}"


def test_the_customer_sees_free_windows_by_day_and_books_one(clock, repair):
    # given
    client = portal_client(repair)

    # when
    page = client.get(url(repair))
    booked = client.post(url(repair), {"window_start": shanghai(3, 10).isoformat()})

    # then
    assert page.status_code == 200
    days = page.context["days"]
    assert len(days) == 14
    assert [slot["start"].hour for slot in days[0][1]] == [14, 16]
    assert booked.status_code == 302
    visit = Visit.objects.get(repair=repair)
    assert (visit.window_start, visit.status) == (shanghai(3, 10), VisitStatus.BOOKED)
    repair.refresh_from_db()
    assert repair.status == RepairStatus.SCHEDULED


def test_a_window_taken_meanwhile_answers_with_the_next_free_ones(clock, repair):
    # given: another customer took the only place at 10:00 on the 3rd while this one was choosing
    client = portal_client(repair)
    visit_book(repair=OnSiteRepairFactory(merchant=repair.merchant), window_start=shanghai(3, 10))

    # when
    answer = client.post(url(repair), {"window_start": shanghai(3, 10).isoformat()})

    # then
    assert answer.status_code == 409
    assert "That time was just taken." in answer.content.decode()
    offered = [slot for _day, slots in answer.context["days"] for slot in slots if slot["next"]]
    assert [slot["start"].strftime("%d %H") for slot in offered] == ["01 14", "01 16", "02 08"]
    assert not Visit.objects.filter(repair=repair).exists()


def test_the_customer_moves_then_cancels_the_visit(clock, repair):
    # given
    client = portal_client(repair)
    client.post(url(repair), {"window_start": shanghai(3, 10).isoformat()})

    # when
    client.post(url(repair), {"window_start": shanghai(4, 14).isoformat()})
    moved = Visit.objects.get(repair=repair, status=VisitStatus.BOOKED)
    client.post(url(repair, "cancel/"))

    # then
    assert moved.window_start == shanghai(4, 14)
    assert list(Visit.objects.filter(repair=repair).order_by("pk").values_list("status", "cancelled_by")) == [
        ("cancelled", "customer"),
        ("cancelled", "customer"),
    ]


def test_a_time_that_is_not_offered_is_a_clear_error_not_a_500(clock, repair):
    client = portal_client(repair)
    assert client.post(url(repair), {"window_start": "tomorrow"}).status_code == 400
    assert client.post(url(repair), {"window_start": "2026-06-03T10:00:00"}).status_code == 400
    assert client.post(url(repair), {"window_start": shanghai(3, 11).isoformat()}).status_code == 409
    assert not Visit.objects.filter(repair=repair).exists()


def test_another_customers_repair_is_not_found(clock, repair):
    # given: a repair of another customer of the same shop
    stranger = OnSiteRepairFactory(merchant=repair.merchant)
    client = portal_client(repair)

    # then
    assert client.get(url(stranger)).status_code == 404
    assert client.post(url(stranger), {"window_start": shanghai(3, 10).isoformat()}).status_code == 404
    assert not Visit.objects.filter(repair=stranger).exists()
