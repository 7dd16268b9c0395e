from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Case hub")

    def ready(self):
        from aftersales.demo import register_story
        from tickets.services import register_deadline_handlers

        register_deadline_handlers()
        from tickets.timeline import register_verb_labels
        from tickets.verbs import RoutingVerb

        register_verb_labels(dict(RoutingVerb.choices))
        from aftersales.bench import register_bench

        register_bench("support-assign", "tickets.bench")
        register_story("tickets", "tickets.demo.TicketsDemoStory")
