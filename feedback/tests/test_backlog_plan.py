"""The KPI home's backlog is read from the partial index of active tickets (issue 13): an
index-only scan of the merchant's open cases, never every ticket it ever had, with the same
counts by kind and age."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftersales.tests.factories import MerchantFactory
from feedback.selectors import KpiFilters
from feedback.selectors.kpi import _backlog
from tickets.models import Ticket, TicketKind, TicketStatus
from tickets.tests.factories import TicketFactory

# Transactional: VACUUM (which sets the visibility map an index-only scan relies on, as autovacuum
# does in production) cannot run inside a transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_backlog_counts_active_cases_by_kind_and_age_from_the_partial_index():
    # Given 401 closed tickets and 6 active ones (of several ages), and another merchant's open one
    merchant = MerchantFactory()
    now = timezone.now()
    customer = TicketFactory(merchant=merchant, status=TicketStatus.CLOSED, number="SUP-999999").customer
    Ticket.objects.bulk_create(
        [
            Ticket(
                merchant=merchant,
                customer=customer,
                number=f"SUP-{n:06d}",
                kind=TicketKind.SUPPORT,
                status=TicketStatus.CLOSED,
                subject="Done",
                channel="portal",
            )
            for n in range(400)
        ]
    )
    for hours, kind in (
        (1, TicketKind.SUPPORT),
        (30, TicketKind.SUPPORT),
        (100, TicketKind.RETURN),
        (200, TicketKind.RETURN),
        (200, TicketKind.RETURN),
    ):
        ticket = TicketFactory(merchant=merchant, kind=kind, status=TicketStatus.OPEN)
        Ticket.objects.filter(pk=ticket.pk).update(created_at=now - timedelta(hours=hours))
    TicketFactory(merchant=MerchantFactory(), kind=TicketKind.SUPPORT, status=TicketStatus.OPEN)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")

    # When the backlog is read
    with CaptureQueriesContext(connection) as queries:
        rows = _backlog(merchant, KpiFilters(start=now.date(), end=now.date()), now)

    # Then the counts by kind and age band (<24 h, <72 h, <168 h, older) are exact
    assert [(row.kind, row.by_age) for row in rows] == [
        (TicketKind.RETURN, [0, 0, 1, 2]),
        (TicketKind.SUPPORT, [1, 1, 0, 0]),
    ]
    # And the partial index of active tickets holds every column the query reads: PostgreSQL
    # answers from it alone (an index-only scan). On six rows the queue's two partial indexes of
    # active tickets cost about the same, and which of the three the planner picks then turns on how
    # many dead entries earlier tests left in each (CI once saw ticket_queue_active chosen); they
    # are dropped inside a transaction that is rolled back, so that the plan shows what the backlog
    # index covers.
    [query] = queries.captured_queries
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("DROP INDEX ticket_queue_active, ticket_queue_deadline")
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    assert "Index Only Scan using ticket_backlog_active" in plan
