from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .base import MerchantOwnedModel


class Notification(MerchantOwnedModel):
    """The outbox: written in the caller's transaction, sent by a worker after commit."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        WEBHOOK = "webhook", _("Webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff recipient"),
    )
    template = models.CharField(_("template"), max_length=100)
    context = models.JSONField(_("context"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("ticket"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="notification_pending_due"),
            models.Index(fields=["merchant", "-created_at"], name="notification_merchant_created"),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.recipient} ({self.state})"


class PortalChallenge(MerchantOwnedModel):
    """A one-time code sent to the contact on an order; proving it opens a portal session."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    order = models.ForeignKey(
        "aftersales.Order", on_delete=models.CASCADE, related_name="portal_challenges", verbose_name=_("order")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    destination = models.CharField(_("sent to"), max_length=254)
    code_hash = models.CharField(_("code hash"), max_length=128)
    client_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal challenge")
        verbose_name_plural = _("portal challenges")
        indexes = [
            models.Index(fields=["order", "-created_at"], name="portalchallenge_order"),
            models.Index(fields=["client_ip", "-created_at"], name="portalchallenge_client"),
        ]

    def __str__(self) -> str:
        return f"{self.order} → {self.destination}"
