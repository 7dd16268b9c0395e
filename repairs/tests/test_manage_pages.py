"""The managers' pages: technicians (profile, time off, today's presence), the parts catalogue,
stock per location (receive, transfer, count). Merchant-scoped (another merchant's ids are a 404),
role-checked, and every refusal leaves nothing changed."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, ProductFactory, UserFactory
from repairs.models import (
    LocationKind,
    Part,
    PartStock,
    ProfileChange,
    StockMovement,
    TechnicianProfile,
    TechnicianTimeOff,
    Visit,
)
from repairs.services.dispatch import visit_book, visit_check_in
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar
from repairs.tests.factories import PartFactory, PartStockFactory, StockLocationFactory

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shop(db):
    return MerchantFactory(slug="manage-shop", timezone="Asia/Shanghai", default_language="en")


@pytest.fixture
def other(db):
    return MerchantFactory(slug="other-shop", timezone="Asia/Shanghai")


def member(merchant, role):
    user = UserFactory()
    MembershipFactory(merchant=merchant, user=user, role=role)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def supervisor(shop):
    return member(shop, Membership.Role.SUPERVISOR)


@pytest.fixture
def warehouse(shop):
    return member(shop, Membership.Role.WAREHOUSE)


def profile_post(technician, **overrides):
    data = {
        "phone": "+8613800000009",
        "skills": "taps 2\ncert:gas 1",
        "areas": "200001, Huangpu",
        "home_latitude": "31.230000",
        "home_longitude": "121.470000",
        "calendar": technician.calendar_id or "",
        "daily_capacity": "6",
        "is_active": "on",
    }
    data.update(overrides)
    return data


# --- technicians ---------------------------------------------------------------------------------


def test_the_list_shows_each_technicians_presence_today(clock, shop, supervisor, django_assert_num_queries):
    calendar = working_calendar(shop)
    on_site = TechnicianFactory(merchant=shop, calendar=calendar)
    booked = TechnicianFactory(merchant=shop, calendar=working_calendar(shop, name="B"))
    off = TechnicianFactory(merchant=shop, calendar=working_calendar(shop, name="C"))
    TechnicianTimeOff.objects.create(technician=off, starts_on=date(2026, 5, 30), ends_on=date(2026, 6, 2))
    TechnicianFactory(merchant=MerchantFactory(slug="elsewhere"))
    visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=NOW)
    Visit.objects.filter(pk=visit.pk).update(technician=on_site)
    visit_check_in(visit=Visit.objects.get(pk=visit.pk), actor=on_site.user)
    later = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=NOW + timedelta(hours=4))
    Visit.objects.filter(pk=later.pk).update(technician=booked)

    with django_assert_num_queries(4):
        page = supervisor.get("/dashboard/technicians/")

    assert page.status_code == 200
    rows = {t.pk: (t.off_today, t.on_site_now, t.visits_today) for t in page.context["technicians"]}
    assert rows == {on_site.pk: (False, True, 1), booked.pk: (False, False, 1), off.pk: (True, False, 0)}
    html = page.content.decode()
    assert "On site now" in html
    assert "Time off" in html
    assert 'href="/dashboard/technicians/"' in html  # the navigation links the page


def test_a_supervisor_edits_a_technicians_profile_and_the_change_is_recorded(clock, shop, supervisor):
    technician = TechnicianFactory(merchant=shop, skills={"taps": 1}, areas=["200001"], daily_capacity=8)
    calendar = working_calendar(shop, name="Early shift")

    response = supervisor.post(
        f"/dashboard/technicians/{technician.pk}/", profile_post(technician, calendar=calendar.pk)
    )

    assert response.status_code == 302
    technician.refresh_from_db()
    assert (technician.skills, technician.areas, technician.daily_capacity, technician.calendar_id) == (
        {"cert:gas": 1, "taps": 2},
        ["200001", "Huangpu"],
        6,
        calendar.pk,
    )
    assert technician.phone == "+8613800000009"
    change = ProfileChange.objects.get(technician=technician)
    assert change.actor == supervisor.user
    assert change.changes == {
        "phone": ["", "+8613800000009"],
        "skills": [{"taps": 1}, {"cert:gas": 1, "taps": 2}],
        "areas": [["200001"], ["200001", "Huangpu"]],
        "calendar": [None, calendar.pk],
        "daily_capacity": [8, 6],
    }
    # saving again unchanged records nothing
    supervisor.post(f"/dashboard/technicians/{technician.pk}/", profile_post(technician, calendar=calendar.pk))
    assert ProfileChange.objects.filter(technician=technician).count() == 1


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("skills", "taps 7", "write the skill, a space and its level from 1 to 3"),
        ("home_latitude", "91", "The home base is not a place on Earth."),
        ("daily_capacity", "-1", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_an_invalid_profile_is_refused_and_nothing_changes(clock, shop, supervisor, field, value, error):
    technician = TechnicianFactory(merchant=shop, skills={"taps": 1})
    before = TechnicianProfile.objects.values().get(pk=technician.pk)

    response = supervisor.post(f"/dashboard/technicians/{technician.pk}/", profile_post(technician, **{field: value}))

    assert response.status_code == 400
    assert error in response.content.decode()
    assert TechnicianProfile.objects.values().get(pk=technician.pk) == before
    assert ProfileChange.objects.count() == 0


def test_another_merchants_calendar_is_refused(clock, shop, other, supervisor):
    technician = TechnicianFactory(merchant=shop)

    response = supervisor.post(
        f"/dashboard/technicians/{technician.pk}/", profile_post(technician, calendar=working_calendar(other).pk)
    )

    assert response.status_code == 400
    technician.refresh_from_db()
    assert technician.calendar_id is None


def test_time_off_is_added_overlaps_are_refused_and_it_is_removed(clock, shop, supervisor):
    technician = TechnicianFactory(merchant=shop)
    url = f"/dashboard/technicians/{technician.pk}/time-off/"

    added = supervisor.post(url, {"starts_on": "2026-06-03", "ends_on": "2026-06-05", "reason": "Training"})
    overlap = supervisor.post(url, {"starts_on": "2026-06-05", "ends_on": "2026-06-06"}, follow=True)
    backwards = supervisor.post(url, {"starts_on": "2026-06-09", "ends_on": "2026-06-08"}, follow=True)

    assert added.status_code == 302
    assert "These days overlap time off already recorded." in overlap.content.decode()
    assert "The last day is before the first." in backwards.content.decode()
    off = TechnicianTimeOff.objects.get(technician=technician)
    assert (off.starts_on, off.ends_on, off.reason) == (date(2026, 6, 3), date(2026, 6, 5), "Training")
    assert ProfileChange.objects.filter(technician=technician).count() == 1

    removed = supervisor.post(f"{url}{off.pk}/remove/")

    assert removed.status_code == 302
    assert TechnicianTimeOff.objects.filter(technician=technician).count() == 0
    assert [c.changes["time_off"][1] for c in ProfileChange.objects.filter(technician=technician).order_by("pk")] == [
        ["2026-06-03", "2026-06-05", "Training"],
        None,
    ]


@pytest.mark.parametrize("role", [Membership.Role.AGENT, Membership.Role.TECHNICIAN, Membership.Role.WAREHOUSE])
def test_only_supervisors_manage_technicians(clock, shop, role):
    technician = TechnicianFactory(merchant=shop, daily_capacity=8)
    client = member(shop, role)

    listed = client.get("/dashboard/technicians/")
    edited = client.post(f"/dashboard/technicians/{technician.pk}/", profile_post(technician))
    off = client.post(
        f"/dashboard/technicians/{technician.pk}/time-off/", {"starts_on": "2026-06-03", "ends_on": "2026-06-03"}
    )

    assert (listed.status_code, edited.status_code, off.status_code) == (404, 404, 404)
    technician.refresh_from_db()
    assert technician.daily_capacity == 8
    assert TechnicianTimeOff.objects.count() == 0
    assert 'href="/dashboard/technicians/"' not in client.get("/dashboard/").content.decode()


def test_another_merchants_technician_is_a_404(clock, shop, other, supervisor):
    stranger = TechnicianFactory(merchant=other, daily_capacity=8)
    off = TechnicianTimeOff.objects.create(technician=stranger, starts_on=date(2026, 6, 3), ends_on=date(2026, 6, 3))

    page = supervisor.get(f"/dashboard/technicians/{stranger.pk}/")
    edited = supervisor.post(f"/dashboard/technicians/{stranger.pk}/", profile_post(stranger))
    removed = supervisor.post(f"/dashboard/technicians/{stranger.pk}/time-off/{off.pk}/remove/")

    assert (page.status_code, edited.status_code, removed.status_code) == (404, 404, 404)
    stranger.refresh_from_db()
    assert stranger.daily_capacity == 8
    assert TechnicianTimeOff.objects.filter(pk=off.pk).exists()
    assert stranger.pk not in [t.pk for t in supervisor.get("/dashboard/technicians/").context["technicians"]]


# --- parts ---------------------------------------------------------------------------------------


def test_a_part_is_added_to_the_catalogue_and_edited(shop, warehouse):
    tap = ProductFactory(merchant=shop, name="Kitchen tap")
    shower = ProductFactory(merchant=shop, name="Shower")

    created = warehouse.post(
        "/dashboard/parts/",
        {
            "part_number": "CC-40",
            "name": "Ceramic cartridge",
            "cost": "30.00",
            "price": "60.00",
            "is_active": "on",
            "compatible_products": [tap.pk],
        },
    )
    part = Part.objects.get(merchant=shop, part_number="CC-40")
    edited = warehouse.post(
        f"/dashboard/parts/{part.pk}/",
        {
            "part_number": "CC-40",
            "name": "Ceramic cartridge",
            "cost": "32.00",
            "price": "60.00",
            "is_active": "on",
            "component": "cartridge",
            "compatible_products": [tap.pk, shower.pk],
        },
    )

    assert (created.status_code, edited.status_code) == (302, 302)
    part.refresh_from_db()
    assert (part.cost, part.price, part.component) == (Decimal("32.00"), Decimal("60.00"), "cartridge")
    assert sorted(part.compatible_products.values_list("pk", flat=True)) == sorted([tap.pk, shower.pk])
    assert [c.changes for c in ProfileChange.objects.filter(part=part).order_by("pk")][1] == {
        "cost": ["30.00", "32.00"],
        "component": ["", "cartridge"],
        "compatible_products": [[tap.pk], sorted([tap.pk, shower.pk])],
    }
    listed = warehouse.get("/dashboard/parts/")
    assert [p.part_number for p in listed.context["parts"]] == ["CC-40"]


def test_a_duplicate_part_number_or_another_merchants_product_is_refused_and_nothing_changes(shop, other, warehouse):
    PartFactory(merchant=shop, part_number="CC-40")
    foreign = ProductFactory(merchant=other)

    duplicate = warehouse.post(
        "/dashboard/parts/", {"part_number": "CC-40", "name": "Again", "cost": "1.00", "price": "2.00"}
    )
    stranger = warehouse.post(
        "/dashboard/parts/",
        {"part_number": "CC-41", "name": "X", "cost": "1.00", "price": "2.00", "compatible_products": [foreign.pk]},
    )

    assert duplicate.status_code == 400
    assert "That part number is already in the catalogue." in duplicate.content.decode()
    assert stranger.status_code == 400
    assert list(Part.objects.filter(merchant=shop).values_list("part_number", flat=True)) == ["CC-40"]
    assert ProfileChange.objects.count() == 0


def test_another_merchants_part_is_a_404_and_agents_do_not_manage_parts(shop, other, warehouse):
    foreign = PartFactory(merchant=other, cost=Decimal("3.00"))
    agent = member(shop, Membership.Role.AGENT)

    page = warehouse.get(f"/dashboard/parts/{foreign.pk}/")
    edited = warehouse.post(
        f"/dashboard/parts/{foreign.pk}/", {"part_number": "X", "name": "X", "cost": "9.00", "price": "9.00"}
    )

    assert (page.status_code, edited.status_code) == (404, 404)
    assert (agent.get("/dashboard/parts/").status_code, agent.get("/dashboard/stock/").status_code) == (404, 404)
    foreign.refresh_from_db()
    assert foreign.cost == Decimal("3.00")


# --- stock ---------------------------------------------------------------------------------------


@pytest.fixture
def places(shop):
    technician = TechnicianFactory(merchant=shop)
    warehouse_location = StockLocationFactory(merchant=shop, name="Main warehouse")
    van = StockLocationFactory(merchant=shop, name="Van 1", kind=LocationKind.VAN, holder=technician.user)
    return warehouse_location, van


def test_stock_is_received_transferred_to_a_van_and_counted_with_a_movement_each(shop, warehouse, places):
    main, van = places
    part = PartFactory(merchant=shop, part_number="CC-40")

    warehouse.post("/dashboard/stock/receive/", {"location": main.pk, "part": part.pk, "quantity": 10, "note": "PO 7"})
    row = PartStock.objects.get(location=main, part=part)
    warehouse.post(f"/dashboard/stock/{row.pk}/transfer/", {"to_location": van.pk, "quantity": 4})
    counted = warehouse.post(f"/dashboard/stock/{row.pk}/adjust/", {"counted": 5, "reason": "One cracked"}, follow=True)

    assert "Stock counted." in counted.content.decode()
    van_row = PartStock.objects.get(location=van, part=part)
    assert (PartStock.objects.get(pk=row.pk).on_hand, van_row.on_hand) == (5, 4)
    movements = list(StockMovement.objects.order_by("pk").values_list("stock_id", "kind", "quantity", "on_hand_after"))
    assert movements == [
        (row.pk, "received", 10, 10),
        (row.pk, "transferred_out", -4, 6),
        (van_row.pk, "transferred_in", 4, 4),
        (row.pk, "adjusted", -1, 5),
    ]
    assert StockMovement.objects.filter(actor=warehouse.user).count() == 4
    page = warehouse.get("/dashboard/stock/")
    assert [location.name for location in page.context["locations"]] == ["Van 1", "Main warehouse"]
    assert len(page.context["movements"]) == 4


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("transfer", {"quantity": 3}, "Only 2 of"),
        ("adjust", {"counted": 0, "reason": "Lost"}, "1 are reserved for repairs"),
        ("adjust", {"counted": 4, "reason": ""}, "Give the count and why it differs."),
        ("adjust", {"counted": 3, "reason": "Same"}, "The count is what the stock already says."),
    ],
)
def test_a_transfer_beyond_what_is_free_or_a_bad_count_is_refused_and_nothing_changes(
    shop, warehouse, places, action, data, message
):
    main, van = places
    row = PartStockFactory(merchant=shop, location=main, on_hand=3, reserved=1)
    if action == "transfer":
        data = {**data, "to_location": van.pk}

    response = warehouse.post(f"/dashboard/stock/{row.pk}/{action}/", data, follow=True)

    assert message in response.content.decode()
    row.refresh_from_db()
    assert (row.on_hand, row.reserved) == (3, 1)
    # the van's row a transfer creates rolls back with the refusal
    assert PartStock.objects.filter(location=van).count() == 0
    assert StockMovement.objects.count() == 0


def test_another_merchants_stock_is_a_404_and_technicians_do_not_keep_stock(shop, other, warehouse, places):
    main, van = places
    foreign = PartStockFactory(merchant=other, on_hand=3)
    technician = member(shop, Membership.Role.TECHNICIAN)
    own = PartStockFactory(merchant=shop, location=main, on_hand=3)

    moved = warehouse.post(f"/dashboard/stock/{foreign.pk}/transfer/", {"to_location": van.pk, "quantity": 1})
    counted = warehouse.post(f"/dashboard/stock/{foreign.pk}/adjust/", {"counted": 0, "reason": "x"})
    by_technician = technician.post(f"/dashboard/stock/{own.pk}/adjust/", {"counted": 0, "reason": "x"})
    into_foreign = warehouse.post(
        f"/dashboard/stock/{own.pk}/transfer/", {"to_location": foreign.location_id, "quantity": 1}, follow=True
    )

    assert (moved.status_code, counted.status_code, by_technician.status_code) == (404, 404, 404)
    assert "Pick where the parts go" in into_foreign.content.decode()
    assert PartStock.objects.get(pk=foreign.pk).on_hand == 3
    assert PartStock.objects.get(pk=own.pk).on_hand == 3
    assert StockMovement.objects.count() == 0


def test_the_managers_pages_read_a_constant_number_of_queries(shop, supervisor, places, django_assert_num_queries):
    # given: three parts in two locations, each moved once, and a technician with time off
    main, van = places
    for n in range(3):
        part = PartFactory(merchant=shop, part_number=f"P{n}")
        PartStockFactory(merchant=shop, location=main, part=part, on_hand=3)
        row = PartStockFactory(merchant=shop, location=van, part=part, on_hand=1)
        StockMovement.objects.create(merchant=shop, stock=row, kind="received", quantity=1, on_hand_after=1)
    technician = TechnicianFactory(merchant=shop)
    TechnicianTimeOff.objects.create(technician=technician, starts_on=date(2026, 6, 3), ends_on=date(2026, 6, 4))

    # then: session, user, membership, the header's memberships, and each page's own reads
    for url, queries in (
        ("/dashboard/stock/", 9),
        ("/dashboard/parts/", 5),
        (f"/dashboard/parts/{part.pk}/", 8),
        (f"/dashboard/technicians/{technician.pk}/", 7),
    ):
        with django_assert_num_queries(queries):
            assert supervisor.get(url).status_code == 200
