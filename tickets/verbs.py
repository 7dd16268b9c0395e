"""The event verbs of routing, assignment, macros, links and closing, with their labels. They are
registered with the timeline in ``TicketsConfig.ready``; ``TicketEvent.Verb`` keeps the core ones."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoutingVerb(models.TextChoices):
    ROUTED = "routed", _("Routed by rules")
    AGENT_RELEASED = "agent_released", _("Handed back to the team's pool")
    MACRO_APPLIED = "macro_applied", _("Macro applied")
    MERGED_INTO = "merged_into", _("Merged into another ticket")
    MERGED_FROM = "merged_from", _("Another ticket merged into this one")
    LINKED = "linked", _("Linked")
    UNLINKED = "unlinked", _("Link removed")
    FOLLOW_UP_OPENED = "follow_up_opened", _("Follow-up ticket opened")
    FOLLOW_UP_OF = "follow_up_of", _("Opened as a follow-up")
    PENDING_CLOSE_SET = "pending_close_set", _("Set to close unless the customer answers")
    PENDING_CLOSE_CANCELLED = "pending_close_cancelled", _("Pending close cancelled")
    AUTO_CLOSED = "auto_closed", _("Closed automatically")
