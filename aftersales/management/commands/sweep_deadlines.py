import time

from django.conf import settings
from django.core.management.base import BaseCommand

from aftersales.services.deadlines import deadlines_sweep


class Command(BaseCommand):
    help = "Fire due deadlines now (the same sweep Celery beat runs), once or in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep sweeping every DEADLINE_SWEEP_SECONDS.")
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args, loop: bool, batch_size: int | None, **options):
        while True:
            result = deadlines_sweep(batch_size=batch_size)
            self.stdout.write(
                f"fired={result.fired} warned={result.warned} retried={result.retried} "
                f"failed={result.failed} batches={result.batches}"
            )
            if not loop:
                return
            time.sleep(settings.DEADLINE_SWEEP_SECONDS)
