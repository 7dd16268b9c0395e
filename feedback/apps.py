from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from aftersales.bench import register_bench
        from aftersales.demo import register_story
        from feedback.handlers import register_handlers
        from feedback.panels import register_panels
        from feedback.services import feedback_on_ticket_status
        from feedback.timeline import feedback_verb_labels
        from tickets.hooks import register_status_listener
        from tickets.timeline import register_verb_labels

        register_handlers()
        register_panels()
        register_status_listener("feedback", feedback_on_ticket_status)
        register_verb_labels(feedback_verb_labels())
        register_story("feedback", "feedback.demo.FeedbackDemoStory")
        register_bench("surveys", "feedback.bench")
        register_bench("reports", "feedback.bench_reports")
