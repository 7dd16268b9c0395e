"""The kinds of feedback's deadlines: plain names, so selectors and pages can read the clocks
without importing ``feedback.timers``, which starts and stops them."""

from django.utils.translation import gettext_lazy

SURVEY_SEND = "survey.send"
SURVEY_REMINDER = "survey.reminder"
SURVEY_NPS = "survey.nps"
FOLLOWUP_VISIT = "followup.visit"
RECOVERY_DUE = "recovery.due"
FEEDBACK_TIMER_KINDS = (SURVEY_SEND, SURVEY_REMINDER, SURVEY_NPS, FOLLOWUP_VISIT, RECOVERY_DUE)
# The customer's surveys are not staff work: they do not sort the queue.
CUSTOMER_FACING_KINDS = (SURVEY_SEND, SURVEY_REMINDER, SURVEY_NPS)

TIMER_LABELS = {
    SURVEY_SEND: gettext_lazy("Satisfaction survey sent"),
    SURVEY_REMINDER: gettext_lazy("Survey reminder"),
    SURVEY_NPS: gettext_lazy("Recommendation survey sent"),
    FOLLOWUP_VISIT: gettext_lazy("Follow-up call"),
    RECOVERY_DUE: gettext_lazy("Recovery case due"),
}
