"""``bench reports``: the KPI home, the CSV export and the daily quality run at size.
Registered with the bench harness (``aftersales.bench``) in ``FeedbackConfig.ready``; a module of
its own beside the surveys' ``feedback/bench.py``.

1. KPI home. The bench data set of ``bench queue`` (merchants ``bench-NN``, tickets ``BN-…``, one
   in ten open) is grown to 1 % of ``--tickets`` and then to ``--tickets``; at each stage the
   measured merchant's rollups are refreshed for the 30 days up to its newest case (the refresh is
   timed), and the KPI home for those 30 days is requested ``--requests`` times through the whole
   WSGI stack by a supervisor: p50, p95, queries per request.
2. CSV export. The queue export (``aftersales.exports`` with the queue's columns) of every bench
   ticket, streamed and read to the end in this process: rows per second, and the resident memory
   before, at its peak during, and after (sampled every 10 ms), which shows whether the process
   held the rows or streamed them.
3. Quality run. A merchant ``bench-quality`` with ``--skus`` products in 50 categories, one order
   a day for 91 days carrying one line per SKU, and merchant-fault return lines on ~2 % of them
   (one return a day), seeded once by set-based SQL; then ``quality_run`` is timed from no
   cohorts (the whole history computed) and again the same day (the daily run: the last week of
   mature cohorts and the young ones recomputed), with the CPU time of this process.

Targets (issue text): KPI home p95 ≤ 300 ms with the same queries at both sizes; CSV export
≥ 20,000 rows/s with flat memory; the quality run over 10,000 SKUs ≤ 10 s.
"""

import os
import tempfile
import threading
import time
from datetime import date, timedelta
from typing import Any

from django.core.management.base import CommandParser
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from aftersales.bench import seed
from aftersales.bench.output import Measurements
from aftersales.bench.queue import Plan
from aftersales.bench.timing import time_page
from aftersales.exports import ExportList, csv_stream, export_write
from aftersales.models import Customer, Membership, Merchant, Order, OrderLine, Product, Store, User
from feedback.models import QualityAlert, QualityAlertEvent, QualityCohort, QualitySettings
from feedback.services import quality_run, rollups_refresh
from returns.models import ReturnLine, ReturnReason, ReturnRequest
from tickets.exports import QUEUE_COLUMNS
from tickets.models import Ticket, TicketKind

BENCH = "reports"
HELP = "The KPI home at two sizes, the CSV export of every bench ticket, the daily quality run."
P95_LIMIT_MS = 300.0
EXPORT_RATE_TARGET = 20_000
QUALITY_LIMIT_S = 10.0
PERIOD_DAYS = 30
QUALITY_SLUG = "bench-quality"
QUALITY_DAYS = 91
QUALITY_CATEGORIES = 50
SUPERVISOR = "bench-supervisor-01"


def add_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--tickets", type=int, default=1_000_000, help="Tickets at the largest stage (default 1,000,000)."
    )
    parser.add_argument(
        "--merchants", type=int, default=50, help="Merchants the tickets are spread across (default 50)."
    )
    parser.add_argument("--requests", type=int, default=100, help="Timed KPI home requests per stage (default 100).")
    parser.add_argument("--warmup", type=int, default=10, help="Untimed requests first (default 10).")
    parser.add_argument("--skus", type=int, default=10_000, help="SKUs of the quality run (default 10,000).")
    parser.add_argument(
        "--only", choices=("home", "export", "quality"), action="append", help="Run only these parts (repeatable)."
    )


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class _PeakRss:
    def __init__(self) -> None:
        self.peak = _rss_kib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss_kib())

    def __enter__(self) -> "_PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _supervisor_client(merchant_id: int) -> Client:
    user, _created = User.objects.get_or_create(username=SUPERVISOR, defaults={"language": "en"})
    Membership.objects.update_or_create(
        merchant_id=merchant_id, user=user, defaults={"role": Membership.Role.SUPERVISOR, "is_active": True}
    )
    client = Client()
    client.force_login(user)
    return client


def _home(options: dict, out: Measurements, log: Any) -> None:
    plan = Plan.for_size(options["tickets"], options["merchants"])
    customers = max(1, min(2_000, plan.stages[-1] // plan.merchants))
    merchants = seed.ensure_merchants(plan.merchants)
    seed.ensure_customers(merchants, customers)
    measured = merchants[0]
    merchant = Merchant.objects.get(pk=measured.merchant_id)
    client = _supervisor_client(measured.merchant_id)
    merchant_ids = [m.merchant_id for m in merchants]
    # Small then large, so that the export after this part reads the largest data set.
    stages = plan.stages
    results = {}
    for stage_tickets in stages:
        (inserted, deleted), seconds = seed.timed(
            seed.resize_tickets,
            merchants,
            targets=plan.targets(stage_tickets, merchant_ids),
            customers_per_merchant=customers,
            progress=log,
        )
        seed.analyze(compact=deleted > 0)
        size = seed.data_size(merchant_ids)
        newest = (
            Ticket.objects.filter(merchant=merchant).order_by("-created_at").values_list("created_at", flat=True)[0]
        )
        last = timezone.localtime(newest, timezone=timezone.get_fixed_timezone(480)).date()
        first = last - timedelta(days=PERIOD_DAYS - 1)
        refreshed, refresh_seconds = seed.timed(rollups_refresh, merchant=merchant, first_day=first, last_day=last)
        stage = {"tickets": size.tickets, "merchant_tickets": seed.data_size([merchant.pk]).tickets}
        out.emit("seed_time", round(seconds, 2), "s", inserted=inserted, deleted=deleted, **stage)
        out.emit("rollup_refresh_30_days", round(refresh_seconds, 3), "s", rows=refreshed.ticket_rows, **stage)
        path = f"/dashboard/reports/kpi/?start={first.isoformat()}&end={last.isoformat()}"
        log(f"  KPI home {path}: {options['requests']} requests at {size.tickets} tickets.")
        timing = time_page(client, path, requests=options["requests"], warmup=options["warmup"])
        if not timing.ok:
            log(f"  KPI home answered {timing.status}: {timing.error}")
            continue
        results[size.tickets] = timing
        measured_fields = {"page": "dashboard:kpi_home", "requests": options["requests"], **stage}
        measured_fields["load_average"] = round(os.getloadavg()[0], 2)
        out.emit("p50", round(timing.percentile(0.5), 3), "ms", **measured_fields)
        out.emit("p95", round(timing.percentile(0.95), 3), "ms", **measured_fields)
        # The app's own CPU per request: on a shared machine the wall time is mostly waiting.
        out.emit("cpu_p50", round(timing.percentile(0.5, cpu=True), 3), "ms", **measured_fields)
        out.emit("cpu_p95", round(timing.percentile(0.95, cpu=True), 3), "ms", **measured_fields)
        out.emit("queries_per_request", max(timing.queries), "queries", **measured_fields)
    if len(results) == 2:
        small, large = (results[key] for key in sorted(results))
        p95 = large.percentile(0.95)
        out.emit(
            "verdict_kpi_home",
            p95 <= P95_LIMIT_MS and max(small.queries) == max(large.queries),
            "bool",
            p95_ms=round(p95, 3),
            limit_ms=P95_LIMIT_MS,
            queries_small=max(small.queries),
            queries_large=max(large.queries),
        )


def _export(out: Measurements, log: Any) -> None:

    tickets = Ticket.objects.filter(merchant_id__in=seed.all_bench_merchant_ids()).select_related(
        "customer", "assignee", "order"
    )
    log("  CSV export of every bench ticket.")
    rss_before = _rss_kib()
    rows = 0
    written = 0
    with _PeakRss() as peak:
        started = time.perf_counter()
        cpu_started = time.process_time()
        for chunk in csv_stream(tickets.order_by("pk"), QUEUE_COLUMNS):
            written += len(chunk)
            rows += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    rows -= 1  # the heading
    rate = rows / seconds if seconds else 0.0
    out.emit(
        "export_rows_per_second",
        round(rate),
        "rows/s",
        rows=rows,
        seconds=round(seconds, 2),
        # This process's CPU (the database's is not in it): on a shared machine the wall time is
        # mostly waiting, so rows per CPU-second is the figure that compares between runs.
        cpu_s=round(cpu_seconds, 2),
        rows_per_cpu_second=round(rows / cpu_seconds) if cpu_seconds else 0,
        megabytes=round(written / 1e6, 1),
        rss_before_mib=round(rss_before / 1024, 1),
        rss_peak_mib=round(peak.peak / 1024, 1),
        rss_after_mib=round(_rss_kib() / 1024, 1),
        load_average=round(os.getloadavg()[0], 2),
    )
    out.emit("verdict_export", rate >= EXPORT_RATE_TARGET, "bool", target_rows_per_second=EXPORT_RATE_TARGET)
    _export_job(tickets, out, log)


def _export_job(tickets: Any, out: Measurements, log: Any) -> None:
    """The same export as a background job writes it (``aftersales.exports.export_write`` into a
    temp file, with its progress updates): rows/s, CPU, peak RSS and the progress queries."""
    log("  The same export as a background job writes it (to a temp file, with progress).")
    updates = 0

    def progress(rows: int) -> None:
        nonlocal updates
        updates += 1

    export = ExportList(rows=tickets.order_by("pk"), columns=QUEUE_COLUMNS, stem="queue")
    rss_before = _rss_kib()
    with _PeakRss() as peak, tempfile.TemporaryFile() as target:
        started = time.perf_counter()
        cpu_started = time.process_time()
        rows = export_write(export, file_format="csv", target=target, progress=progress)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        size = target.tell()
    out.emit(
        "export_job_rows_per_second",
        round(rows / seconds) if seconds else 0,
        "rows/s",
        rows=rows,
        seconds=round(seconds, 2),
        cpu_s=round(cpu_seconds, 2),
        rows_per_cpu_second=round(rows / cpu_seconds) if cpu_seconds else 0,
        progress_updates=updates,
        megabytes=round(size / 1e6, 1),
        rss_before_mib=round(rss_before / 1024, 1),
        rss_peak_mib=round(peak.peak / 1024, 1),
        load_average=round(os.getloadavg()[0], 2),
    )


def _quality_seed(skus: int, today: date, log: Any) -> Merchant:
    merchant, _created = Merchant.objects.get_or_create(slug=QUALITY_SLUG, defaults={"name": "Bench quality"})
    if Product.objects.filter(merchant=merchant).count() == skus:
        return merchant
    log(f"  Seeding {skus} SKUs × {QUALITY_DAYS} days of deliveries.")
    with transaction.atomic():
        Merchant.objects.filter(pk=merchant.pk).delete()
        merchant = Merchant.objects.create(slug=QUALITY_SLUG, name="Bench quality")
        store = Store.objects.create(merchant=merchant, name="Bench", platform="own", external_id="bench")
        customer = Customer.objects.create(merchant=merchant, name="Bench buyer", email="buyer@bench.example")
        reason = ReturnReason.objects.create(merchant=merchant, code="fault", name="Fault", responsibility="merchant")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO aftersales_product (merchant_id, sku, name, category, variant_attributes, variant_group,"
                " variant_position, price, is_active, returnable, warranty_months, serialized, created_at, updated_at)"
                " SELECT %s, 'Q-' || lpad(s::text, 6, '0'), 'Bench product ' || s, 'category-' || (s %% %s), '{}',"
                " '', 0, 100, true, true, 12, false, now(), now() FROM generate_series(1, %s) s",
                [merchant.pk, QUALITY_CATEGORIES, skus],
            )
        orders = Order.objects.bulk_create(
            Order(
                merchant=merchant,
                store=store,
                customer=customer,
                external_number=f"Q{day:03d}",
                currency="CNY",
                placed_at=timezone.now() - timedelta(days=day + 2),
                delivered_at=timezone.now() - timedelta(days=day),
            )
            for day in range(16, 16 + QUALITY_DAYS)
        )
        with connection.cursor() as cursor:
            # Units per line 50–250; the product id decides, so every day looks alike.
            cursor.execute(
                "INSERT INTO aftersales_orderline (merchant_id, order_id, line_number, product_id, sku, name, quantity,"
                " unit_price, discount_amount, serial_numbers, quantity_requested, quantity_received,"
                " quantity_accepted, quantity_refunded, quantity_exchanged, quantity_written_off, created_at,"
                " updated_at)"
                " SELECT %s, o.id, p.id::text, p.id, p.sku, p.name, 50 + (p.id %% 201), 100, 0, '[]', 0, 0, 0, 0, 0,"
                " 0, now(), now() FROM aftersales_order o CROSS JOIN aftersales_product p"
                " WHERE o.merchant_id = %s AND p.merchant_id = %s",
                [merchant.pk, merchant.pk, merchant.pk],
            )
        for order in orders:
            delivered_at = order.delivered_at or timezone.now()
            ticket = Ticket.objects.create(
                merchant=merchant,
                number=f"RT-{order.external_number}",
                kind=TicketKind.RETURN,
                channel="portal",
                subject="Bench claims",
                customer=customer,
                order=order,
            )
            request = ReturnRequest.objects.create(
                merchant=merchant,
                ticket=ticket,
                order=order,
                customer=customer,
                resolution="refund",
                reason=reason,
                submitted_at=delivered_at + timedelta(days=3),
            )
            claimed = OrderLine.objects.filter(order=order).extra(
                where=["(product_id + %s) %% 50 = 0"], params=[order.pk]
            )
            ReturnLine.objects.bulk_create(
                ReturnLine(
                    return_request=request,
                    order_line_id=line_id,
                    quantity=1 + product_id % 3,
                    unit_refund_amount=100,
                    window_ends_at=delivered_at + timedelta(days=7),
                )
                for line_id, product_id in claimed.values_list("pk", "product_id")
            )
    seed.analyze()
    with connection.cursor() as cursor:
        for model in (OrderLine, ReturnLine, Order):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return merchant


def _quality(options: dict, out: Measurements, log: Any) -> None:
    today = timezone.localdate()
    (merchant, seconds) = seed.timed(_quality_seed, options["skus"], today, log)
    out.emit("quality_seed_time", round(seconds, 2), "s", skus=options["skus"])
    # Each bench run starts from no cohorts and no alerts, so that runs compare: the first run
    # computes the whole history; the daily run after it, the same day, recomputes the last
    # week of mature cohorts and the young ones (what beat does each morning).
    with transaction.atomic():
        QualityAlertEvent.objects.filter(merchant=merchant).delete()
        QualityAlert.objects.filter(merchant=merchant).delete()
        QualityCohort.objects.filter(merchant=merchant).delete()
        QualitySettings.objects.filter(merchant=merchant).update(cohorts_refreshed_on=None)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {QualityCohort._meta.db_table}")
    for metric in ("quality_run_full_history", "quality_run"):
        if metric == "quality_run":
            QualityAlertEvent.objects.filter(merchant=merchant).delete()
            QualityAlert.objects.filter(merchant=merchant).delete()
        cpu_started = time.process_time()
        run, seconds = seed.timed(quality_run, merchant=merchant, today=today)
        out.emit(
            metric,
            round(seconds, 3),
            "s",
            cpu_s=round(time.process_time() - cpu_started, 3),
            skus=run.products,
            cohorts=run.cohorts,
            alerts=len(run.alerts),
            load_average=round(os.getloadavg()[0], 2),
        )
    out.emit("verdict_quality_run", seconds <= QUALITY_LIMIT_S, "bool", limit_s=QUALITY_LIMIT_S)


def command(options: dict, *, stdout: Any, stderr: Any) -> None:
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise seed.BenchDataError("The database has unapplied migrations: run `python manage.py migrate` first.")
    out = Measurements(BENCH, stdout)

    def log(message: str) -> None:
        stderr.write(message)

    parts = options.get("only") or ["home", "export", "quality"]
    if "home" in parts:
        _home(options, out, log)
    if "export" in parts:
        _export(out, log)
    if "quality" in parts:
        _quality(options, out, log)
