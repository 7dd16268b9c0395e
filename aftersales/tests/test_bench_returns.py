"""``bench returns`` end to end, scaled down: gunicorn on loopback, real portal submissions, the refund race."""

import json
import os
import subprocess
import time
from io import StringIO

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

from returns.bench import SLUG, WARMUP_SUBMISSIONS, DatabaseBackends
from returns.models import Refund, ReturnRequest

# The server is another process: it sees only what is committed.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("processes")]


def test_bench_returns_submits_through_the_portal_without_errors_and_the_refund_race_gives_one_refund():
    # When the benchmark runs for 4 seconds at 10 submissions a second, with one Celery process:
    # the CPU of a process is read from /proc in clock ticks (10 ms), and a send costs about 2 ms,
    # so 10 sends spread over two processes could add no tick at all (CI saw worker_ms 0.0)
    stdout, stderr = StringIO(), StringIO()
    call_command(
        "bench", "returns", "--seconds", "4", "--rate", "10", "--workers", "2", "--concurrency", "4",
        "--celery-concurrency", "1", stdout=stdout, stderr=stderr,
    )  # fmt: skip
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]

    # Then every line is a measurement with the common fields
    assert lines
    for line in lines:
        assert {"bench", "metric", "value", "unit"} <= line.keys()
        assert line["bench"] == "returns"
    metrics = {line["metric"]: line for line in lines}
    # and the 40 timed submissions all went through, none failed
    assert metrics["errors"]["value"] == 0
    assert metrics["submissions_per_second"]["submissions"] == 40
    assert metrics["submissions_per_second"]["value"] > 0
    for name in ("p50", "p95", "p99", "confirm_post_p95"):
        assert metrics[name]["unit"] == "ms"
        assert metrics[name]["value"] > 0
    assert (metrics["p95"]["rate"], metrics["p95"]["seconds"], metrics["p95"]["workers"]) == (10.0, 4.0, 2)
    # and the CPU each submission cost is split by process, and adds up
    cpu = metrics["cpu_per_submission"]
    assert cpu["unit"] == "ms"
    assert cpu["server_ms"] > 0
    assert cpu["database_ms"] > 0
    assert cpu["client_ms"] > 0
    # and the worker sent each submission's message while it was counted
    assert cpu["worker_ms"] > 0
    assert cpu["notifications_sent"] == 40
    assert cpu["database_backends_counted"] == "own database only"
    assert cpu["product_ms"] == pytest.approx(cpu["server_ms"] + cpu["database_ms"] + cpu["worker_ms"], abs=0.2)
    # and the headline counts the system's processes, not the load generator (reported beside)
    assert cpu["counted"] == "server + database + worker"
    assert cpu["value"] == cpu["product_ms"]
    assert cpu["with_client_ms"] == pytest.approx(cpu["product_ms"] + cpu["client_ms"], abs=0.2)
    assert cpu["ceiling_per_second"] == pytest.approx(cpu["cpus"] * 1000 / cpu["with_client_ms"], rel=0.01)
    assert cpu["cores_for_target_rate"] == pytest.approx(100 * cpu["product_ms"] / 1000, abs=0.01)
    # and the cheapest request's CPU is measured the same way, as the unit a submission is read in
    floor = metrics["request_floor"]
    assert (floor["unit"], floor["requests"]) == ("ms", 2000)
    assert floor["server_ms"] > 0
    assert floor["client_ms"] > 0
    assert floor["value"] == pytest.approx(floor["server_ms"] + floor["database_ms"] + floor["client_ms"], abs=0.02)
    assert floor["submission_in_floors"] == pytest.approx(cpu["value"] / floor["value"], rel=0.05)
    # and the system's CPU is given again on the reference machine: scaled by 0.85 ms over this floor
    normalised = metrics["cpu_per_submission_normalised"]
    assert (normalised["unit"], normalised["reference_floor_ms"], normalised["target_ms"]) == ("ms", 0.85, 30.0)
    assert normalised["measured_ms"] == cpu["value"]
    assert normalised["value"] == pytest.approx(cpu["value"] * 0.85 / floor["value"], rel=0.02)
    assert normalised["met"] is (normalised["value"] <= 30.0)
    # and of 50 concurrent API refunds of one return, one was granted and 49 refused
    race = metrics["concurrent_refunds"]
    assert race["value"] == 1
    assert race["statuses"] == {"201": 1, "409": 49}

    # And the database holds what the customers did: a return per submission, warm-up included,
    # and one refund
    assert ReturnRequest.objects.filter(merchant__slug=SLUG).count() == 40 + WARMUP_SUBMISSIONS
    assert Refund.objects.filter(return_request__merchant__slug=SLUG).count() == 1


def _burn(dbname: str, *, close: bool) -> "psycopg2.extensions.connection":
    """A backend of ``dbname`` that spends about a second of CPU; closed (the backend ends) or left open."""
    settings_dict = connection.settings_dict
    other = psycopg2.connect(
        dbname=dbname,
        user=settings_dict["USER"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        password=settings_dict["PASSWORD"] or None,
    )
    with other.cursor() as cursor:
        cursor.execute("SELECT sum(g) FROM generate_series(1, 6000000) AS g")
        cursor.fetchone()
    if close:
        other.close()
    return other


def test_the_database_column_counts_the_backends_of_its_own_database_only_ended_ones_included():
    # Given the backends of this database being followed
    with DatabaseBackends.of_connection() as backends:
        before = backends.cpu_s()
        # When another database's backend works hard
        _burn("postgres", close=True)
        other_database = backends.cpu_s() - before
        # and then one of this database's backends works as hard and ends before the next sample
        _burn(connection.settings_dict["NAME"], close=True)
        time.sleep(0.2)
        own_database = backends.cpu_s() - before - other_database

    # Then the other database's second is not counted, and the ended backend's is
    assert backends.visible
    assert other_database < 0.05
    assert own_database > 0.2


def test_a_backend_seen_before_it_names_its_database_is_looked_at_again_not_taken_for_another():
    # Given a "postmaster" (this process) whose new child still shows the command line it was
    # started with, as a just-forked PostgreSQL backend shows the postmaster's until it sets its title
    child = subprocess.Popen(
        ["bash", "-c", 'read _; exec -a "postgres: 15/main: postgres aftersales_x 127.0.0.1(5) idle" sleep 30'],
        stdin=subprocess.PIPE,
    )
    try:
        backends = DatabaseBackends("aftersales_x", os.getpid())
        backends.scan()
        # Then it is neither counted nor set aside while it cannot be told
        assert all(pid != str(child.pid) for pid, _started in [*backends.ours, *backends.others])

        # When it names this database
        child.stdin.write(b"\n")
        child.stdin.close()
        for _ in range(100):
            with open(f"/proc/{child.pid}/cmdline", "rb") as cmdline:
                if cmdline.read().startswith(b"postgres: "):
                    break
            time.sleep(0.01)
        backends.scan()

        # Then it is one of this database's backends
        assert [pid for pid, _started in backends.ours] == [str(child.pid)]
        assert backends.others == set()
    finally:
        child.kill()
        child.wait()
