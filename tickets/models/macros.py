"""Macros: a named set of actions an agent applies to a ticket in one go."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel

from .tickets import TicketPriority, TicketStatus


class Macro(MerchantOwnedModel):
    """Shared (no owner) or personal (its owner's alone). The reply is written in both languages
    and sent in the customer's; placeholders: {customer_name}, {ticket_number}, {ticket_subject},
    {order_number}, {agent_name}, {merchant_name}."""

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="macros", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="macros",
        verbose_name=_("owner"),
        help_text=_("Empty: shared with the whole team."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    reply_zh_hans = models.TextField(_("reply (Simplified Chinese)"), blank=True)
    reply_en = models.TextField(_("reply (English)"), blank=True)
    set_status = models.CharField(_("status"), max_length=20, choices=TicketStatus.choices, blank=True)
    set_priority = models.PositiveSmallIntegerField(
        _("priority"), choices=TicketPriority.choices, null=True, blank=True
    )
    add_tags = models.JSONField(_("add tags"), default=list, blank=True)
    assign_to_actor = models.BooleanField(_("assign to the agent applying it"), default=False)
    assign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assign to"),
    )
    internal_note = models.TextField(_("internal note"), blank=True)
    usage_count = models.PositiveIntegerField(_("times used"), default=0)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("macro")
        verbose_name_plural = _("macros")
        ordering = ["merchant_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "name"], condition=Q(owner__isnull=True), name="macro_unique_shared_name"
            ),
            models.UniqueConstraint(
                fields=["merchant", "owner", "name"],
                condition=Q(owner__isnull=False),
                name="macro_unique_personal_name",
            ),
            models.CheckConstraint(
                condition=Q(set_status="") | Q(set_status__in=TicketStatus.values), name="macro_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None
