from celery import shared_task

from aftersales.services import deadlines, exports, idempotency, notifications


@shared_task(ignore_result=True)
def notification_send(notification_id: int) -> None:
    notifications.notification_send(notification_id=notification_id)


@shared_task(ignore_result=True)
def notifications_send_many(notification_ids: list[int]) -> None:
    for notification_id in notification_ids:
        notifications.notification_send(notification_id=notification_id)


@shared_task(ignore_result=True)
def notifications_flush() -> int:
    """Beat: send what is due, whatever happened to the task queued at commit, batch after batch
    until nothing is due (or a flush has run for ``FLUSH_BUDGET_SECONDS``: the next one goes on)."""
    return notifications.notifications_flush_due()


@shared_task(ignore_result=True)
def deadlines_sweep() -> int:
    """Beat: fire every due timer. Safe to run on several workers at once."""
    return deadlines.deadlines_sweep().handled


@shared_task(ignore_result=True)
def idempotency_records_purge() -> int:
    """Beat: forget Idempotency-Key answers older than ``IDEMPOTENCY_RECORD_DAYS``."""
    return idempotency.idempotency_records_purge()


@shared_task(ignore_result=True)
def export_job_run(job_id: int) -> None:
    exports.export_job_run(job_id=job_id)


@shared_task(ignore_result=True)
def export_jobs_sweep() -> tuple[int, int]:
    """Beat: delete export files past their time; fail jobs no worker finished."""
    return exports.export_jobs_sweep()
