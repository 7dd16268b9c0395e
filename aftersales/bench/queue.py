"""``bench queue``: does the work queue stay fast as the ticket table grows a hundredfold?

Seeds (or reuses) the bench data set at 1% of the target size and measures, then grows it to the
target and measures again: the dashboard queue page (a logged-in agent), the ticket list API
(an API key) and the staff page of one ticket with a 20-message conversation (customer messages,
public replies, internal notes, some with attachments; a customer, an order, SLA clocks) of one
merchant, p50 and p95 server time and queries per request. The agent has two saved views, which
the queue shows with their counts: one of the tickets waiting on the customer, one of every ticket
(the largest count the queue can be asked for).

Targets (issue text): p95 at most 50 ms at 1,000,000 tickets; p95 at the largest size within
1.2x of p95 at the smallest; queries per request the same at both sizes.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import NoReverseMatch, reverse

from aftersales.bench import seed
from aftersales.bench.output import Measurements
from aftersales.bench.timing import PageTiming, time_page
from aftersales.models import ApiKey, Membership, Merchant, User
from aftersales.services.api_keys import api_key_create, api_key_revoke
from tickets.models import SavedView
from tickets.services.saved_views import saved_view_create

BENCH = "queue"
P95_LIMIT_MS = 50.0
P95_GROWTH_LIMIT = 1.2
GROWTH = 100  # the first stage holds 1/GROWTH of the tickets
TICKETS_PER_MERCHANT_AT_LEAST = 200
MEASURED_MERCHANT_AT_LEAST = 1_000
CUSTOMERS_PER_MERCHANT = 2_000
API_KEY_NAME = "bench"
# The agent's saved views: (name, filters as the queue's form keeps them).
SAVED_VIEWS = (("Waiting on the customer", {"status": "waiting_customer"}), ("Every ticket", {"status": "all"}))


@dataclass(frozen=True)
class Page:
    name: str
    url_name: str
    auth: str  # "session" (the merchant's agent) or "api_key"
    # The page of one ticket: its URL takes the number of the bench's conversation ticket.
    takes_ticket: bool = False


PAGES = (
    Page("dashboard queue", "dashboard:queue", "session"),
    Page("ticket list API", "api:ticket-list", "api_key"),
    Page("ticket page (20 messages)", "dashboard:ticket", "session", takes_ticket=True),
)


@dataclass(frozen=True)
class Plan:
    """How many tickets each merchant holds at each stage.

    The tickets are spread evenly, except that the measured merchant (the first) holds at least
    ``MEASURED_MERCHANT_AT_LEAST``: with one ticket in ten open, that fills the first page of the
    queue at every stage, so the stages differ in table size and not in rows rendered.
    """

    merchants: int
    stages: tuple[int, ...]  # tickets in all, per stage

    @classmethod
    def for_size(cls, tickets: int, max_merchants: int) -> "Plan":
        merchants = max(1, min(max_merchants, tickets // TICKETS_PER_MERCHANT_AT_LEAST))
        return cls(merchants=merchants, stages=(max(1, tickets // GROWTH), tickets))

    def targets(self, stage_tickets: int, merchant_ids: list[int]) -> dict[int, int]:
        measured = min(stage_tickets, max(stage_tickets // self.merchants, MEASURED_MERCHANT_AT_LEAST))
        others = merchant_ids[1:]
        if not others:
            return {merchant_ids[0]: stage_tickets}
        each, remainder = divmod(stage_tickets - measured, len(others))
        targets = {merchant_ids[0]: measured}
        for index, merchant_id in enumerate(others):
            targets[merchant_id] = each + (1 if index < remainder else 0)
        return targets


def _pages_to_measure(log: Callable[[str], None], ticket_number: str) -> list[tuple[Page, str]]:
    pages = []
    for page in PAGES:
        try:
            kwargs = {"number": ticket_number} if page.takes_ticket else None
            pages.append((page, reverse(page.url_name, kwargs=kwargs)))
        except NoReverseMatch:
            log(f"Skipping the {page.name}: {page.url_name!r} does not resolve (not built yet?).")
    return pages


def _ensure_saved_views(bench_merchant: seed.BenchMerchant) -> None:
    membership = Membership.objects.get(merchant_id=bench_merchant.merchant_id, user_id=bench_merchant.agent_id)
    kept = set(
        SavedView.objects.filter(merchant_id=membership.merchant_id, owner_id=membership.user_id).values_list(
            "name", flat=True
        )
    )
    for name, filters in SAVED_VIEWS:
        if name not in kept:
            saved_view_create(membership=membership, name=name, filters=filters)


def _clients(bench_merchant: seed.BenchMerchant) -> dict[str, tuple[Client, dict]]:
    agent = User.objects.get(pk=bench_merchant.agent_id)
    session_client = Client()
    session_client.force_login(agent)

    merchant = Merchant.objects.get(pk=bench_merchant.merchant_id)
    for old_key in ApiKey.objects.filter(merchant=merchant, name=API_KEY_NAME, revoked_at__isnull=True):
        api_key_revoke(api_key=old_key)
    _api_key, full_key = api_key_create(merchant=merchant, name=API_KEY_NAME)
    return {
        "session": (session_client, {}),
        "api_key": (Client(), {"Authorization": f"Api-Key {full_key}"}),
    }


def run(
    *,
    tickets: int,
    requests: int,
    warmup: int,
    max_merchants: int,
    out: Measurements,
    log: Callable[[str], None],
) -> list[dict]:
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise seed.BenchDataError("The database has unapplied migrations: run `python manage.py migrate` first.")
    plan = Plan.for_size(tickets, max_merchants)
    customers = max(1, min(CUSTOMERS_PER_MERCHANT, plan.stages[-1] // plan.merchants))
    log(f"Bench data: {plan.merchants} merchants, {customers} customers each; stages of {plan.stages} tickets.")

    merchants = seed.ensure_merchants(plan.merchants)
    added, seconds = seed.timed(seed.ensure_customers, merchants, customers)
    log(f"Customers: {added} added in {seconds:.1f} s.")
    measured_merchant = merchants[0]
    conversation, seconds = seed.timed(seed.ensure_conversation_ticket, measured_merchant)
    log(f"Conversation ticket {conversation} ready in {seconds:.1f} s.")
    pages = _pages_to_measure(log, conversation)
    _ensure_saved_views(measured_merchant)
    clients = _clients(measured_merchant)
    merchant_ids = [m.merchant_id for m in merchants]

    # Reusing a data set left at the largest size, start there: one resize per run, not two.
    present = seed.data_size(seed.all_bench_merchant_ids()).tickets
    stages = plan.stages
    if present > (plan.stages[0] + plan.stages[-1]) // 2:
        stages = tuple(reversed(stages))
        log(f"Reusing {present} bench tickets: the largest stage first.")

    results: dict[tuple[str, int], PageTiming] = {}
    for stage_tickets in stages:
        targets = plan.targets(stage_tickets, merchant_ids)
        log(f"Stage: {stage_tickets} tickets, {targets[measured_merchant.merchant_id]} of the measured merchant.")
        (inserted, deleted), seconds = seed.timed(
            seed.resize_tickets,
            merchants,
            targets=targets,
            customers_per_merchant=customers,
            progress=log,
        )
        _none, analyze_seconds = seed.timed(seed.analyze, compact=deleted > 0)
        size = seed.data_size(merchant_ids)
        merchant_size = seed.data_size([measured_merchant.merchant_id])
        stage = {
            "tickets": size.tickets,
            "open_tickets": size.active_tickets,
            "merchants": plan.merchants,
            "merchant_tickets": merchant_size.tickets,
            "merchant_open_tickets": merchant_size.active_tickets,
        }
        out.emit("seed_time", round(seconds + analyze_seconds, 2), "s", inserted=inserted, deleted=deleted, **stage)

        for page, path in pages:
            client, headers = clients[page.auth]
            log(f"  {page.name} ({path}): {requests} requests.")
            timing = time_page(client, path, requests=requests, warmup=warmup, headers=headers)
            if not timing.ok:
                log(f"  {page.name} answered {timing.status}, not measured: {timing.error}")
                continue
            results[(page.url_name, stage["tickets"])] = timing
            measured = {
                "page": page.url_name,
                "path": path,
                "auth": page.auth,
                "requests": requests,
                **stage,
                # How busy the machine was: wall times on a shared machine are only as good as this.
                "load_average": round(os.getloadavg()[0], 2),
            }
            if timing.rows is not None:
                measured["rows"] = timing.rows
            out.emit("p50", round(timing.percentile(0.50), 3), "ms", **measured)
            out.emit("p95", round(timing.percentile(0.95), 3), "ms", **measured)
            out.emit("cpu_p50", round(timing.percentile(0.50, cpu=True), 3), "ms", **measured)
            out.emit("cpu_p95", round(timing.percentile(0.95, cpu=True), 3), "ms", **measured)
            out.emit(
                "queries_per_request",
                max(timing.queries),
                "queries",
                min_queries=min(timing.queries),
                counted_requests=len(timing.queries),
                **measured,
            )

    _verdicts(results, out)
    return out.lines


def _verdicts(results: dict[tuple[str, int], PageTiming], out: Measurements) -> None:
    for page in PAGES:
        sizes = sorted(tickets for url_name, tickets in results if url_name == page.url_name)
        if not sizes:
            continue
        small, large = results[(page.url_name, sizes[0])], results[(page.url_name, sizes[-1])]
        largest_p95 = large.percentile(0.95)
        out.emit(
            "p95_limit",
            round(largest_p95, 3),
            "ms",
            page=page.url_name,
            tickets=sizes[-1],
            limit=P95_LIMIT_MS,
            met=largest_p95 <= P95_LIMIT_MS,
        )
        if len(sizes) < 2:
            continue
        growth = largest_p95 / small.percentile(0.95)
        out.emit(
            "p95_growth",
            round(growth, 3),
            "ratio",
            page=page.url_name,
            from_tickets=sizes[0],
            to_tickets=sizes[-1],
            limit=P95_GROWTH_LIMIT,
            met=growth <= P95_GROWTH_LIMIT,
        )
        cpu_growth = large.percentile(0.95, cpu=True) / small.percentile(0.95, cpu=True)
        out.emit(
            "cpu_p95_growth",
            round(cpu_growth, 3),
            "ratio",
            page=page.url_name,
            from_tickets=sizes[0],
            to_tickets=sizes[-1],
            limit=P95_GROWTH_LIMIT,
            met=cpu_growth <= P95_GROWTH_LIMIT,
        )
        counts = sorted({*small.queries, *large.queries})
        out.emit(
            "queries_growth",
            max(large.queries) - max(small.queries),
            "queries",
            page=page.url_name,
            from_tickets=sizes[0],
            to_tickets=sizes[-1],
            counts_seen=counts,
            met=len(counts) == 1,
        )
