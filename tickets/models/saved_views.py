"""Saved views of the queue: a member's named set of filters, for them alone or shared with one of
their teams; the queue shows each with the count of tickets it holds now."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel

from .tickets import Team

# The queue's filters a view keeps (QueueFilterForm's fields), and nothing else.
SAVED_VIEW_FIELDS = ("q", "kind", "status", "assignee", "priority", "sort")


class SavedView(MerchantOwnedModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=60)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="saved_views",
        verbose_name=_("shared with team"),
        help_text=_("Every member of this team sees the view; empty keeps it to its owner."),
    )

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "owner", "name"], name="savedview_unique_name"),
            models.CheckConstraint(condition=~Q(name=""), name="savedview_has_name"),
        ]

    def __str__(self) -> str:
        return self.name
