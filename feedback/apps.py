from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from aftersales.bench import register_bench
        from aftersales.demo import register_story
        from feedback.contributors import register_contributor, register_survey_exclusion
        from feedback.handlers import register_handlers
        from feedback.panels import register_panels
        from feedback.selectors import survey_exclusion_merged, technician_score_lines
        from feedback.services import feedback_on_ticket_status, followups_on_repair_done, surveys_on_ticket_merged
        from feedback.timeline import feedback_system_texts, feedback_verb_labels
        from repairs.hooks import register_repair_done_listener, register_technician_scores
        from repairs.selectors import served_by_repair
        from tickets.hooks import register_merge_listener, register_status_listener
        from tickets.system_texts import register_system_texts
        from tickets.timeline import register_verb_labels

        register_handlers()
        register_panels()
        register_status_listener("feedback", feedback_on_ticket_status)
        register_verb_labels(feedback_verb_labels())
        register_system_texts(feedback_system_texts())
        # feedback follows repairs (and returns) and never the other way: it plugs into repairs'
        # hook and reads repairs' technician, so repairs imports nothing of feedback.
        register_contributor("repairs", served_by_repair)
        register_repair_done_listener("feedback", followups_on_repair_done)
        register_technician_scores("feedback", technician_score_lines)
        # The merge lives in the hub, which imports no workflow app: feedback skips the merged
        # case's scheduled survey when it merges, and any survey that falls due for it later.
        register_merge_listener("feedback", surveys_on_ticket_merged)
        register_survey_exclusion("merged", survey_exclusion_merged)
        register_story("feedback", "feedback.demo.FeedbackDemoStory")
        register_bench("surveys", "feedback.bench")
        register_bench("reports", "feedback.bench_reports")
