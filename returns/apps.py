from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = _("Returns and exchanges")

    def ready(self):
        from aftersales.bench import register_bench
        from aftersales.demo import register_story
        from returns.panels import register_panels
        from returns.timeline import RETURN_VERB_LABELS
        from returns.timers import register_handlers
        from tickets.timeline import register_verb_labels

        register_handlers()
        register_panels()
        register_story("returns", "returns.demo.ReturnsDemoStory")
        register_bench("returns", "returns.bench")
        register_verb_labels(RETURN_VERB_LABELS)
