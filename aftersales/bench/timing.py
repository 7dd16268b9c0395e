"""Pages as served by the app: the real WSGI stack in-process, one request at a time.

Each request goes through every middleware, the URL resolver, the view and the template or
serializer, exactly as under gunicorn; only the socket is missing. The time is taken around the
whole request. Queries are counted on separate requests, so that capturing them does not add to
the times.
"""

import gc
import math
import time
import warnings
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

QUERY_COUNT_REQUESTS = 5


@dataclass
class PageTiming:
    status: int
    samples_ms: list[float] = field(default_factory=list)
    # CPU time of the app's thread per request: what the app itself costs, without the time the
    # database took or another process held the CPU. Steadier than wall time on a busy machine.
    cpu_samples_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    rows: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error

    def percentile(self, fraction: float, *, cpu: bool = False) -> float:
        """Nearest rank: the smallest sample with at least ``fraction`` of the samples at or below it."""
        ordered = sorted(self.cpu_samples_ms if cpu else self.samples_ms)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return ordered[rank - 1]


def _rows(response) -> int | None:
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            return len(body["results"])
        if isinstance(body, list):
            return len(body)
    return None


def time_page(client: Client, path: str, *, requests: int, warmup: int, headers: dict | None = None) -> PageTiming:
    headers = headers or {}
    # Production conditions: no query log (DEBUG off); HTTPS, so that a production configuration
    # does not answer with a redirect; the test client's host name allowed.
    with (
        override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]),
        warnings.catch_warnings(),
    ):
        # Static files are not what is measured; WhiteNoise says so when nothing was collected.
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

        def get():
            return client.get(path, secure=True, headers=headers)

        first = get()
        if first.status_code != 200:
            return PageTiming(status=first.status_code, error=first.content[:300].decode("utf-8", "replace"))
        timing = PageTiming(status=200, rows=_rows(first))
        for _ in range(warmup):
            get()

        # The collector runs between requests, not inside a timed one.
        gc.collect()
        gc.disable()
        try:
            for number in range(requests):
                started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
                response = get()
                elapsed, elapsed_cpu = time.perf_counter_ns() - started, time.thread_time_ns() - started_cpu
                if response.status_code != 200:
                    timing.status = response.status_code
                    timing.error = f"request {number + 1} answered {response.status_code}"
                    return timing
                timing.samples_ms.append(elapsed / 1e6)
                timing.cpu_samples_ms.append(elapsed_cpu / 1e6)
                if number % 20 == 19:
                    gc.collect()
        finally:
            gc.enable()

        for _ in range(QUERY_COUNT_REQUESTS):
            with CaptureQueriesContext(connection) as captured:
                get()
            timing.queries.append(len(captured.captured_queries))
    return timing
