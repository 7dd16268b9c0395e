"""Celery entry points of the case hub: ids in, one service call, nothing else."""

from celery import shared_task

from tickets import services


@shared_task(ignore_result=True)
def attachment_orphans_sweep() -> int:
    """Beat: delete attachment files older than a day that no attachment row refers to."""
    return services.attachment_orphans_sweep()


@shared_task(ignore_result=True)
def mailboxes_fetch() -> int:
    """Beat: one fetch task per active IMAP mailbox; return how many were queued."""
    from tickets.services.mail import mailboxes_to_fetch

    mailbox_ids = mailboxes_to_fetch()
    for mailbox_id in mailbox_ids:
        mailbox_fetch.delay(mailbox_id)
    return len(mailbox_ids)


# Expires: a fetch that could not start before the next tick is replaced by that tick's.
@shared_task(ignore_result=True, expires=120)
def mailbox_fetch(mailbox_id: int) -> int:
    """Fetch one mailbox's new messages; safe to run twice at once (each message is stored once)."""
    from tickets.services.mail import mailbox_fetch as fetch

    return fetch(mailbox_id=mailbox_id).stored
