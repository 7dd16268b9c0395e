"""What integrations lean on: replayable API answers (``Idempotency-Key``) and outgoing webhooks."""

import secrets
import socket
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.config_cache import ConfigModel
from aftersales.outbound import AddressRefused, check_url

from .base import MerchantOwnedModel

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class IdempotencyRecord(MerchantOwnedModel):
    """The answer an API call gave under an ``Idempotency-Key``, replayed to every retry of it.

    The request hash covers the endpoint, the object it acted on and the body, so the same key on
    another request is recognised and refused. A record without a response status is an answer
    still being written (or whose writer died); its effects are keyed by the same key, so the next
    retry completes it rather than repeating them.
    """

    key = models.CharField(_("idempotency key"), max_length=255)
    endpoint = models.CharField(_("endpoint"), max_length=200)
    request_hash = models.CharField(_("request hash"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    # The JSON text as first sent: a jsonb column would reorder its keys, and a replay must be
    # the same bytes.
    response_body = models.TextField(_("response body"), blank=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="idempotencyrecord_unique_key"),
            models.CheckConstraint(condition=~Q(key=""), name="idempotencyrecord_key_present"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotencyrecord_created")]

    def __str__(self) -> str:
        return f"{self.key} → {self.endpoint} ({self.response_status or '…'})"


# Why a webhook address is refused, in the words of the error (``aftersales.outbound.address_kind``).
ADDRESS_KINDS = {
    "unspecified": _("unspecified"),
    "loopback": _("loopback"),
    "link-local": _("link-local"),
    "multicast": _("multicast"),
    "private": _("private"),
    "reserved": _("reserved"),
    "non-public": _("non-public"),
}


def public_url_required(url: str, *, field: str, literal: "str | StrPromise", resolved: "str | StrPromise") -> None:
    """A ``ValidationError`` on ``field`` when ``url`` is, or resolves to, an address that is not
    public (``aftersales.outbound``); ``literal`` and ``resolved`` say so for an address typed as
    such and for a name that resolves to one."""
    try:
        check_url(url or "")
    except AddressRefused as refused:
        words = {"host": refused.host, "address": refused.address, "kind": ADDRESS_KINDS[refused.kind]}
        message = literal if refused.host == refused.address else resolved
        raise ValidationError({field: message % words}) from None
    except (socket.gaierror, ValueError):
        pass  # a name that does not resolve (yet), or no URL: each call checks it again


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(ConfigModel, MerchantOwnedModel):
    """A URL of the merchant's that is told about events, signed with its own secret."""

    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        default=new_webhook_secret,
        help_text=_("Each delivery is signed with HMAC-SHA256 of its body under this secret."),
    )
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,
        help_text=_('Event names to deliver, e.g. ["return.status_changed"]; empty: every event.'),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        constraints = [
            # A delivery names its endpoint by URL (the outbox row's recipient).
            models.UniqueConstraint(fields=["merchant", "url"], name="webhookendpoint_unique_url"),
            models.CheckConstraint(
                condition=Q(url__startswith="https://") | Q(url__startswith="http://"),
                name="webhookendpoint_http_url",
            ),
            models.CheckConstraint(condition=~Q(secret=""), name="webhookendpoint_secret_present"),
        ]
        indexes = [
            models.Index(fields=["merchant"], condition=Q(is_active=True), name="webhookendpoint_active"),
        ]

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        super().clean()
        public_url_required(
            self.url,
            field="url",
            literal=_("Webhooks are sent to public addresses only, and %(address)s is not one (%(kind)s)."),
            resolved=_(
                "Webhooks are sent to public addresses only, and %(host)s resolves to %(address)s, "
                "which is not one (%(kind)s)."
            ),
        )

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events
