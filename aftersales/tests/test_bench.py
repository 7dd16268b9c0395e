"""``bench queue`` end to end, scaled down: it seeds, measures both pages and prints JSON lines."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from aftersales.bench.seed import CONVERSATION_SUBJECT, NUMBER_PREFIX, SLUG_PATTERN
from aftersales.models import Merchant
from tickets.models import ACTIVE_STATUSES, SavedView, Ticket

# VACUUM cannot run inside the test's transaction, and the bench runs outside one in real use.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]

PAGES = ("dashboard:queue", "api:ticket-list", "dashboard:ticket")
PER_PAGE_METRICS = ("p50", "p95", "cpu_p50", "cpu_p95", "queries_per_request")


def run_bench(*args: str) -> list[dict]:
    stdout, stderr = StringIO(), StringIO()
    call_command("bench", "queue", *args, stdout=stdout, stderr=stderr)
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_bench_queue_prints_one_measurement_per_line_for_both_pages_at_both_sizes():
    # When the benchmark runs at 2,000 tickets (stages of 20 and 2,000)
    lines = run_bench("--tickets", "2000", "--requests", "5", "--warmup", "1")

    # Then every line is a measurement with the common fields
    assert lines
    for line in lines:
        assert {"bench", "metric", "value", "unit"} <= line.keys()
        assert line["bench"] == "queue"
    # and each page was timed and its queries counted at each size, over the requests asked for
    timed = sorted(
        (line["page"], line["tickets"], line["metric"]) for line in lines if line["metric"] in PER_PAGE_METRICS
    )
    assert timed == sorted(
        (page, tickets, metric) for page in PAGES for tickets in (20, 2000) for metric in PER_PAGE_METRICS
    )
    for line in lines:
        if line["metric"] in ("p50", "p95", "cpu_p50", "cpu_p95"):
            assert line["unit"] == "ms"
            assert line["value"] > 0
            assert line["requests"] == 5
        if line["metric"] == "queries_per_request":
            assert line["unit"] == "queries"
            assert line["value"] >= 1
    # and the seeding reports what it wrote: 10 merchants, one ticket in ten open, the measured
    # merchant holding 1,000 at the large stage (a full queue page) and the others the rest
    seeds = [
        (line["tickets"], line["open_tickets"], line["merchants"], line["merchant_tickets"])
        for line in lines
        if line["metric"] == "seed_time"
    ]
    assert seeds == [(20, 2, 10, 20), (2000, 208, 10, 1000)]
    # and the verdicts compare the two sizes, page by page
    verdicts = sorted((line["metric"], line["page"]) for line in lines if "met" in line)
    assert verdicts == sorted(
        (metric, page) for metric in ("p95_limit", "p95_growth", "cpu_p95_growth", "queries_growth") for page in PAGES
    )
    # and the pages ask as many queries with 100 times the tickets
    assert [line["value"] for line in lines if line["metric"] == "queries_growth"] == [0, 0, 0]

    # And the data is the bench's own: ten bench merchants, 2,000 numbered tickets, 208 open, and
    # the ticket page's conversation: its opening message and 20 more
    bench_tickets = Ticket.objects.filter(merchant__slug__regex=SLUG_PATTERN, number__startswith=NUMBER_PREFIX)
    assert Merchant.objects.filter(slug__regex=SLUG_PATTERN).count() == 10
    assert bench_tickets.count() == 2000
    conversation = Ticket.objects.get(merchant__slug__regex=SLUG_PATTERN, subject=CONVERSATION_SUBJECT)
    assert conversation.messages.count() == 21
    assert bench_tickets.filter(status__in=ACTIVE_STATUSES).count() == 208
    assert bench_tickets.values("merchant_id", "number").distinct().count() == 2000
    # and the measured agent's queue shows its two saved views with their counts: session, user,
    # memberships, staff, the page, the views, their counts (one statement), the teams
    measured = Merchant.objects.filter(slug__regex=SLUG_PATTERN).order_by("slug").first()
    assert sorted(SavedView.objects.filter(merchant=measured).values_list("name", flat=True)) == [
        "Every ticket",
        "Waiting on the customer",
    ]
    assert {
        line["value"] for line in lines if line["metric"] == "queries_per_request" and line["page"] == "dashboard:queue"
    } == {8}


def test_bench_queue_reuses_the_data_it_left_and_starts_from_the_largest_stage():
    # Given a first run that left 2,000 bench tickets
    run_bench("--tickets", "2000", "--requests", "1", "--warmup", "0")

    # When it runs again
    lines = run_bench("--tickets", "2000", "--requests", "1", "--warmup", "0")

    # Then it measures what is there first, writing nothing, and then shrinks to the small stage
    seeds = [(line["tickets"], line["inserted"], line["deleted"]) for line in lines if line["metric"] == "seed_time"]
    assert seeds == [(2000, 0, 0), (20, 0, 1980)]
    assert Ticket.objects.filter(merchant__slug__regex=SLUG_PATTERN, number__startswith=NUMBER_PREFIX).count() == 20
