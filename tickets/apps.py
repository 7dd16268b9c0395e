from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Case hub")

    def ready(self):
        from aftersales.bench import register_bench
        from aftersales.demo import register_story
        from tickets.complaint_panels import register_complaint_panels
        from tickets.models import ComplaintVerb
        from tickets.services import register_deadline_handlers
        from tickets.services.complaints import register_complaint_handlers
        from tickets.timeline import register_verb_labels
        from tickets.verbs import RoutingVerb

        register_deadline_handlers()
        register_complaint_handlers()
        register_complaint_panels()
        register_verb_labels(dict(RoutingVerb.choices))
        register_verb_labels(dict(ComplaintVerb.choices))
        register_story("tickets", "tickets.demo.TicketsDemoStory")
        register_bench("support-assign", "tickets.bench_assign")
        register_bench("support-kb", "tickets.bench_knowledge")
        register_mail()
        register_exports()


def register_exports() -> None:
    """The queue's export, which a worker runs when it is large (``aftersales.services.exports``)."""
    from aftersales.exports import export_source_register
    from tickets.views.exports import QUEUE_EXPORT_SOURCE, queue_export_source

    export_source_register(QUEUE_EXPORT_SOURCE, queue_export_source)


def register_mail() -> None:
    """The e-mail and phone channels' box on the ticket page, their timeline verbs, their bench."""
    from aftersales.bench import register_bench
    from tickets.panels import register_staff_box
    from tickets.services.calls import PHONE_CALL_VERB
    from tickets.timeline import register_verb_labels
    from tickets.views.mail import PHONE_CALL_BOX_TEMPLATE, phone_call_box

    register_staff_box("phone_call", template_name=PHONE_CALL_BOX_TEMPLATE, context=phone_call_box)
    register_verb_labels({PHONE_CALL_VERB: _("logged a phone call")})
    register_bench("support", "tickets.bench_support")
