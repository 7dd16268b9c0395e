"""Large list exports as background jobs (``aftersales.models.ExportJob``).

A list page streams its export (``aftersales.exports.export_response``) unless a bounded count says
it has more than ``EXPORT_BACKGROUND_ROWS`` rows; then :func:`export_job_request` records a job and
a worker runs :func:`export_job_run`: it reads the list's registered source as the requester (the
same selector, filters and role checks as the streamed export), writes the file to private storage
with its progress on the row, and tells the requester (the Exports page, and an e-mail in their
language through the outbox). The beat sweep expires files after ``EXPORT_KEEP_HOURS`` and fails jobs
that stalled.

The file is written outside any transaction (minutes of work must not hold a lock or a snapshot of
the job row); the progress updates are single-row updates the Exports page polls. The job's state
changes are each a locked, conditional change of the row, so a second delivery of the task, or the
sweep racing a slow worker, changes nothing twice.
"""

import logging
import tempfile
import uuid
import zoneinfo
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.enqueue import enqueue_on_commit
from aftersales.exceptions import ApplicationError, InvalidInput, PermissionRefused
from aftersales.exports import FORMATS, export_filename, export_source, export_write
from aftersales.models import ExportJob, ExportState, Membership, Notification
from aftersales.selectors import membership_active
from aftersales.services.notifications import notification_queue

logger = logging.getLogger("aftersales.exports")

EXPORTS_FOLDER = "exports"


def export_job_request(
    *, membership: Membership, source: str, stem: str, params: dict[str, list[str]], file_format: str
) -> ExportJob:
    """Record a background export of the list ``source`` with the page's filters ``params``, as the
    member asked it, and queue its worker after commit."""
    if file_format not in FORMATS:
        raise InvalidInput(_("Choose CSV or XLSX."), code="export_format")
    if export_source(source) is None:
        raise InvalidInput(_("This list cannot be exported in the background."), code="export_source")
    with transaction.atomic():
        job = ExportJob.objects.create(
            merchant_id=membership.merchant_id,
            requested_by_id=membership.user_id,
            source=source,
            stem=stem,
            params={key: list(values) for key, values in params.items() if key != "export"},
            file_format=file_format,
            language=translation.get_language() or membership.merchant.default_language,
        )
        from aftersales.tasks import export_job_run as export_job_run_task

        enqueue_on_commit(export_job_run_task, job.pk)
    return job


def _fail(job_id: int, reason: str) -> None:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or ExportState.FAILED not in _allowed(job.state):
            return
        job.state = ExportState.FAILED
        job.error = reason[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "error", "finished_at", "updated_at"])


def _allowed(state: str) -> tuple[str, ...]:
    from aftersales.models import EXPORT_TRANSITIONS

    return EXPORT_TRANSITIONS.get(state, ())


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Write the job's file. Runs once per job: a second delivery finds it claimed and returns None."""
    now = timezone.now()
    # The claim: only the worker whose update changed the row writes the file.
    if not ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, started_at=now, updated_at=now
    ):
        return None
    job = ExportJob.objects.select_related("merchant").get(pk=job_id)
    name = ""
    try:
        membership = membership_active(merchant_id=job.merchant_id, user_id=job.requested_by_id)
        if membership is None:
            raise PermissionRefused(_("You no longer work for this merchant."))
        build = export_source(job.source)
        if build is None:
            raise InvalidInput(_("This list cannot be exported in the background."), code="export_source")
        try:
            zone = zoneinfo.ZoneInfo(job.merchant.timezone)
        except zoneinfo.ZoneInfoNotFoundError:
            zone = zoneinfo.ZoneInfo("UTC")
        with translation.override(job.language), timezone.override(zone):
            export = build(membership, job.params)
            counted = export.rows_to_count
            if isinstance(counted, QuerySet):
                total = counted.order_by().count()
                ExportJob.objects.filter(pk=job_id).update(rows_total=total)

            def progress(rows: int) -> None:
                ExportJob.objects.filter(pk=job_id, state=ExportState.RUNNING).update(rows_written=rows)

            with tempfile.TemporaryFile() as target:
                rows = export_write(export, file_format=job.file_format, target=target, progress=progress)
                size = target.tell()
                target.seek(0)
                filename = export_filename(job.stem, job.file_format)
                name = default_storage.save(
                    f"{EXPORTS_FOLDER}/{job.merchant_id}/{uuid.uuid4().hex}/{filename}", File(target, name=filename)
                )
    except ApplicationError as exc:
        _fail(job_id, str(exc.message))
        return ExportJob.objects.get(pk=job_id)
    except Exception as exc:
        logger.exception("Export job %s failed", job_id)
        if name:
            default_storage.delete(name)
        _fail(job_id, f"{type(exc).__name__}: {exc}")
        return ExportJob.objects.get(pk=job_id)
    return _finish(job_id, name=name, rows=rows, size=size)


def _finish(job_id: int, *, name: str, rows: int, size: int) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("merchant", "requested_by").get(pk=job_id)
        if job.state != ExportState.RUNNING:
            # The sweep failed it as stalled meanwhile: the file belongs to nobody.
            transaction.on_commit(partial(default_storage.delete, name))
            return job
        now = timezone.now()
        job.state = ExportState.DONE
        job.file = name
        job.file_size = size
        job.rows_written = rows
        job.rows_total = rows
        job.finished_at = now
        job.expires_at = now + timedelta(hours=settings.EXPORT_KEEP_HOURS)
        job.save(
            update_fields=[
                "state",
                "file",
                "file_size",
                "rows_written",
                "rows_total",
                "finished_at",
                "expires_at",
                "updated_at",
            ]
        )
        user = job.requested_by
        if user.email:
            notification_queue(
                merchant=job.merchant,
                channel=Notification.Channel.EMAIL,
                recipient=user.email,
                recipient_user=user,
                template="export_ready",
                context={
                    "export_name": f"{job.stem}.{job.file_format}",
                    "rows": rows,
                    "merchant_name": job.merchant.name,
                    "exports_url": settings.SITE_URL + reverse("dashboard:exports"),
                    "keep_hours": settings.EXPORT_KEEP_HOURS,
                },
                language=job.language or user.language or job.merchant.default_language,
            )
    return job


def export_jobs_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Beat: expire finished files past their time (deleting them) and fail jobs that stalled.
    Returns (expired, failed)."""
    now = now or timezone.now()
    expired = 0
    due = list(ExportJob.objects.filter(state=ExportState.DONE, expires_at__lte=now).values_list("pk", flat=True)[:500])
    for job_id in due:
        with transaction.atomic():
            job = (
                ExportJob.objects.select_for_update(skip_locked=True).filter(pk=job_id, state=ExportState.DONE).first()
            )
            if job is None:
                continue
            name: str = job.file
            job.state = ExportState.EXPIRED
            job.file = ""
            job.save(update_fields=["state", "file", "updated_at"])
            if name:
                transaction.on_commit(partial(default_storage.delete, name))
            expired += 1
    stalled_before = now - timedelta(hours=settings.EXPORT_STALLED_HOURS)
    stalled = list(
        ExportJob.objects.filter(
            state__in=(ExportState.QUEUED, ExportState.RUNNING), created_at__lt=stalled_before
        ).values_list("pk", flat=True)[:500]
    )
    for job_id in stalled:
        _fail(job_id, _("The export stalled: no worker finished it in time. Ask for it again."))
    return expired, len(stalled)
