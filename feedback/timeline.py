"""How feedback's steps read on a case's timeline, registered with the hub by
``FeedbackConfig.ready()``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FeedbackVerb(models.TextChoices):
    SURVEY_SKIPPED = "survey_skipped", _("did not send a satisfaction survey")
    SURVEY_SENT = "survey_sent", _("sent the satisfaction survey")
    SURVEY_REMINDED = "survey_reminded", _("reminded the customer of the survey")
    SURVEY_ANSWERED = "survey_answered", _("rated the service")
    SURVEY_CHANGED = "survey_changed", _("changed the rating")
    NPS_SENT = "nps_sent", _("asked how likely the customer is to recommend us")
    RECOVERY_OPENED = "recovery_opened", _("opened a recovery case")
    RECOVERY_CLOSED = "recovery_closed", _("closed the recovery case")
    RECOVERY_OVERDUE = "recovery_overdue", _("the recovery case is overdue")
    FOLLOWUP_SCHEDULED = "followup_scheduled", _("scheduled a follow-up call")
    FOLLOWUP_DUE = "followup_due", _("the follow-up call is due")
    FOLLOWUP_CALLED = "followup_called", _("made a follow-up call")


def feedback_verb_labels() -> dict[str, object]:
    return {verb.value: verb.label for verb in FeedbackVerb}
