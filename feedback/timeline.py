"""How feedback's steps read on a case's timeline, registered with the hub by
``FeedbackConfig.ready()``."""

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tickets.system_texts import SystemText


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


# Texts feedback writes on a recovery case, kept as a key and parameters (tickets.system_texts)
# so that the supervisor reads them in their language and the customer in theirs.
RECOVERY_SUBJECT = "feedback.recovery_subject"
RECOVERY_RATING_NOTE = "feedback.recovery_rating_note"
FOLLOWUP_NEW_PROBLEM_SUBJECT = "feedback.followup_new_problem_subject"


def recovery_rating_note(params: Mapping[str, Any]) -> str:
    """Why a rating opened the recovery case: the score on its scale, and the customer's comment."""
    lines = [
        gettext("Rating of %(number)s: %(score)s of %(scale)s.")
        % {"number": params["number"], "score": params["score"], "scale": params["scale"]}
    ]
    if params.get("comment"):
        lines.append(gettext("Comment: %(comment)s") % {"comment": params["comment"]})
    return "\n".join(lines)


def feedback_system_texts() -> dict[str, "SystemText | Promise"]:
    return {
        RECOVERY_SUBJECT: _("Following up on your request %(number)s"),
        RECOVERY_RATING_NOTE: recovery_rating_note,
        FOLLOWUP_NEW_PROBLEM_SUBJECT: _("New problem found on a follow-up call"),
    }
