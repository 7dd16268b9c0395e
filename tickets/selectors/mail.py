"""Reads of the e-mail channel, each starting from the merchant of the request."""

from django.db.models import QuerySet

from aftersales.models import Merchant
from tickets.models import Email, Mailbox

RECENT_EMAILS = 50


def mailboxes_of(merchant: Merchant) -> QuerySet[Mailbox]:
    """The merchant's mailboxes in use (active or paused); removed ones aside."""
    return Mailbox.objects.filter(merchant=merchant, removed_at__isnull=True).order_by("name", "id")


def removed_mailboxes_of(merchant: Merchant) -> QuerySet[Mailbox]:
    return Mailbox.objects.filter(merchant=merchant, removed_at__isnull=False).order_by("-removed_at", "-id")


def mailbox_of(merchant: Merchant, mailbox_id: int) -> Mailbox | None:
    return Mailbox.objects.filter(merchant=merchant, pk=mailbox_id).first()


def mailbox_recent_emails(mailbox: Mailbox, *, limit: int = RECENT_EMAILS) -> list[Email]:
    """The latest messages received at the mailbox, with the case each went to."""
    return list(
        Email.objects.filter(merchant_id=mailbox.merchant_id, mailbox=mailbox)
        .select_related("ticket")
        .defer("html", "references")
        .order_by("-created_at", "-id")[:limit]
    )


def mailbox_by_inbound_token(token: str) -> Mailbox | None:
    """The mailbox a provider's inbound webhook posts to; the token in its URL is the credential."""
    if not token:
        return None
    return Mailbox.objects.filter(inbound_token=token, is_active=True).select_related("merchant").first()
