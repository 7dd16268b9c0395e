from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .base import MerchantOwnedModel, TimeStampedModel


class Deadline(MerchantOwnedModel):
    """A timer. The row is the record; a broker message is at most a nudge.

    ``next_fire_at`` is the one column the sweep reads: the warning time while the warning is
    still to come, else the due time, pushed out by retry back-off. A partial index covers it for
    pending rows, so a sweep with nothing due reads a handful of index pages whatever the size
    of the table.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAUSED = "paused", _("Paused")
        FIRED = "fired", _("Fired")
        MET = "met", _("Met")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")

    OPEN_STATES = (State.PENDING, State.PAUSED)

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="deadlines", verbose_name=_("ticket")
    )
    kind = models.CharField(_("kind"), max_length=50)
    key = models.CharField(
        _("key"), max_length=50, blank=True, help_text=_("Tells apart several timers of one kind on a ticket.")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    calendar = models.ForeignKey(
        "aftersales.BusinessCalendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Business time is counted on this calendar; empty means wall-clock time."),
        verbose_name=_("business calendar"),
    )
    user = models.ForeignKey(
        "aftersales.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The staff member a personal timer (a reminder) belongs to."),
        verbose_name=_("staff member"),
    )
    target_minutes = models.PositiveIntegerField(_("target (minutes)"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    warn_at = models.DateTimeField(_("warning"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warned"), null=True, blank=True)
    next_fire_at = models.DateTimeField(_("next firing"), null=True, blank=True)
    remaining_seconds = models.BigIntegerField(_("remaining while paused (s)"), null=True, blank=True)
    warn_remaining_seconds = models.BigIntegerField(
        _("remaining to the warning while paused (s)"), null=True, blank=True
    )
    fired_at = models.DateTimeField(_("fired"), null=True, blank=True)
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    closed_at = models.DateTimeField(_("cancelled or failed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind", "key"],
                condition=Q(state__in=["pending", "paused"]),
                name="deadline_one_open_per_ticket_kind",
            ),
            models.CheckConstraint(
                condition=~Q(state="pending") | Q(next_fire_at__isnull=False), name="deadline_pending_has_fire_time"
            ),
        ]
        indexes = [
            models.Index(fields=["next_fire_at"], condition=Q(state="pending"), name="deadline_pending_due"),
            models.Index(fields=["ticket", "kind"], name="deadline_ticket_kind"),
            # A ticket's earliest pending timer, read each time one of its clocks changes.
            models.Index(fields=["ticket", "due_at"], condition=Q(state="pending"), name="deadline_ticket_pending"),
            models.Index(fields=["merchant", "state", "due_at"], name="deadline_merchant_state"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id} ({self.state}, due {self.due_at:%Y-%m-%d %H:%M})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class DeadlinePause(TimeStampedModel):
    """A span in which a clock stood still (waiting on the customer or a third party)."""

    deadline = models.ForeignKey(Deadline, on_delete=models.CASCADE, related_name="pauses", verbose_name=_("deadline"))
    paused_at = models.DateTimeField(_("paused"))
    resumed_at = models.DateTimeField(_("resumed"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("deadline pause")
        verbose_name_plural = _("deadline pauses")
        ordering = ["deadline_id", "paused_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["deadline"], condition=Q(resumed_at__isnull=True), name="deadlinepause_one_open"
            )
        ]
