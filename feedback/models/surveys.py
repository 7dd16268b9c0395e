"""Surveys: a merchant's survey settings, and one row per invitation (a CSAT after a resolved
case, an NPS per customer on the merchant's cadence) that also holds the customer's answer.

The people who served the case are snapshotted on the row when the case resolves, so a later
reassignment never moves a rating from the agent who earned it."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel


def default_excluded_tags() -> list[str]:
    return ["spam", "merged"]


class SurveySettings(MerchantOwnedModel):
    """What a merchant decides about its surveys; a merchant without a row gets the defaults."""

    merchant = models.OneToOneField(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="survey_settings", verbose_name=_("merchant")
    )
    csat_enabled = models.BooleanField(_("send a satisfaction survey after each resolved case"), default=True)
    csat_delay_hours = models.PositiveIntegerField(_("hours after resolution before the survey is sent"), default=24)
    csat_throttle_days = models.PositiveIntegerField(
        _("no survey when the customer had one in the last (days)"), default=14
    )
    link_valid_days = models.PositiveIntegerField(_("survey link valid for (days)"), default=28)
    reminder_after_hours = models.PositiveIntegerField(_("remind once after (hours, 0 for no reminder)"), default=72)
    ces_enabled = models.BooleanField(_("ask how easy it was (CES)"), default=False)
    low_score_threshold = models.PositiveSmallIntegerField(
        _("a rating at or below this opens a recovery case"), default=2
    )
    complaint_keywords = models.JSONField(_("words in a comment that open a recovery case"), default=list, blank=True)
    excluded_tags = models.JSONField(
        _("no survey for cases with these tags"), default=default_excluded_tags, blank=True
    )
    recovery_due_hours = models.PositiveIntegerField(_("recovery cases are due within (hours)"), default=24)
    nps_enabled = models.BooleanField(_("ask customers how likely they are to recommend us (NPS)"), default=False)
    nps_delay_days = models.PositiveIntegerField(_("days after a customer's latest case before NPS"), default=30)
    nps_throttle_days = models.PositiveIntegerField(_("at most one NPS per customer every (days)"), default=90)

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(low_score_threshold__gte=1) & Q(low_score_threshold__lte=4),
                name="surveysettings_threshold_range",
            ),
            models.CheckConstraint(condition=Q(link_valid_days__gte=1), name="surveysettings_link_days_positive"),
        ]

    def __str__(self) -> str:
        return str(_("Survey settings"))


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("Satisfaction (CSAT)")
    NPS = "nps", _("Recommendation (NPS)")


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    SKIPPED = "skipped", _("Not sent")
    CANCELLED = "cancelled", _("Cancelled")


S = SurveyStatus
SURVEY_TRANSITIONS: dict[str, frozenset[str]] = {
    # A case reopened before the survey went out cancels it; resolved again, it is scheduled again.
    S.SCHEDULED: frozenset({S.SENT, S.SKIPPED, S.CANCELLED}),
    S.CANCELLED: frozenset({S.SCHEDULED}),
    S.SENT: frozenset({S.ANSWERED}),
    # The customer may change the answer while the link is valid.
    S.ANSWERED: frozenset({S.ANSWERED}),
    S.SKIPPED: frozenset(),
}
del S

CSAT_SCORES = (1, 5)
NPS_SCORES = (0, 10)
CES_SCORES = (1, 7)
TECHNICIAN_SCORES = (1, 5)


class Survey(MerchantOwnedModel):
    kind = models.CharField(_("kind"), max_length=10, choices=SurveyKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=SurveyStatus.choices, default=SurveyStatus.SCHEDULED)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="surveys", verbose_name=_("case")
    )
    customer = models.ForeignKey(
        "aftersales.Customer", on_delete=models.CASCADE, related_name="surveys", verbose_name=_("customer")
    )
    # Part of every link: a new nonce makes every link handed out before it worthless.
    nonce = models.UUIDField(_("link nonce"), default=uuid.uuid4, editable=False)
    skip_reason = models.CharField(_("why it was not sent"), max_length=40, blank=True)

    # Who served the case when it resolved.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    team = models.ForeignKey(
        "tickets.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("technician"),
    )
    resolved_at = models.DateTimeField(_("case resolved"), null=True, blank=True)

    send_at = models.DateTimeField(_("to be sent at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    answered_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    changed_at = models.DateTimeField(_("answer last changed"), null=True, blank=True)
    answer_count = models.PositiveSmallIntegerField(_("times answered"), default=0)

    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    ces_score = models.PositiveSmallIntegerField(_("ease (CES)"), null=True, blank=True)
    technician_punctuality = models.PositiveSmallIntegerField(_("technician's punctuality"), null=True, blank=True)
    technician_skill = models.PositiveSmallIntegerField(_("technician's skill"), null=True, blank=True)
    technician_courtesy = models.PositiveSmallIntegerField(_("technician's courtesy"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            # Once per case.
            models.UniqueConstraint(fields=["ticket"], condition=Q(kind="csat"), name="survey_one_csat_per_ticket"),
            models.CheckConstraint(condition=Q(kind__in=SurveyKind.values), name="survey_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=SurveyStatus.values), name="survey_status_valid"),
            models.CheckConstraint(
                condition=Q(score__isnull=True)
                | Q(kind="csat", score__gte=CSAT_SCORES[0], score__lte=CSAT_SCORES[1])
                | Q(kind="nps", score__gte=NPS_SCORES[0], score__lte=NPS_SCORES[1]),
                name="survey_score_range",
            ),
            models.CheckConstraint(
                condition=Q(ces_score__isnull=True) | Q(ces_score__gte=CES_SCORES[0], ces_score__lte=CES_SCORES[1]),
                name="survey_ces_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(score__isnull=False),
                name="survey_answered_has_score",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True})
                    | Q(**{f"{field}__gte": TECHNICIAN_SCORES[0], f"{field}__lte": TECHNICIAN_SCORES[1]}),
                    name=f"survey_{field}_range",
                )
                for field in ("technician_punctuality", "technician_skill", "technician_courtesy")
            ),
        ]
        indexes = [
            # The responses list: a merchant's answers, newest first.
            models.Index(
                fields=["merchant", "-answered_at", "-id"],
                condition=Q(status="answered"),
                name="survey_merchant_answered",
            ),
            # The throttle: a customer's latest survey of a kind.
            models.Index(fields=["customer", "kind", "sent_at"], name="survey_customer_kind_sent"),
            models.Index(fields=["merchant", "technician"], name="survey_merchant_technician"),
            models.Index(fields=["merchant", "agent"], name="survey_merchant_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ticket_id} ({self.status})"

    def can_transition_to(self, status: str) -> bool:
        return status in SURVEY_TRANSITIONS[self.status]

    @property
    def has_technician_questions(self) -> bool:
        return self.kind == SurveyKind.CSAT and self.technician_id is not None
