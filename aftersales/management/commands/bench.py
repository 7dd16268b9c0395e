"""``python manage.py bench <name>``: benchmarks that print one JSON object per measurement per line.

    python manage.py bench queue                      # 10,000 then 1,000,000 tickets, 200 requests each
    python manage.py bench queue --tickets 100000 --requests 300
    python manage.py bench sweep                      # 1,000,000 pending, 10,000 due
    python manage.py bench returns                    # portal submissions, 100/s for 60 s, gunicorn

The harness (``aftersales.bench``: output, timing, seeding) and the kernel's and the hub's benches
live in ``aftersales/bench``; an app registers its own bench (``returns/bench.py``) in its
``AppConfig.ready``. Run it against a database of its own; it writes merchants ``bench-*`` and their tickets.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from aftersales.bench import queue, registered_benches, sweep
from aftersales.bench.output import Measurements
from aftersales.bench.seed import BenchDataError
from aftersales.encryption import development_key


class Command(BaseCommand):
    help = "Run a benchmark. Prints one JSON object per measurement on its own line; progress goes to stderr."

    def add_arguments(self, parser: CommandParser) -> None:
        benches = parser.add_subparsers(dest="bench", metavar="BENCH", required=True)
        queue_parser = benches.add_parser(
            "queue",
            help="The dashboard queue page and the ticket list API at 1%% of --tickets and at --tickets.",
        )
        queue_parser.add_argument(
            "--tickets", type=int, default=1_000_000, help="Tickets at the largest stage (default 1,000,000)."
        )
        queue_parser.add_argument(
            "--requests", type=int, default=200, help="Timed requests per page and stage (default 200)."
        )
        queue_parser.add_argument(
            "--warmup", type=int, default=20, help="Untimed requests before the timed ones (default 20)."
        )
        queue_parser.add_argument(
            "--merchants", type=int, default=50, help="Merchants the tickets are spread across (default 50)."
        )

        sweep_parser = benches.add_parser(
            "sweep", help="The timers sweep: idle cost over many pending deadlines, fire rate, lateness."
        )
        sweep_parser.add_argument(
            "--pending", type=int, default=1_000_000, help="Pending, not due (default 1,000,000)."
        )
        sweep_parser.add_argument("--due", type=int, default=10_000, help="Due deadlines to fire (default 10,000).")
        sweep_parser.add_argument(
            "--interval", type=float, default=None, help="Sweep interval in seconds (default DEADLINE_SWEEP_SECONDS)."
        )

        # The benches an app registers (``aftersales.bench.register_bench``): returns' submissions.
        for name, bench in registered_benches().items():
            bench.add_arguments(benches.add_parser(name, help=bench.HELP))

    def handle(self, *args, **options):
        # Production conditions for everything measured in this process: DEBUG off, so no query is
        # logged by Django's debug cursor (about 0.05 ms a statement, 0.5 ms a mail message).
        # Statement counts come from execute wrappers or CaptureQueriesContext, which work either way.
        # Without DEBUG, secrets at rest need a configured key: the development one DEBUG would use,
        # so what a DEBUG process stored stays readable.
        keys = settings.SECRETS_ENCRYPTION_KEYS or [development_key().decode()]
        # The benches' test clients call the host "testserver".
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(DEBUG=False, SECRETS_ENCRYPTION_KEYS=keys, ALLOWED_HOSTS=hosts):
            if options["bench"] == "queue":
                self._queue(options)
            elif options["bench"] == "sweep":
                self._sweep(options)
            else:
                registered_benches()[options["bench"]].command(options, stdout=self.stdout, stderr=self.stderr)

    def _sweep(self, options) -> None:
        if options["pending"] < 0 or options["due"] < 1:
            raise CommandError("--pending must not be negative and --due must be positive.")
        try:
            sweep.run(
                pending=options["pending"],
                due=options["due"],
                interval=options["interval"] or settings.DEADLINE_SWEEP_SECONDS,
                out=Measurements(sweep.BENCH, self.stdout),
                log=lambda message: self.stderr.write(message, style_func=str),
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc

    def _queue(self, options) -> None:
        if options["tickets"] < 1 or options["requests"] < 1 or options["merchants"] < 1 or options["warmup"] < 0:
            raise CommandError("--tickets, --requests and --merchants must be positive, --warmup not negative.")
        try:
            queue.run(
                tickets=options["tickets"],
                requests=options["requests"],
                warmup=options["warmup"],
                max_merchants=options["merchants"],
                out=Measurements(queue.BENCH, self.stdout),
                log=lambda message: self.stderr.write(message, style_func=str),
            )
        except BenchDataError as exc:
            raise CommandError(str(exc)) from exc
