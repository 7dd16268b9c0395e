"""Closing the loop: follow-up calls (回访) scheduled by the merchant's rules, each call made,
and recovery cases opened for an unhappy customer."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel


class FollowUpTrigger(models.TextChoices):
    CASE_RESOLVED = "case_resolved", _("A case is resolved")
    COMPLAINT_CLOSED = "complaint_closed", _("A complaint is resolved")
    REFUND_OVER = "refund_over", _("A return is settled with a refund over an amount")
    # Called by repairs when a repair is done (``followups_trigger`` with this trigger).
    REPAIR_DONE = "repair_done", _("A repair is done")


class FollowUpRule(MerchantOwnedModel):
    name = models.CharField(_("name"), max_length=100)
    trigger = models.CharField(_("when"), max_length=20, choices=FollowUpTrigger.choices)
    delay_hours = models.PositiveIntegerField(_("call after (hours)"), default=48)
    min_amount = models.DecimalField(_("refunds over (amount)"), max_digits=12, decimal_places=2, null=True, blank=True)
    script = models.TextField(_("call script"), blank=True)
    max_attempts = models.PositiveSmallIntegerField(_("attempts before giving up"), default=3)
    retry_hours = models.PositiveIntegerField(_("retry after (hours)"), default=24)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("follow-up rule")
        verbose_name_plural = _("follow-up rules")
        ordering = ["merchant_id", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(trigger__in=FollowUpTrigger.values), name="followuprule_trigger_valid"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="followuprule_attempts_positive"),
            models.CheckConstraint(
                condition=~Q(trigger="refund_over") | Q(min_amount__isnull=False),
                name="followuprule_refund_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", _("To call")
    RETRY = "retry", _("To call again")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


F = FollowUpStatus
FOLLOWUP_TRANSITIONS: dict[str, frozenset[str]] = {
    # A call may be made before its time (the customer called back): any open follow-up takes one.
    F.SCHEDULED: frozenset({F.DUE, F.RETRY, F.DONE, F.CANCELLED}),
    F.DUE: frozenset({F.RETRY, F.DONE, F.CANCELLED}),
    F.RETRY: frozenset({F.DUE, F.RETRY, F.DONE, F.CANCELLED}),
    F.DONE: frozenset(),
    F.CANCELLED: frozenset(),
}
OPEN_FOLLOWUP_STATUSES = (F.SCHEDULED, F.DUE, F.RETRY)
del F


class FollowUpOutcome(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied: recovery case opened")
    NEW_PROBLEM = "new_problem", _("New problem: new case opened")
    UNREACHABLE = "unreachable", _("Not reached after every attempt")


class CallResult(models.TextChoices):
    NOT_REACHED = "not_reached", _("Not reached")
    SATISFIED = "satisfied", _("Reached: satisfied")
    UNSATISFIED = "unsatisfied", _("Reached: unsatisfied")
    NEW_PROBLEM = "new_problem", _("Reached: has a new problem")


class FollowUp(MerchantOwnedModel):
    """One follow-up call to make about one case, with its attempts and outcome."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="followups", verbose_name=_("case")
    )
    rule = models.ForeignKey(FollowUpRule, on_delete=models.PROTECT, related_name="followups", verbose_name=_("rule"))
    customer = models.ForeignKey(
        "aftersales.Customer", on_delete=models.CASCADE, related_name="followups", verbose_name=_("customer")
    )
    # What triggered it (a refund's id, a repair's id), so a trigger delivered twice schedules once.
    source_key = models.CharField(_("source"), max_length=50, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=FollowUpStatus.choices, default=FollowUpStatus.SCHEDULED
    )
    due_at = models.DateTimeField(_("call at"))
    attempts = models.PositiveSmallIntegerField(_("calls made"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts allowed"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=FollowUpOutcome.choices, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    new_ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("new case opened"),
    )

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            models.UniqueConstraint(fields=["rule", "ticket", "source_key"], name="followup_once_per_trigger"),
            models.CheckConstraint(condition=Q(status__in=FollowUpStatus.values), name="followup_status_valid"),
            models.CheckConstraint(condition=Q(attempts__lte=models.F("max_attempts")), name="followup_attempts_cap"),
            models.CheckConstraint(condition=~Q(status="done") | ~Q(outcome=""), name="followup_done_has_outcome"),
        ]
        indexes = [
            # The follow-up queue: a merchant's calls to make, earliest first.
            models.Index(
                fields=["merchant", "due_at", "id"],
                condition=Q(status="due"),
                name="followup_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} · {self.ticket_id} ({self.status})"

    def can_transition_to(self, status: str) -> bool:
        return status in FOLLOWUP_TRANSITIONS[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_FOLLOWUP_STATUSES


class FollowUpCall(MerchantOwnedModel):
    """A call made: who, when, what came of it. Only ever added."""

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="calls", verbose_name=_("follow-up"))
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("caller")
    )
    result = models.CharField(_("result"), max_length=20, choices=CallResult.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.followup_id}: {self.result}"


class RecoveryTrigger(models.TextChoices):
    LOW_CSAT = "low_csat", _("Low satisfaction rating")
    NPS_DETRACTOR = "nps_detractor", _("NPS detractor")
    COMPLAINT_KEYWORD = "complaint_keyword", _("Complaint words in a comment")
    FOLLOWUP_UNSATISFIED = "followup_unsatisfied", _("Unsatisfied on a follow-up call")


class RecoveryStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


RECOVERY_TRANSITIONS: dict[str, frozenset[str]] = {
    RecoveryStatus.OPEN: frozenset({RecoveryStatus.CLOSED}),
    RecoveryStatus.CLOSED: frozenset(),
}


class RecoveryCase(MerchantOwnedModel):
    """An unhappy customer to win back: a case of its own, linked to the one that went wrong."""

    original_ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="recoveries", verbose_name=_("original case")
    )
    recovery_ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="recovery_of", verbose_name=_("recovery case")
    )
    trigger = models.CharField(_("why"), max_length=24, choices=RecoveryTrigger.choices)
    survey = models.OneToOneField(
        "feedback.Survey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recovery",
        verbose_name=_("survey"),
    )
    followup = models.OneToOneField(
        FollowUp, on_delete=models.SET_NULL, null=True, blank=True, related_name="recovery", verbose_name=_("follow-up")
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supervisor"),
    )
    status = models.CharField(_("status"), max_length=10, choices=RecoveryStatus.choices, default=RecoveryStatus.OPEN)
    due_at = models.DateTimeField(_("due"))
    reached = models.BooleanField(_("customer reached"), null=True, blank=True)
    resolved = models.BooleanField(_("problem resolved"), null=True, blank=True)
    compensated = models.BooleanField(_("compensated"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )

    class Meta:
        verbose_name = _("recovery case")
        verbose_name_plural = _("recovery cases")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RecoveryStatus.values), name="recovery_status_valid"),
            models.CheckConstraint(condition=Q(trigger__in=RecoveryTrigger.values), name="recovery_trigger_valid"),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(reached__isnull=False, closed_at__isnull=False),
                name="recovery_closed_has_outcome",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "due_at", "id"], condition=Q(status="open"), name="recovery_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} · {self.original_ticket_id}"

    def can_transition_to(self, status: str) -> bool:
        return status in RECOVERY_TRANSITIONS[self.status]
