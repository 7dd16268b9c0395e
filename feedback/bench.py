"""``bench surveys``: the survey sending sweep and the responses page on PostgreSQL.

1. Sending: ``--sends`` satisfaction surveys fall due at once, each for its own customer (so the
   throttle reads and finds none); the real sweep sends them (rows marked sent, links signed, two
   outbox rows each, the reminder timer started). Surveys sent per second, and queries per survey.
   Broker publishes go to an in-memory transport: the broker is not measured.
2. The responses page (``/dashboard/feedback/responses/``) with ``--responses`` answered surveys:
   p50/p95 of the whole request and its query count (the page's agent and technician scores
   aggregate every answer of the merchant, so this is the figure that grows with the table).

The data lives under the merchant ``bench-surveys``; a run removes the previous run's rows first.
"""

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftersales.bench.output import Measurements
from aftersales.bench.timing import time_page
from aftersales.celery import app as celery_app
from aftersales.models import Customer, Deadline, Membership, Merchant, User
from aftersales.services.deadlines import deadlines_sweep
from feedback.deadline_kinds import SURVEY_SEND
from feedback.models import Survey, SurveyKind, SurveyStatus
from tickets.models import Ticket, TicketStatus

BENCH = "surveys"
SLUG = "bench-surveys"
HELP = "The survey sending sweep (surveys/s) and the responses page (p50/p95, queries) at --responses answers."
BATCH = 5000


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument("--sends", type=int, default=10_000, help="Surveys falling due at once (default 10,000).")
    parser.add_argument(
        "--responses", type=int, default=200_000, help="Answered surveys under the page (default 200,000)."
    )
    parser.add_argument("--requests", type=int, default=100, help="Timed page requests (default 100).")


def command(options: dict[str, Any], *, stdout: Any, stderr: Any) -> None:
    if options["sends"] < 1 or options["responses"] < 1 or options["requests"] < 1:
        raise CommandError("--sends, --responses and --requests must be positive.")
    out = Measurements(BENCH, stdout)

    def log(text: str) -> None:
        stderr.write(text + "\n")
        stderr.flush()

    merchant, agent = _fixture(log)
    _sending(merchant, options["sends"], out, log)
    _responses_page(merchant, agent, options["responses"], options["requests"], out, log)


def _fixture(log: Any) -> tuple[Merchant, User]:
    merchant, _ = Merchant.objects.get_or_create(
        slug=SLUG, defaults={"name": "Bench surveys", "customer_channels": ["email", "sms"]}
    )
    log("removing the previous run's rows")
    with connection.cursor() as cursor:
        for model in (Survey, Deadline):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE merchant_id = %s", [merchant.pk])  # noqa: S608
    Ticket.objects.filter(merchant=merchant).delete()
    Customer.objects.filter(merchant=merchant).delete()
    agent, _ = User.objects.get_or_create(username="bench-surveys-agent", defaults={"email": "agent@bench.example"})
    Membership.objects.get_or_create(merchant=merchant, user=agent, defaults={"role": Membership.Role.SUPERVISOR})
    return merchant, agent


def _tickets(merchant: Merchant, agent: User, count: int, prefix: str, log: Any) -> list[tuple[int, int]]:
    """``count`` resolved tickets, each of its own customer: (ticket id, customer id)."""
    made: list[tuple[int, int]] = []
    now = timezone.now()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        with transaction.atomic():
            customers = Customer.objects.bulk_create(
                Customer(merchant=merchant, email=f"{prefix}{start + n}@bench.example", phone="") for n in range(size)
            )
            tickets = Ticket.objects.bulk_create(
                Ticket(
                    merchant=merchant,
                    number=f"{prefix.upper()}-{start + n:07d}",
                    kind="support",
                    channel="api",
                    subject="Survey bench",
                    customer=customer,
                    assignee=agent,
                    status=TicketStatus.RESOLVED,
                    resolved_at=now,
                )
                for n, customer in enumerate(customers)
            )
        made += [(ticket.pk, ticket.customer_id) for ticket in tickets]
        log(f"{len(made)}/{count} {prefix} tickets")
    return made


def _sending(merchant: Merchant, sends: int, out: Measurements, log: Any) -> None:
    agent = User.objects.get(username="bench-surveys-agent")
    rows = _tickets(merchant, agent, sends, "bs", log)
    now = timezone.now()
    with transaction.atomic():
        surveys = Survey.objects.bulk_create(
            Survey(
                merchant=merchant,
                kind=SurveyKind.CSAT,
                ticket_id=ticket_id,
                customer_id=customer_id,
                agent=agent,
                resolved_at=now,
                send_at=now,
            )
            for ticket_id, customer_id in rows
        )
        Deadline.objects.bulk_create(
            Deadline(
                merchant=merchant,
                ticket_id=survey.ticket_id,
                kind=SURVEY_SEND,
                started_at=now,
                due_at=now,
                next_fire_at=now,
                payload={"survey": survey.pk},
            )
            for survey in surveys
        )
    log(f"sweeping {sends} due surveys")
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = "memory://"  # type: ignore[misc]  # settable at runtime; the stubs say read-only
    try:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            while deadlines_sweep().handled:
                pass
        elapsed = time.perf_counter() - started
    finally:
        celery_app.conf.broker_url = previous  # type: ignore[misc]
    sent = Survey.objects.filter(merchant=merchant, status=SurveyStatus.SENT).count()
    out.emit("surveys_sent_per_second", round(sent / elapsed, 1), "surveys/s", sent=sent, seconds=round(elapsed, 2))
    out.emit("queries_per_survey_sent", round(len(captured.captured_queries) / max(sent, 1), 2), "queries")


def _responses_page(
    merchant: Merchant, agent: User, responses: int, requests: int, out: Measurements, log: Any
) -> None:
    rows = _tickets(merchant, agent, responses, "br", log)
    now = timezone.now()
    for start in range(0, len(rows), BATCH):
        Survey.objects.bulk_create(
            Survey(
                merchant=merchant,
                kind=SurveyKind.CSAT,
                ticket_id=ticket_id,
                customer_id=customer_id,
                agent=agent,
                status=SurveyStatus.ANSWERED,
                sent_at=now - timedelta(days=1),
                expires_at=now + timedelta(days=27),
                answered_at=now - timedelta(seconds=start + n),
                score=1 + (start + n) % 5,
                answer_count=1,
            )
            for n, (ticket_id, customer_id) in enumerate(rows[start : start + BATCH])
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Survey._meta.db_table}")
    client = Client()
    client.force_login(agent)
    timing = time_page(client, reverse("dashboard:feedback_responses"), requests=requests, warmup=5)
    if not timing.ok:
        raise CommandError(f"the responses page answered {timing.status}: {timing.error}")
    out.emit(
        "responses_page_p50",
        round(timing.percentile(0.5), 1),
        "ms",
        responses=responses,
        queries=max(timing.queries),
    )
    out.emit("responses_page_p95", round(timing.percentile(0.95), 1), "ms", responses=responses)
    # The app's own CPU per request: steadier than wall time on a machine others share.
    out.emit("responses_page_cpu_p50", round(timing.percentile(0.5, cpu=True), 1), "ms", responses=responses)
