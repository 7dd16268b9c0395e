"""The repair filters of the one queue: mode, repair status, technician, who pays, waiting for
parts; shown once the queue shows repairs, kept by saved views, scoped to the member's merchant."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.models import RepairQuote, RepairStatus, Visit
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory
from repairs.tests.factories import RepairOrderFactory
from tickets.models import SavedView

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shop(db):
    return MerchantFactory(slug="queue-shop", timezone="Asia/Shanghai", default_language="en")


@pytest.fixture
def supervisor(shop):
    user = UserFactory()
    MembershipFactory(merchant=shop, user=user, role=Membership.Role.SUPERVISOR)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def repairs(clock, shop):
    technician = TechnicianFactory(merchant=shop)
    on_site = OnSiteRepairFactory(merchant=shop, status=RepairStatus.SCHEDULED)
    Visit.objects.create(
        merchant=shop, repair=on_site, technician=technician, window_start=NOW, window_end=NOW.replace(hour=4)
    )
    waiting = OnSiteRepairFactory(merchant=shop, status=RepairStatus.WAITING_PARTS)
    quoted = RepairOrderFactory(merchant=shop, status=RepairStatus.DIAGNOSING)
    RepairQuote.objects.create(
        merchant=shop,
        repair_order=quoted,
        tax_rate=Decimal("0"),
        subtotal=Decimal("10.00"),
        tax_amount=Decimal("0"),
        total=Decimal("10.00"),
        valid_until=NOW,
    )
    out = RepairOrderFactory(merchant=shop, status=RepairStatus.OUT_OF_WARRANTY)
    return {"technician": technician, "on_site": on_site, "waiting": waiting, "quoted": quoted, "out": out}


def numbers(page) -> set[str]:
    return {ticket.number for ticket in page.context["tickets"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("repair_mode=on_site", {"on_site", "waiting"}),
        ("repair_mode=mail_in", {"quoted", "out"}),
        ("repair_status=waiting_parts", {"waiting"}),
        ("who_pays=paid", {"quoted", "out"}),
        ("who_pays=warranty", {"on_site", "waiting"}),
        ("waiting_parts=yes", {"waiting"}),
        ("repair_mode=on_site&who_pays=paid", set()),
    ],
)
def test_each_repair_filter_narrows_the_queue(supervisor, repairs, query, expected):
    page = supervisor.get(f"/dashboard/?kind=repair&status=all&{query}")

    assert page.status_code == 200
    assert numbers(page) == {repairs[name].ticket.number for name in expected}


def test_the_technician_filter_lists_the_merchants_technicians_and_narrows_to_their_repairs(shop, supervisor, repairs):
    stranger = TechnicianFactory(merchant=MerchantFactory(slug="queue-other"))
    technician = repairs["technician"]

    page = supervisor.get(f"/dashboard/?kind=repair&status=all&technician={technician.pk}")
    foreign = supervisor.get(f"/dashboard/?kind=repair&status=all&technician={stranger.pk}")

    assert numbers(page) == {repairs["on_site"].ticket.number}
    field = page.context["form"]["technician"]
    assert [value for value, _label in field.field.choices] == ["", str(technician.pk)]
    # not one of this merchant's technicians: the filter is dropped, as the queue drops any invalid value
    assert numbers(foreign) == {r.ticket.number for key, r in repairs.items() if key != "technician"}


def test_the_repair_filters_show_only_when_the_queue_shows_repairs(supervisor, repairs):
    plain = supervisor.get("/dashboard/")
    repairs_only = supervisor.get("/dashboard/?kind=repair")

    assert '<select name="repair_mode"' not in plain.content.decode()
    html = repairs_only.content.decode()
    for name in ("repair_mode", "repair_status", "technician", "who_pays", "waiting_parts"):
        assert f'<select name="{name}"' in html


def test_a_saved_view_keeps_the_repair_filters_and_counts_with_them(supervisor, repairs):
    supervisor.post(
        "/dashboard/queue/views/",
        {"name": "Parts", "kind": "repair", "status": "all", "waiting_parts": "yes", "repair_mode": ""},
    )

    view = SavedView.objects.get(name="Parts")
    page = supervisor.get("/dashboard/")

    assert view.filters == {"kind": "repair", "status": "all", "waiting_parts": "yes"}
    assert [(shown.view.pk, shown.count) for shown in page.context["saved_views"]] == [(view.pk, 1)]
