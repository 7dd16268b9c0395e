"""The queue's export filtered to repairs carries the repair columns (issue 13): mode, repair status,
product, serial, technician of the latest visit, coverage, warranty cost, turnaround, in both
languages, read in one query."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.models import ExportJob, ExportState
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from repairs.models import RepairLine, RepairOrder, Visit
from repairs.services import repair_triage
from repairs.tests.builders import DELIVERED, build_world, request_repair
from repairs.tests.dispatch_factories import TechnicianFactory
from repairs.tests.factories import PartFactory
from tickets.models import TicketKind
from tickets.tests.factories import TicketFactory


@pytest.fixture(autouse=True)
def _a_month_after_delivery():
    """The world's tap was delivered on 10 March 2026 with 12 months of parts cover, and the rows
    show a repair triaged as covered: on the real date these tests would fail from 10 March 2027."""
    with time_machine.travel(DELIVERED + timedelta(days=30), tick=False):
        yield


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body[1:])))


def _repair_with_costs(world) -> tuple[RepairOrder, str]:
    repair = request_repair(world)
    repair_triage(repair_order=repair, actor=world.agent)
    repair.refresh_from_db()
    common = {"merchant": world.merchant, "repair_order": repair}
    # Warranty: a part at cost (2 × 30.00) and labour at its price (45.50); the customer's line is not the merchant's.
    RepairLine.objects.create(
        **common,
        kind="part",
        part=PartFactory.create(merchant=world.merchant),
        description="Cartridge",
        quantity=2,
        unit_price=80,
        unit_cost=30,
        coverage="warranty",
    )
    RepairLine.objects.create(
        **common, kind="labour", description="Labour", unit_price=Decimal("45.50"), coverage="warranty"
    )
    RepairLine.objects.create(
        **common,
        kind="part",
        part=PartFactory.create(merchant=world.merchant),
        description="Hose",
        unit_price=100,
        unit_cost=20,
        coverage="customer",
    )
    technician = TechnicianFactory.create(merchant=world.merchant)
    window = repair.requested_at + timedelta(days=1)
    Visit.objects.create(
        merchant=world.merchant,
        repair=repair,
        technician=technician,
        window_start=window,
        window_end=window + timedelta(hours=2),
    )
    RepairOrder.objects.filter(pk=repair.pk).update(returned_at=repair.requested_at + timedelta(hours=50, minutes=30))
    return repair, technician.user.username


def test_the_queue_filtered_to_repairs_exports_the_repair_columns(client, db):
    # Given a triaged repair with warranty lines, a visit and a return after 50.5 hours, and a support case
    world = build_world()
    repair, technician = _repair_with_costs(world)
    TicketFactory(merchant=world.merchant, number="SUP-000001", kind=TicketKind.SUPPORT)
    client.force_login(world.supervisor)

    # When the supervisor exports the queue filtered to repairs, in English
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            reverse("dashboard:queue"), {"kind": "repair", "export": "csv"}, HTTP_ACCEPT_LANGUAGE="en"
        )
        rows = _rows(response)

    # Then the repair's row carries its repair columns after the queue's own
    assert rows[0][15:] == [
        "Service mode",
        "Repair status",
        "SKU",
        "Product",
        "Serial number",
        "Technician",
        "Coverage",
        "Warranty cost",
        "Turnaround (hours)",
    ]
    assert [row[0] for row in rows[1:]] == [repair.ticket.number]
    assert rows[1][15:] == [
        "Mail-in",
        "Awaiting the device",
        "TAP-1",
        "Kitchen tap",
        "TAP-0001",
        technician,
        "In warranty",
        "105.50",
        "50.5",
    ]
    # And the rows came in the export's one query (one server-side cursor), not one per repair
    assert sum("repairs_repairline" in query["sql"] for query in queries.captured_queries) == 1


def test_the_repair_columns_in_chinese_and_for_another_merchant_nothing(client, db):
    # Given our repair and another merchant's supervisor
    world = build_world()
    _repair_with_costs(world)
    stranger = MembershipFactory(merchant=MerchantFactory(), role="supervisor").user

    # When our supervisor exports in Chinese
    client.force_login(world.supervisor)
    rows = _rows(
        client.get(reverse("dashboard:queue"), {"kind": "repair", "export": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    )

    # Then the headings and labels are Chinese
    assert rows[0][15:17] == ["服务方式", "维修状态"]
    assert rows[1][15] == "寄修"
    assert rows[1][21] == "在保修期内"

    # And the other merchant's export of repairs holds no row
    client.force_login(stranger)
    assert _rows(client.get(reverse("dashboard:queue"), {"kind": "repair", "export": "csv"}))[1:] == []


def test_coverage_says_out_of_warranty_goodwill_and_not_triaged(client, db):
    world = build_world()
    requested = request_repair(world)
    client.force_login(world.supervisor)

    rows = _rows(client.get(reverse("dashboard:queue"), {"kind": "repair", "export": "csv"}, HTTP_ACCEPT_LANGUAGE="en"))

    assert [(row[0], row[21], row[22], row[23]) for row in rows[1:]] == [
        (requested.ticket.number, "Not triaged yet", "0.00", "")
    ]


def test_a_background_export_of_the_repairs_queue_has_the_same_repair_columns(
    client, db, settings, private_storage, django_capture_on_commit_callbacks
):
    # Given a threshold of no rows, so that every export is a job
    settings.EXPORT_BACKGROUND_ROWS = 0
    world = build_world()
    repair, technician = _repair_with_costs(world)
    client.force_login(world.supervisor)

    # When the supervisor exports the repairs queue
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            reverse("dashboard:queue"), {"kind": "repair", "export": "csv"}, HTTP_ACCEPT_LANGUAGE="en"
        )

    # Then the worker's file has the one repair with its repair columns
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.state, job.rows_total, job.rows_written, job.params) == (ExportState.DONE, 1, 1, {"kind": ["repair"]})
    with default_storage.open(job.file, "rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode("utf-8")[1:])))
    assert [row[0] for row in rows[1:]] == [repair.ticket.number]
    assert rows[1][15:] == [
        "Mail-in",
        "Awaiting the device",
        "TAP-1",
        "Kitchen tap",
        "TAP-0001",
        technician,
        "In warranty",
        "105.50",
        "50.5",
    ]
