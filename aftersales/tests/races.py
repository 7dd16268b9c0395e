"""Races on PostgreSQL for the tests: many threads, each with its own connection and transaction,
released at once by a barrier.

Every thread opens its connection *before* the barrier, so the race starts with all of them
connected and the attempts really do overlap. PostgreSQL's ``max_connections`` (100 here) is
shared with the other pytest-xdist worker, whose tests hold connections of their own for a moment
(a live server's request threads, a Celery worker, a second race group); a thread that finds the
server full ("too many clients already") waits and tries again rather than entering the race
without a connection, which would fail the test for a reason the test is not about.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, connection

from aftersales.exceptions import ApplicationError

CONNECT_PATIENCE_SECONDS = 60.0
BARRIER_SECONDS = CONNECT_PATIENCE_SECONDS + 30.0


def connect_patiently(patience: float = CONNECT_PATIENCE_SECONDS) -> None:
    """Open this thread's connection, waiting while the server has no connection slot free."""
    deadline = time.monotonic() + patience
    while True:
        try:
            connection.ensure_connection()
            return
        except OperationalError as error:
            if "too many clients" not in str(error) or time.monotonic() > deadline:
                raise
            connection.close()
            time.sleep(0.2)


class _Unfinished(Exception):
    """A thread still running when the race gave up waiting for it."""


def _run_threads(count: int, action: Callable[[int], Any]) -> list[BaseException | None]:
    """Run ``action(index)`` in ``count`` threads released together; per thread, what it raised
    (None when it returned)."""
    barrier = threading.Barrier(count, timeout=BARRIER_SECONDS)
    results: list[BaseException | None] = [_Unfinished(f"thread {index} did not finish") for index in range(count)]

    def run(index: int) -> None:
        try:
            refused: OperationalError | None = None
            try:
                connect_patiently()
            except OperationalError as error:
                refused = error
            # Every thread reaches the barrier, connected or not, so none waits for a party that
            # will never come; one that could not connect reports why.
            barrier.wait()
            if refused is not None:
                raise refused
            action(index)
            results[index] = None
        except BaseException as error:  # noqa: BLE001 — reported to the test as the outcome
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BARRIER_SECONDS + 120)
    return results


def race(count: int, attempt: Callable[[], Any]) -> list[str]:
    """Run ``attempt()`` in ``count`` threads at once; each outcome is "ok", the refusal's code,
    or "error: …" for anything else, sorted."""

    def outcome(error: BaseException | None) -> str:
        if error is None:
            return "ok"
        if isinstance(error, ApplicationError):
            return error.code
        return f"error: {error!r}"

    return sorted(outcome(error) for error in _run_threads(count, lambda _index: attempt()))


def race_errors(count: int, action: Callable[[int], Any]) -> list[BaseException]:
    """Run ``action(index)`` in ``count`` threads at once; returns what they raised."""
    return [error for error in _run_threads(count, action) if error is not None]
