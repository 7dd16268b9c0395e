"""E-mail as a channel: the merchant's mailboxes, every message in and out (for threading and
exactly-once), and staff-entered phone calls."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.encryption import EncryptedTextField
from aftersales.models import MerchantOwnedModel


def inbound_token() -> str:
    return secrets.token_urlsafe(24)


class ImapSecurity(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (local test servers only)")


class FetchOutcome(models.TextChoices):
    NEVER = "", _("Not fetched yet")
    OK = "ok", _("Fetched")
    FAILED = "failed", _("Failed")


class FetchErrorReason(models.TextChoices):
    """Why the last fetch could not reach the mailbox, in words staff can act on; the server's own
    words (redacted, bounded) are kept beside it for admins in ``last_error``."""

    AUTH_FAILED = "auth_failed", _("The server refused the user name or password")
    CONNECTION_REFUSED = "connection_refused", _("Nothing answers on the server's port")
    TIMEOUT = "timeout", _("The server did not answer in time")
    TLS = "tls", _("The secure connection (SSL/TLS) failed")
    MAILBOX_MISSING = "mailbox_missing", _("The folder could not be opened")
    OTHER = "other", _("The server could not be reached")


class Mailbox(MerchantOwnedModel):
    """An address customers write to. Fetched by IMAP (polled by beat) and/or fed by a provider's
    inbound webhook at a URL carrying ``inbound_token``. The default mailbox's address is the
    reply-to of the merchant's outgoing mail."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"))
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(
        _("reply-to address"), default=False, help_text=_("Customers' replies to outgoing mail come to this address.")
    )
    imap_host = models.CharField(_("IMAP server"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    imap_username = models.CharField(_("IMAP user name"), max_length=255, blank=True)
    imap_password = EncryptedTextField(_("IMAP password"), blank=True)
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    # The watermark: every message with a UID at or below it is stored. It moves in the same
    # transaction as the messages it covers (a fetched batch), so a fetch that dies midway
    # resumes after the last batch it committed. A new UIDVALIDITY means the server renumbered:
    # start again from 0 (the Message-ID constraint keeps what is already here from coming twice).
    imap_uid_validity = models.PositiveBigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    imap_last_uid = models.PositiveBigIntegerField(_("last UID stored"), default=0)
    inbound_token = models.CharField(_("inbound webhook token"), max_length=64, unique=True, default=inbound_token)
    sender_hourly_limit = models.PositiveIntegerField(
        _("messages per sender per hour"),
        default=20,
        help_text=_("Beyond this, a sender's messages are kept aside and open no request."),
    )
    last_fetch_at = models.DateTimeField(_("last fetch"), null=True, blank=True)
    last_fetch_outcome = models.CharField(
        _("last fetch outcome"), max_length=10, choices=FetchOutcome.choices, default="", blank=True
    )
    last_fetch_count = models.PositiveIntegerField(_("messages in last fetch"), default=0)
    last_error_reason = models.CharField(
        _("why the last fetch failed"), max_length=20, choices=FetchErrorReason.choices, blank=True
    )
    # The server's or library's words for it, redacted (no credentials) and bounded: for admins.
    last_error = models.TextField(_("last error"), blank=True)
    # "Fetch now": when a person last asked; a second ask within the interval is refused (the
    # conditional update that sets it is the rate limit, the same in every web process).
    fetch_requested_at = models.DateTimeField(_("fetch last asked for"), null=True, blank=True)
    # Removed by a merchant admin: never fetched, its webhook closed, out of the list; the mail it
    # brought stays on its cases, so the row stays too.
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "address"], name="mailbox_unique_address"),
            models.UniqueConstraint(fields=["merchant"], condition=Q(is_default=True), name="mailbox_one_default"),
            models.CheckConstraint(
                condition=Q(imap_security__in=ImapSecurity.values), name="mailbox_imap_security_valid"
            ),
            models.CheckConstraint(
                condition=Q(last_error_reason="") | Q(last_error_reason__in=FetchErrorReason.values),
                name="mailbox_last_error_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | (Q(is_active=False) & Q(is_default=False)),
                name="mailbox_removed_is_inactive",
            ),
        ]
        indexes = [
            models.Index(fields=["is_active"], condition=~Q(imap_host=""), name="mailbox_imap_active"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def fetches_by_imap(self) -> bool:
        return bool(self.imap_host and self.imap_username)


class EmailDirection(models.TextChoices):
    INBOUND = "in", _("Received")
    OUTBOUND = "out", _("Sent")


class EmailDisposition(models.TextChoices):
    """What became of a message."""

    NEW_TICKET = "new_ticket", _("Opened a request")
    THREADED = "threaded", _("Added to a request")
    AUTO_REPLY = "auto_reply", _("Auto-reply, ignored")
    BOUNCE = "bounce", _("Bounce, ignored")
    RATE_LIMITED = "rate_limited", _("Held: sender over the hourly limit")
    REFUSED = "refused", _("Refused")
    SENT = "sent", _("Sent")


class Email(MerchantOwnedModel):
    """One e-mail message, received or sent. Received ones are unique per mailbox by Message-ID:
    fetched twice, by two fetchers or after a crash, a message is stored once. Sent ones carry the
    Message-ID our reply went out with, so the customer's answer threads back by In-Reply-To."""

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="emails", verbose_name=_("mailbox")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=EmailDirection.choices)
    message_id = models.CharField(_("Message-ID"), max_length=255)
    in_reply_to = models.CharField(_("In-Reply-To"), max_length=255, blank=True)
    references = models.TextField(_("References"), blank=True)
    sender = models.CharField(_("from"), max_length=254, blank=True)
    recipient = models.CharField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    html = models.TextField(_("HTML (sanitised)"), blank=True)
    disposition = models.CharField(_("outcome"), max_length=20, choices=EmailDisposition.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    imap_uid = models.PositiveBigIntegerField(_("IMAP UID"), null=True, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("ticket"),
    )
    # Not ``message``: its column would clash with the Message-ID field.
    ticket_message = models.OneToOneField(
        "tickets.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="email",
        verbose_name=_("message"),
    )

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "message_id"],
                condition=Q(direction="in"),
                name="email_unique_inbound_message_id",
            ),
            models.CheckConstraint(condition=Q(direction__in=EmailDirection.values), name="email_direction_valid"),
            models.CheckConstraint(
                condition=Q(disposition__in=EmailDisposition.values), name="email_disposition_valid"
            ),
        ]
        indexes = [
            # Threading: which of the merchant's cases does this Message-ID belong to.
            models.Index(fields=["merchant", "message_id"], name="email_merchant_message_id"),
            # The per-sender rate limit and the mailbox page.
            models.Index(fields=["mailbox", "sender", "-created_at"], name="email_mailbox_sender"),
            models.Index(fields=["mailbox", "-created_at", "-id"], name="email_mailbox_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.message_id}"


class CallDirection(models.TextChoices):
    INBOUND = "in", _("Customer called")
    OUTBOUND = "out", _("We called")


class PhoneCall(MerchantOwnedModel):
    """A call entered by staff: its message (kind ``phone``) carries the summary."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="phone_calls", verbose_name=_("ticket")
    )
    message = models.OneToOneField(
        "tickets.Message", on_delete=models.CASCADE, related_name="phone_call", verbose_name=_("message")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=CallDirection.choices)
    phone_number = models.CharField(_("phone number"), max_length=32, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"))
    called_at = models.DateTimeField(_("called at"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("entered by"),
    )

    class Meta:
        verbose_name = _("phone call")
        verbose_name_plural = _("phone calls")
        ordering = ["-called_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(direction__in=CallDirection.values), name="phonecall_direction_valid"),
            models.CheckConstraint(condition=Q(duration_seconds__lte=86400), name="phonecall_duration_at_most_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.duration_seconds}s on {self.ticket_id}"
