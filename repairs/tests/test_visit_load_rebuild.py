"""The load counters kept true when something bypassed the dispatch services: ``manage.py
rebuild_visit_loads`` reports the drift (``--check`` changes nothing and fails), rebuilds it, and
keeps to one merchant with ``--merchant``; the Visit admin cannot change what the counters count."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.models import TechnicianDayLoad, TechnicianWindowLoad, Visit
from repairs.selectors.loads import technician_load_drift
from repairs.services.dispatch import visit_assign, visit_book
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar

NOW = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
WINDOW = datetime(2026, 6, 2, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def booked_shop(slug):
    shop = MerchantFactory(slug=slug, timezone="Asia/Shanghai")
    calendar = working_calendar(shop)
    anna = TechnicianFactory(merchant=shop, calendar=calendar)
    bo = TechnicianFactory(merchant=shop, calendar=calendar)
    supervisor = UserFactory()
    MembershipFactory(merchant=shop, user=supervisor, role=Membership.Role.SUPERVISOR)
    visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=WINDOW, actor_user=supervisor)
    visit = visit_assign(visit=visit, actor=supervisor, technician=anna)
    return shop, anna, bo, visit


def counters(shop):
    windows = {
        (row.technician_id, row.window_start): row.visits
        for row in TechnicianWindowLoad.objects.filter(merchant=shop)
        if row.visits
    }
    days = {
        (row.technician_id, row.day): row.visits
        for row in TechnicianDayLoad.objects.filter(merchant=shop)
        if row.visits
    }
    return windows, days


def run(*args):
    out = StringIO()
    call_command("rebuild_visit_loads", *args, stdout=out)
    return out.getvalue()


@pytest.mark.usefixtures("clock")
def test_check_reports_a_drift_left_by_a_queryset_update_and_changes_nothing(db):
    shop, anna, bo, visit = booked_shop("drift-shop")
    Visit.objects.filter(pk=visit.pk).update(technician=bo)  # bypasses the services
    before = counters(shop)

    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("rebuild_visit_loads", "--check", stdout=out)

    assert str(failed.value) == "1 merchant(s) with drifted load counters; run without --check to rebuild."
    report = out.getvalue()
    assert f"merchant {shop.pk} (drift-shop): 2 window and 2 day counters drifted" in report
    assert f"  window technician={anna.pk} 2026-06-02T02:00:00+00:00: stored 1, counted 0" in report
    assert f"  window technician={bo.pk} 2026-06-02T02:00:00+00:00: stored 0, counted 1" in report
    assert f"  day technician={bo.pk} 2026-06-02: stored 0, counted 1" in report
    assert counters(shop) == before == ({(anna.pk, WINDOW): 1}, {(anna.pk, WINDOW.date()): 1})


@pytest.mark.usefixtures("clock")
def test_the_command_rebuilds_the_drifted_counters_and_check_then_passes(db):
    shop, _anna, bo, visit = booked_shop("drift-shop")
    Visit.objects.filter(pk=visit.pk).update(technician=bo)

    report = run()
    again = run("--check")

    assert f"merchant {shop.pk} (drift-shop): rebuilt, 1 window counters written" in report
    assert counters(shop) == ({(bo.pk, WINDOW): 1}, {(bo.pk, WINDOW.date()): 1})
    assert technician_load_drift(shop) == []
    assert again == f"merchant {shop.pk} (drift-shop): counters true\n"


@pytest.mark.usefixtures("clock")
def test_a_cancelled_visit_updated_in_bulk_is_no_longer_counted_after_the_rebuild(db):
    shop, _anna, _bo, visit = booked_shop("drift-shop")
    Visit.objects.filter(pk=visit.pk).update(status="cancelled")

    run()

    assert counters(shop) == ({}, {})
    assert technician_load_drift(shop) == []


@pytest.mark.usefixtures("clock")
def test_merchant_limits_the_rebuild_to_one_merchant(db):
    shop, _anna, _bo, visit = booked_shop("drift-shop")
    other, other_anna, _other_bo, other_visit = booked_shop("other-shop")
    Visit.objects.filter(pk__in=[visit.pk, other_visit.pk]).update(technician=None)

    report = run("--merchant", str(shop.pk))

    assert "other-shop" not in report
    assert counters(shop) == ({}, {})
    assert counters(other) == ({(other_anna.pk, WINDOW): 1}, {(other_anna.pk, WINDOW.date()): 1})
    assert len(technician_load_drift(other)) == 2


def test_an_unknown_merchant_is_a_clear_error(db):
    with pytest.raises(CommandError, match=r"No merchant with id 999999\."):
        run("--merchant", "999999")


@pytest.mark.usefixtures("clock")
def test_the_visit_admin_keeps_the_counted_fields_read_only_and_cannot_add_or_delete(admin_client):
    shop, anna, bo, visit = booked_shop("admin-shop")
    url = reverse("admin:repairs_visit_change", args=[visit.pk])
    page = admin_client.get(url)
    before = counters(shop)

    posted = admin_client.post(
        url,
        {
            "technician": bo.pk,
            "status": "cancelled",
            "window_start_0": "2026-06-03",
            "window_start_1": "10:00:00",
            "planned_start_0": "",
            "planned_start_1": "",
            "pinned": "on",
            "confirmation_code": visit.confirmation_code,
            "work_note": "edited",
        },
    )
    added = admin_client.get(reverse("admin:repairs_visit_add"))
    deleted = admin_client.post(reverse("admin:repairs_visit_delete", args=[visit.pk]), {"post": "yes"})

    assert page.status_code == 200
    assert 'name="technician"' not in page.content.decode()
    assert 'name="window_start_0"' not in page.content.decode()
    assert 'name="status"' not in page.content.decode()
    visit_after = Visit.objects.get(pk=visit.pk)
    assert (visit_after.technician_id, visit_after.status, visit_after.window_start) == (anna.pk, "booked", WINDOW)
    assert posted.status_code in (200, 302)
    assert (added.status_code, deleted.status_code) == (403, 403)
    assert Visit.objects.filter(pk=visit.pk).exists()
    assert counters(shop) == before
    assert technician_load_drift(shop) == []
