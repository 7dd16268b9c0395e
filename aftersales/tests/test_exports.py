"""Exports (issue 13): every list as CSV and XLSX, streamed through a server-side cursor, no cap,
one merchant's rows only."""

import csv
import io
import re
import zipfile
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse

from aftersales import exports
from aftersales.models import Membership
from aftersales.tests.factories import CustomerFactory, MembershipFactory, MerchantFactory
from returns.models import ReturnStatus
from returns.tests.builders import make_world, submit
from tickets.models import Ticket, TicketChannel, TicketKind, TicketPriority, TicketStatus
from tickets.tests.factories import TicketFactory


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def _xlsx_text(response) -> str:
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as workbook:
        # constant_memory mode writes inline strings into the sheet itself
        return workbook.read("xl/worksheets/sheet1.xml").decode()


@pytest.fixture
def two_merchants(db):
    ours = MerchantFactory.create()
    theirs = MerchantFactory.create()
    agent = MembershipFactory.create(merchant=ours, role=Membership.Role.AGENT).user
    return ours, theirs, agent


def test_queue_export_as_csv_holds_only_the_merchants_filtered_tickets(client, two_merchants):
    # Given two of our tickets (a complaint and a support case) and one of another merchant's
    ours, theirs, agent = two_merchants
    TicketFactory.create(merchant=ours, number="CP-000001", kind=TicketKind.COMPLAINT, subject="Broken zip")
    TicketFactory.create(merchant=ours, number="SUP-000002", kind=TicketKind.SUPPORT)
    TicketFactory.create(merchant=theirs, number="CP-000009", kind=TicketKind.COMPLAINT)
    client.force_login(agent)

    # When our agent exports the queue filtered to complaints
    response = client.get(reverse("dashboard:queue"), {"kind": "complaint", "export": "csv"})

    # Then the download is streamed CSV with the heading row and our one complaint only
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(r'attachment; filename="queue-\d{8}-\d{4}\.csv"', response["Content-Disposition"])
    rows = _csv_rows(response)
    assert rows[0][:3] == ["Number", "Kind", "Status"]
    assert [row[0] for row in rows[1:]] == ["CP-000001"]
    assert rows[1][5] == "Broken zip"


def test_queue_export_as_xlsx_holds_only_the_merchants_tickets(client, two_merchants):
    # Given one ticket each for us and for another merchant
    ours, theirs, agent = two_merchants
    TicketFactory.create(merchant=ours, number="SUP-000001", subject="Our question")
    TicketFactory.create(merchant=theirs, number="SUP-000777", subject="Their question")
    client.force_login(agent)

    # When our agent exports the whole queue as XLSX
    response = client.get(reverse("dashboard:queue"), {"export": "xlsx", "after": "garbage"})

    # Then it is a workbook with our ticket and nothing of theirs
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    sheet = _xlsx_text(response)
    assert "SUP-000001" in sheet
    assert "Our question" in sheet
    assert "SUP-000777" not in sheet
    assert "Their question" not in sheet


def test_queue_page_offers_export_links_with_its_filters_and_without_its_cursor(client, two_merchants):
    _ours, _theirs, agent = two_merchants
    client.force_login(agent)

    response = client.get(reverse("dashboard:queue"), {"kind": "return", "after": "abc"})

    assert response.status_code == 200
    assert response.context["export_links"] == [("csv", "kind=return&export=csv"), ("xlsx", "kind=return&export=xlsx")]
    assert b'href="?kind=return&amp;export=csv"' in response.content


def test_an_unknown_export_format_shows_the_page(client, two_merchants):
    _ours, _theirs, agent = two_merchants
    client.force_login(agent)

    response = client.get(reverse("dashboard:queue"), {"export": "pdf"})

    assert response.status_code == 200
    assert not response.streaming


def test_returns_export_holds_only_the_merchants_returns(client, db):
    # Given a submitted return for us and one for another merchant
    ours = make_world()
    ours_return = submit(ours)
    theirs = make_world()
    theirs_return = submit(theirs)
    client.force_login(ours.agent)

    # When our agent exports the returns list (every status) as CSV
    response = client.get(reverse("dashboard:returns"), {"status": "all", "export": "csv"})

    # Then it holds our return with its units and estimated refund, and not theirs
    rows = _csv_rows(response)
    assert rows[0][:4] == ["Number", "Status", "Resolution", "Reason"]
    # (ticket numbers are per merchant: both are RT-000001, their orders tell them apart)
    assert [(row[0], row[4]) for row in rows[1:]] == [(ours_return.ticket.number, ours.order.external_number)]
    assert theirs_return.order.external_number not in {row[4] for row in rows}
    assert rows[1][1] == str(ReturnStatus(ours_return.status).label)
    assert rows[1][8] == "3"  # units: 2 + 1
    assert rows[1][9] == "300.00"


def test_returns_export_as_xlsx_opens_as_a_workbook(client, db):
    world = make_world()
    return_request = submit(world)
    client.force_login(world.agent)

    response = client.get(reverse("dashboard:returns"), {"status": "all", "export": "xlsx"})

    assert response.status_code == 200
    assert return_request.ticket.number in _xlsx_text(response)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+86 138", "'+86 138"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-12.50", "-12.50"),
        ("Zhang San", "Zhang San"),
        (None, ""),
    ],
)
def test_cells_that_a_spreadsheet_would_run_as_a_formula_are_quoted(value, text):
    assert exports.cell_text(value) == text


def test_a_customer_name_that_is_a_formula_is_exported_as_text(client, two_merchants):
    ours, _theirs, agent = two_merchants
    customer = CustomerFactory.create(merchant=ours, name='=cmd|" /C calc"!A0')
    TicketFactory.create(merchant=ours, customer=customer, number="SUP-000001")
    client.force_login(agent)

    rows = _csv_rows(client.get(reverse("dashboard:queue"), {"export": "csv"}))

    assert rows[1][6] == '\'=cmd|" /C calc"!A0'


def test_a_queue_export_reads_its_rows_in_one_query_with_times_in_the_merchants_zone(
    client, two_merchants, django_assert_num_queries
):
    # Given three of our tickets (a Shanghai merchant) created at 23:30 UTC
    ours, _theirs, agent = two_merchants
    customer = CustomerFactory.create(merchant=ours, name="Li Lei")
    for index in range(3):
        TicketFactory.create(merchant=ours, customer=customer, number=f"SUP-00000{index}", kind=TicketKind.SUPPORT)
    Ticket.objects.filter(merchant=ours).update(created_at=datetime(2026, 3, 4, 23, 30, tzinfo=UTC))
    client.force_login(agent)

    # When the queue is exported and its body is read after the view has returned
    response = client.get(reverse("dashboard:queue"), {"export": "csv"})
    with django_assert_num_queries(1):  # the rows, customers and orders joined in: no query per row
        rows = _csv_rows(response)

    # Then every row is there, its kind as its label and its time in Shanghai's, the next day
    assert [(row[0], row[1], row[6], row[11]) for row in rows[1:]] == [
        (f"SUP-00000{index}", str(TicketKind.SUPPORT.label), "Li Lei", "2026-03-05 07:30") for index in range(3)
    ]


EXPORT_ROWS = 100_000


def _bulk_tickets(merchant, count: int) -> None:
    customer = CustomerFactory.create(merchant=merchant)
    batch = []
    for index in range(count):
        batch.append(
            Ticket(
                merchant=merchant,
                customer=customer,
                number=f"SUP-{index:07d}",
                kind=TicketKind.SUPPORT,
                status=TicketStatus.OPEN,
                priority=TicketPriority.NORMAL,
                channel=TicketChannel.PORTAL,
                subject=f"Question {index}",
            )
        )
        if len(batch) == 10_000:
            Ticket.objects.bulk_create(batch)
            batch = []
    Ticket.objects.bulk_create(batch)


def _open_cursors() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_cursors")
        return [row[0] for row in cursor.fetchall()]


def test_an_export_of_100000_rows_streams_through_a_server_side_cursor_without_loading_them(
    client, two_merchants, monkeypatch, settings
):
    # Given 100,000 open tickets, under a merchant's threshold for background exports (above it the
    # same rows are written by a worker: test_export_jobs)
    settings.EXPORT_BACKGROUND_ROWS = 200_000
    ours, _theirs, agent = two_merchants
    _bulk_tickets(ours, EXPORT_ROWS)
    client.force_login(agent)
    pulled = {"rows": 0}
    real_export_rows = exports.export_rows

    def counting_export_rows(rows):
        for row in real_export_rows(rows):
            pulled["rows"] += 1
            yield row

    monkeypatch.setattr(exports, "export_rows", counting_export_rows)

    # When the queue is exported and only the first part of the body is read
    response = client.get(reverse("dashboard:queue"), {"export": "csv"})
    body = iter(response.streaming_content)
    first = next(body) + next(body) + next(body)  # the byte-order mark, the headings, the first rows

    # Then the rows are read from a server-side cursor, and no more of them than one chunk is held
    assert response.streaming
    assert first.count(b"\r\n") == 1 + exports.CSV_BUFFER_ROWS
    assert pulled["rows"] <= exports.EXPORT_CHUNK_ROWS
    cursors = _open_cursors()
    assert len([statement for statement in cursors if "tickets_ticket" in statement]) == 1

    # And the whole export holds every row, with no cap
    rest = b"".join(body)
    assert (first + rest).count(b"\r\n") == 1 + EXPORT_ROWS
    assert pulled["rows"] == EXPORT_ROWS
