from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = _("Returns and exchanges")

    def ready(self):
        from returns.handlers import register_handlers
        from returns.timeline import return_verb_labels
        from tickets.timeline import register_verb_labels

        register_handlers()
        register_verb_labels(return_verb_labels())
