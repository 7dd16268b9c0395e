"""A merchant admin's management of mailboxes beside their settings (``mail.mailbox_save``):
"fetch now", removing a mailbox and restoring it. Each locks the mailbox, checks, writes with
``update_fields`` and queues its task after commit; a refusal writes nothing.

Removing keeps the row and everything it brought: the e-mails and the cases they opened point at
it, and the timeline of those cases is never rewritten. A removed mailbox is inactive (never
fetched; its inbound webhook answers 404), no longer the reply-to address, and out of the list.
"""

import logging
import math
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.enqueue import enqueue_on_commit
from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused
from aftersales.models import Membership, User
from aftersales.services.staff import staff_membership_required
from tickets.models import Mailbox

logger = logging.getLogger(__name__)

# "Fetch now" at most once a minute per mailbox: beat fetches every minute anyway, and a person
# pressing the button repeatedly must not open one IMAP connection per press.
FETCH_NOW_INTERVAL = timedelta(seconds=60)


def _admin_required(*, actor: User, merchant_id: int) -> None:
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role != Membership.Role.MERCHANT_ADMIN:
        raise PermissionRefused(_("Only a merchant admin may change mailboxes."))


def _lock(mailbox: Mailbox) -> Mailbox:
    return Mailbox.objects.select_for_update().get(pk=mailbox.pk, merchant_id=mailbox.merchant_id)


def mailbox_fetch_now(*, mailbox: Mailbox, actor: User) -> Mailbox:
    """Queue a fetch of the mailbox now (the same task beat runs), at most once per
    ``FETCH_NOW_INTERVAL``: the conditional update that stamps ``fetch_requested_at`` is the rate
    limit, so two presses in two web processes queue one fetch."""
    _admin_required(actor=actor, merchant_id=mailbox.merchant_id)
    with transaction.atomic():
        mailbox = _lock(mailbox)
        if mailbox.removed_at is not None or not mailbox.is_active:
            raise Conflict(_("This mailbox is paused; turn it on to fetch it."), code="mailbox_inactive")
        if not mailbox.fetches_by_imap:
            raise InvalidInput(_("Set the IMAP server and user name first."), code="imap_not_set")
        now = timezone.now()
        claimed = (
            Mailbox.objects.filter(pk=mailbox.pk)
            .filter(Q(fetch_requested_at__isnull=True) | Q(fetch_requested_at__lte=now - FETCH_NOW_INTERVAL))
            .update(fetch_requested_at=now, updated_at=now)
        )
        if not claimed:
            assert mailbox.fetch_requested_at is not None  # noqa: S101 — the filter above proves it
            wait = FETCH_NOW_INTERVAL - (now - mailbox.fetch_requested_at)
            raise Conflict(
                _("A fetch was asked for a moment ago; try again in %(seconds)s seconds.")
                % {"seconds": max(math.ceil(wait.total_seconds()), 1)},
                code="fetch_rate_limited",
            )
        mailbox.fetch_requested_at = now
        from tickets.tasks import mailbox_fetch

        enqueue_on_commit(mailbox_fetch, mailbox.pk)
    return mailbox


def mailbox_remove(*, mailbox: Mailbox, actor: User) -> Mailbox:
    """Remove a mailbox from use, keeping its mail: inactive, not the reply-to address, stamped
    removed. Removing a removed mailbox returns it unchanged."""
    _admin_required(actor=actor, merchant_id=mailbox.merchant_id)
    with transaction.atomic():
        mailbox = _lock(mailbox)
        if mailbox.removed_at is not None:
            return mailbox
        mailbox.removed_at = timezone.now()
        mailbox.is_active = False
        mailbox.is_default = False
        mailbox.save(update_fields=["removed_at", "is_active", "is_default", "updated_at"])
    logger.info("mailbox %s removed by user %s", mailbox.pk, actor.pk)
    return mailbox


def mailbox_restore(*, mailbox: Mailbox, actor: User) -> Mailbox:
    """Bring a removed mailbox back, paused: the admin checks its settings and turns it on."""
    _admin_required(actor=actor, merchant_id=mailbox.merchant_id)
    with transaction.atomic():
        mailbox = _lock(mailbox)
        if mailbox.removed_at is None:
            return mailbox
        mailbox.removed_at = None
        mailbox.save(update_fields=["removed_at", "updated_at"])
    logger.info("mailbox %s restored by user %s", mailbox.pk, actor.pk)
    return mailbox
