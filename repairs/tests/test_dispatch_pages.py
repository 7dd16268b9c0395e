"""The dispatch board (supervisors) and the technician's day, through the dashboard."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.models import Visit
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
def shop(db):
    return MerchantFactory(slug="board-shop", timezone="Asia/Shanghai")


@pytest.fixture
def technician(shop):
    return TechnicianFactory(merchant=shop, calendar=working_calendar(shop))


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def supervisor_of(merchant):
    user = UserFactory()
    MembershipFactory(merchant=merchant, user=user, role=Membership.Role.SUPERVISOR)
    return user


def test_the_board_shows_each_technicians_visits_and_the_unassigned_ones(clock, shop, technician):
    # given: one visit with the technician, one back in the pool
    held = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(2, 10))
    pooled = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(2, 14))
    Visit.objects.filter(pk=pooled.pk).update(technician=None)
    client = signed_in(supervisor_of(shop))

    # when
    page = client.get("/dashboard/dispatch/?day=2026-06-02")

    # then
    assert page.status_code == 200
    rows = page.context["rows"]
    assert [(row["technician"].pk, [b.visit.pk for b in row["blocks"]]) for row in rows] == [(technician.pk, [held.pk])]
    # 10:00 on a 7:00-21:00 line is 3/14 of the way
    assert round(rows[0]["blocks"][0].left, 2) == round(3 / 14 * 100, 2)
    assert [v.pk for v in page.context["unassigned"]] == [pooled.pk]
    assert pooled.repair.ticket.number in page.content.decode()


def test_the_board_previews_the_plan_and_applies_it_by_a_click(clock, shop, technician):
    # given
    pooled = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(2, 14))
    Visit.objects.filter(pk=pooled.pk).update(technician=None)
    client = signed_in(supervisor_of(shop))

    # when: previewed, nothing changes
    preview = client.get("/dashboard/dispatch/?day=2026-06-02&preview=1")
    pooled.refresh_from_db()
    assert preview.status_code == 200
    assert [(row["visit"].pk, row["changed"]) for row in preview.context["proposals"]] == [(pooled.pk, True)]
    assert pooled.technician_id is None

    # when: the supervisor applies it
    applied = client.post("/dashboard/dispatch/plan/", {"day": "2026-06-02"})

    # then
    assert applied.status_code == 302
    pooled.refresh_from_db()
    assert (pooled.technician_id, pooled.planned_start) == (technician.pk, shanghai(2, 14))


def test_a_click_assigns_and_pins_a_visit(clock, shop, technician):
    # given
    visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(2, 10))
    client = signed_in(supervisor_of(shop))

    # when
    response = client.post(
        f"/dashboard/dispatch/visits/{visit.pk}/assign/",
        {"technician": technician.pk, "pinned": "on", "start": "11:00"},
    )

    # then
    assert response.status_code == 302
    visit.refresh_from_db()
    assert (visit.technician_id, visit.pinned, visit.planned_start) == (technician.pk, True, shanghai(2, 11))


def test_a_pin_outside_the_window_is_refused_with_a_message_and_nothing_changes(clock, shop, technician):
    visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(2, 10))
    client = signed_in(supervisor_of(shop))

    response = client.post(
        f"/dashboard/dispatch/visits/{visit.pk}/assign/",
        {"technician": technician.pk, "pinned": "on", "start": "15:00"},
        follow=True,
    )

    assert "The pinned start must be inside the booked window." in response.content.decode()
    visit.refresh_from_db()
    assert (visit.pinned, visit.planned_start) == (False, None)


def test_technicians_and_agents_do_not_see_the_board(clock, shop, technician):
    assert signed_in(technician.user).get("/dashboard/dispatch/").status_code == 404


def test_one_merchant_never_sees_or_moves_another_merchants_visits(clock, shop, technician):
    # given: a visit of another merchant
    other = MerchantFactory(slug="board-other", timezone="Asia/Shanghai")
    TechnicianFactory(merchant=other, calendar=working_calendar(other))
    foreign = visit_book(repair=OnSiteRepairFactory(merchant=other), window_start=shanghai(2, 10))
    client = signed_in(supervisor_of(shop))

    # then
    board = client.get("/dashboard/dispatch/?day=2026-06-02")
    assert foreign.repair.ticket.number not in board.content.decode()
    assert client.post(f"/dashboard/dispatch/visits/{foreign.pk}/assign/", {"technician": ""}).status_code == 404
    assert signed_in(technician.user).post(f"/dashboard/my-day/visits/{foreign.pk}/check-in/").status_code == 404


def test_the_technicians_day_lists_visits_in_order_with_the_serials_history(clock, shop, technician):
    # given: the serial was repaired before
    OnSiteRepairFactory(merchant=shop, serial_number="TAP-7", requested_at=shanghai(1, 9) - timedelta(days=30))
    later = visit_book(repair=OnSiteRepairFactory(merchant=shop, serial_number="TAP-7"), window_start=shanghai(2, 14))
    earlier = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(2, 10))

    # when
    page = signed_in(technician.user).get("/dashboard/my-day/?day=2026-06-02")

    # then
    assert page.status_code == 200
    cards = page.context["cards"]
    assert [card["visit"].pk for card in cards] == [earlier.pk, later.pk]
    assert [len(card["history"]) for card in cards] == [0, 1]
    assert "uri.amap.com/marker?position=121.490000,31.240000" in cards[0]["map_url"]


def test_on_site_the_technician_diagnoses_uses_a_part_from_the_van_and_marks_needs_parts(clock, shop, technician):
    # given: the technician checked in; a washer in their van
    from repairs.models import LocationKind, PartStock, RepairStatus
    from repairs.services.dispatch import visit_check_in
    from repairs.tests.factories import DiagnosisCodeFactory, PartStockFactory, StockLocationFactory

    visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(1, 14))
    clock.move_to(shanghai(1, 14))
    visit_check_in(visit=visit, actor=technician.user)
    code = DiagnosisCodeFactory(merchant=shop, code="INST", name="Washer fitted wrongly")
    van = StockLocationFactory(merchant=shop, name="Van 1", kind=LocationKind.VAN, holder=technician.user)
    stock = PartStockFactory(merchant=shop, location=van, on_hand=3)
    client = signed_in(technician.user)
    base = f"/dashboard/my-day/visits/{visit.pk}/work"

    # when
    page = client.get("/dashboard/my-day/?day=2026-06-01")
    diagnosed = client.post(f"{base}/diagnosis/", {"code": code.pk, "note": "Washer upside down."})
    used = client.post(f"{base}/part/", {"stock": stock.pk, "quantity": 1})
    waiting = client.post(f"{base}/needs-parts/", {"expected_on": "2026-06-05"})

    # then
    assert [c.pk for c in page.context["cards"][0]["codes"]] == [code.pk]
    assert [s.pk for s in page.context["van"]] == [stock.pk]
    assert (diagnosed.status_code, used.status_code, waiting.status_code) == (302, 302, 302)
    repair = visit.repair
    repair.refresh_from_db()
    assert (repair.diagnosis_code_id, repair.status, str(repair.parts_expected_on)) == (
        code.pk,
        RepairStatus.WAITING_PARTS,
        "2026-06-05",
    )
    assert PartStock.objects.get(pk=stock.pk).on_hand == 2
    assert repair.lines.count() == 1


def test_a_part_from_someone_elses_van_is_refused_and_nothing_changes(clock, shop, technician):
    from repairs.models import LocationKind, PartStock
    from repairs.services.dispatch import visit_check_in
    from repairs.tests.factories import PartStockFactory, StockLocationFactory

    visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=shanghai(1, 14))
    clock.move_to(shanghai(1, 14))
    visit_check_in(visit=visit, actor=technician.user)
    colleague = TechnicianFactory(merchant=shop, calendar=working_calendar(shop, name="Colleague"))
    van = StockLocationFactory(merchant=shop, name="Van 2", kind=LocationKind.VAN, holder=colleague.user)
    stock = PartStockFactory(merchant=shop, location=van, on_hand=3)

    response = signed_in(technician.user).post(
        f"/dashboard/my-day/visits/{visit.pk}/work/part/", {"stock": stock.pk}, follow=True
    )

    assert "Pick a part from your van." in response.content.decode()
    assert PartStock.objects.get(pk=stock.pk).on_hand == 3
    assert visit.repair.lines.count() == 0
