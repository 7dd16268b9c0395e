import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from aftersales.demo import DEFAULT_PASSWORD, demo_build


class Command(BaseCommand):
    help = _(
        "Build the demo merchant (stores, staff of every role, catalogue, orders, cases in every status) "
        "and a second small merchant. Safe to run again: nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=400, help=_("Orders of the demo merchant (default 400)."))
        parser.add_argument("--tickets", type=int, default=300, help=_("Cases of the demo merchant (default 300)."))
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help=_("The password of every demo login."))
        parser.add_argument("--seed", type=int, default=2024, help=_("Seed of the random generator."))

    def handle(self, *args, orders, tickets, password, seed, **options):
        if orders < 1 or tickets < 0:
            raise CommandError(_("--orders must be at least 1 and --tickets at least 0."))
        started = time.monotonic()
        summary = demo_build(orders=orders, tickets=tickets, password=password, seed=seed)
        out, style = self.stdout, self.style

        if summary.history_built:
            out.write(
                _("Built %(orders)s orders and %(tickets)s cases in %(seconds).1f s.")
                % {
                    "orders": summary.order_count,
                    "tickets": summary.ticket_count,
                    "seconds": time.monotonic() - started,
                }
            )
        else:
            out.write(
                _("The demo history exists already (%(orders)s orders, %(tickets)s cases); it was left as it is.")
                % {"orders": summary.order_count, "tickets": summary.ticket_count}
            )
        out.write("")
        out.write(style.MIGRATE_HEADING(_("Staff logins (dashboard /dashboard/, admin /admin/ for 'admin')")))
        for username, role in summary.staff:
            out.write(f"  {username:<14} {role}")
        out.write(_("  Password for all: %(password)s") % {"password": style.WARNING(summary.password)})
        out.write("")
        out.write(style.MIGRATE_HEADING(_("Customer portal")))
        out.write(f"  {summary.portal_url}")
        order = summary.portal_order
        if order is not None:
            out.write(_("  Order number: %(number)s") % {"number": order.external_number})
            out.write(
                _("  E-mail: %(email)s   Phone: %(phone)s")
                % {"email": order.contact_email, "phone": order.contact_phone}
            )
            out.write(_("  The one-time code goes to the outbox; the worker sends it (console e-mail by default)."))
        out.write("")
        out.write(style.MIGRATE_HEADING(_("API key of %(merchant)s") % {"merchant": summary.merchant.name}))
        out.write(f"  {summary.api_key}")
        out.write(_("  Authorization: Api-Key <key>. Shown once; running this command again replaces it."))
