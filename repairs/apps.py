"""repairs: warranty, repair orders, and the dispatch of technicians to on-site repairs."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairsConfig(AppConfig):
    name = "repairs"
    verbose_name = _("Warranty repairs")

    def ready(self) -> None:
        from aftersales.bench import register_bench
        from repairs.handlers import register_handlers
        from repairs.timeline import dispatch_verb_labels
        from tickets.timeline import register_verb_labels

        register_handlers()
        register_bench("repairs", "repairs.bench")
        register_verb_labels(dispatch_verb_labels())
