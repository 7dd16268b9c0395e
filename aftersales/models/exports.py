from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .base import MerchantOwnedModel


class ExportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being written")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


# queued → running (a worker claims it) → done / failed; done → expired (the sweep deletes the file).
# A queued or running job that no worker finishes in time is failed by the sweep ("stalled").
EXPORT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ExportState.QUEUED: (ExportState.RUNNING, ExportState.FAILED),
    ExportState.RUNNING: (ExportState.DONE, ExportState.FAILED),
    ExportState.DONE: (ExportState.EXPIRED,),
    ExportState.FAILED: (),
    ExportState.EXPIRED: (),
}


class ExportJob(MerchantOwnedModel):
    """A large list export written by a worker to private storage, for the person who asked.

    ``source`` names the list (``aftersales.exports.export_source_register``) and ``params`` its
    page's query string, so the worker reads the same selector with the same filters, as the
    requester, that the streamed export would have read."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("requested by")
    )
    source = models.CharField(_("list"), max_length=60)
    stem = models.CharField(_("file name"), max_length=60)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    file_format = models.CharField(_("format"), max_length=4)
    language = models.CharField(_("language"), max_length=10)
    state = models.CharField(_("state"), max_length=10, choices=ExportState.choices, default=ExportState.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows to write"), null=True, blank=True)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.CharField(_("file"), max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), default=0)
    error = models.TextField(_("why it failed"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        constraints = [
            models.CheckConstraint(condition=Q(state__in=ExportState.values), name="exportjob_state_valid"),
            models.CheckConstraint(condition=Q(file_format__in=("csv", "xlsx")), name="exportjob_format_valid"),
        ]
        indexes = [
            models.Index(fields=["merchant", "requested_by", "-created_at"], name="exportjob_requester_recent"),
            # The sweep: files to delete, jobs that stalled.
            models.Index(fields=["expires_at"], condition=Q(state="done"), name="exportjob_done_expiry"),
            models.Index(fields=["created_at"], condition=Q(state__in=("queued", "running")), name="exportjob_open"),
        ]

    def __str__(self) -> str:
        return f"{self.stem}.{self.file_format} ({self.state})"

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return 100 if self.state == ExportState.DONE else None
        return min(100, self.rows_written * 100 // self.rows_total)
