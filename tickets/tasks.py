"""Celery entry points of the case hub: ids in, one service call, nothing else."""

from celery import shared_task

from tickets import services


@shared_task(ignore_result=True)
def attachment_orphans_sweep() -> int:
    """Beat: delete attachment files older than a day that no attachment row refers to."""
    return services.attachment_orphans_sweep()
