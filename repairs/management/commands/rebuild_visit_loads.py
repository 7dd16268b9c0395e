"""Keep the technicians' load counters true: report where they drifted from the visits they count
(a queryset update or data fix that bypassed the dispatch services) and recount them.

    manage.py rebuild_visit_loads                 report and rebuild every merchant that drifted
    manage.py rebuild_visit_loads --merchant 7    only merchant 7
    manage.py rebuild_visit_loads --check         report only; exit 1 when anything drifted
"""

from django.core.management.base import BaseCommand, CommandError

from aftersales.models import Merchant
from repairs.selectors.loads import technician_load_drift
from repairs.services.visit_load import technician_loads_rebuild

SHOWN = 20


class Command(BaseCommand):
    help = "Report the technicians' load counters that drifted from their visits, and rebuild them."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", type=int, default=None, help="Only this merchant (its id).")
        parser.add_argument(
            "--check", action="store_true", help="Report only, change nothing; exit 1 when a counter drifted."
        )

    def handle(self, *args, merchant: int | None, check: bool, **options):
        merchants = Merchant.objects.order_by("pk")
        if merchant is not None:
            merchants = merchants.filter(pk=merchant)
            if not merchants.exists():
                raise CommandError(f"No merchant with id {merchant}.")
        drifted = 0
        for shop in merchants:
            drift = technician_load_drift(shop)
            if not drift:
                self.stdout.write(f"merchant {shop.pk} ({shop.slug}): counters true")
                continue
            drifted += 1
            windows = sum(1 for row in drift if row.kind == "window")
            self.stdout.write(
                f"merchant {shop.pk} ({shop.slug}): {windows} window and {len(drift) - windows} day counters drifted"
            )
            for row in drift[:SHOWN]:
                key = row.key.isoformat()
                self.stdout.write(
                    f"  {row.kind} technician={row.technician_id} {key}: stored {row.stored}, counted {row.counted}"
                )
            if len(drift) > SHOWN:
                self.stdout.write(f"  … and {len(drift) - SHOWN} more")
            if not check:
                written = technician_loads_rebuild(merchant=shop)
                self.stdout.write(f"merchant {shop.pk} ({shop.slug}): rebuilt, {written} window counters written")
        if check and drifted:
            raise CommandError(f"{drifted} merchant(s) with drifted load counters; run without --check to rebuild.")
