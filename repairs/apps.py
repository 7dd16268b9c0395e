from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairsConfig(AppConfig):
    name = "repairs"
    verbose_name = _("Warranty repairs")

    def ready(self) -> None:
        from aftersales.bench import register_bench
        from aftersales.demo import register_story
        from aftersales.services.orders import register_delivered_hook
        from repairs.handlers import register_handlers
        from repairs.panels import register_panels
        from repairs.queue_filters import register_queue_filters
        from repairs.services import registrations_for_delivered_order
        from repairs.timeline import dispatch_verb_labels, repair_system_texts, repair_verb_details, repair_verb_labels
        from tickets.system_texts import register_system_texts
        from tickets.timeline import register_verb_details, register_verb_labels

        register_handlers()
        register_panels()
        register_queue_filters()
        register_system_texts(repair_system_texts())
        register_verb_labels(repair_verb_labels())
        register_verb_labels(dispatch_verb_labels())
        register_verb_details(repair_verb_details())
        register_bench("repairs", "repairs.bench")
        register_delivered_hook(registrations_for_delivered_order)
        register_story("repairs", "repairs.demo.RepairsDemoStory")
        register_exports()


def register_exports() -> None:
    """The repair columns of the queue's export when it is filtered to repairs."""
    from repairs.exports import REPAIR_QUEUE_COLUMNS, repair_queue_annotate
    from tickets.exports import queue_kind_columns_register
    from tickets.models import TicketKind

    queue_kind_columns_register(TicketKind.REPAIR, annotate=repair_queue_annotate, columns=REPAIR_QUEUE_COLUMNS)
