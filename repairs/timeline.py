"""How dispatch's steps read on a case's timeline: the event verbs visits append, registered with
the hub's timeline by ``RepairsConfig.ready()``."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DispatchVerb(models.TextChoices):
    VISIT_BOOKED = "visit_booked", _("booked a technician's visit")
    VISIT_RESCHEDULED = "visit_rescheduled", _("moved the technician's visit to another time")
    VISIT_CANCELLED = "visit_cancelled", _("cancelled the technician's visit")
    VISIT_ASSIGNED = "visit_assigned", _("assigned the visit to a technician")
    VISIT_PLANNED = "visit_planned", _("planned the visit into a technician's day")
    VISIT_REMINDED = "visit_reminded", _("reminded the customer of tomorrow's visit")
    VISIT_ON_THE_WAY = "visit_on_the_way", _("is on the way")
    VISIT_CHECKED_IN = "visit_checked_in", _("arrived at the customer's address")
    VISIT_CHECKED_OUT = "visit_checked_out", _("finished the visit")
    VISIT_NO_SHOW = "visit_no_show", _("recorded that someone was not there for the visit")


def dispatch_verb_labels() -> dict[str, object]:
    return {verb.value: verb.label for verb in DispatchVerb}
