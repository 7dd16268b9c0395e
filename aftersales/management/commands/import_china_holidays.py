from django.core.management.base import BaseCommand, CommandError

from aftersales.exceptions import ApplicationError
from aftersales.models import BusinessCalendar
from aftersales.services.calendars import calendar_import_china_schedule


class Command(BaseCommand):
    help = "Add China's official holidays and make-up working days of a year to a merchant's calendars."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True, help="merchant slug")
        parser.add_argument("--year", type=int, required=True)

    def handle(self, *args, merchant: str, year: int, **options):
        calendars = BusinessCalendar.objects.filter(merchant__slug=merchant)
        if not calendars.exists():
            raise CommandError(f"merchant {merchant!r} has no business calendar")
        for calendar in calendars:
            try:
                result = calendar_import_china_schedule(calendar=calendar, year=year)
            except ApplicationError as exc:
                raise CommandError(str(exc.message)) from exc
            self.stdout.write(f"{calendar}: {result.holidays} holidays, {result.working_days} working days added")
