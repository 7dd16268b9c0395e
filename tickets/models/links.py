"""Links between tickets: related, parent and child, merged into, and the follow-up a late
customer message opens."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel


class TicketLinkKind(models.TextChoices):
    RELATED = "related", _("Related")
    PARENT = "parent", _("Parent of")  # source is the parent, target the child
    MERGED_INTO = "merged_into", _("Merged into")
    FOLLOW_UP = "follow_up", _("Followed up by")  # source resolved, target opened after its window


class TicketLink(MerchantOwnedModel):
    source = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="links_out", verbose_name=_("ticket")
    )
    target = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="links_in", verbose_name=_("linked ticket")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TicketLinkKind.choices)
    created_by = models.ForeignKey(
        "aftersales.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )

    class Meta:
        verbose_name = _("ticket link")
        verbose_name_plural = _("ticket links")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="ticketlink_unique"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="ticketlink_not_self"),
            models.CheckConstraint(condition=Q(kind__in=TicketLinkKind.values), name="ticketlink_kind_valid"),
            # A ticket is merged once, and a ticket has one parent.
            models.UniqueConstraint(fields=["source"], condition=Q(kind="merged_into"), name="ticketlink_merged_once"),
            models.UniqueConstraint(fields=["target"], condition=Q(kind="parent"), name="ticketlink_one_parent"),
        ]
        indexes = [models.Index(fields=["target", "kind"], name="ticketlink_target")]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"
