"""Product quality early warning: each SKU's delivery cohorts and the alerts raised on them.

``QualityCohort`` is a rollup, refreshed by the daily run (``feedback.services.quality``): per
product and delivery day, the units delivered and the defect claims made on those units within
the merchant's claim window. ``QualityAlert`` is what the run raises when a product's rate stands
significantly above its category's (the method is in ``feedback.early_warning``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel

DEFAULT_CLAIM_WINDOW_DAYS = 14


class QualitySettings(MerchantOwnedModel):
    """One per merchant: who is told of alerts and how cohorts are counted."""

    merchant = models.OneToOneField(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="quality_settings", verbose_name=_("merchant")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("quality owner"),
        help_text=_("Told of every quality alert. Without one, the merchant's admins are told."),
    )
    claim_window_days = models.PositiveSmallIntegerField(
        _("claim window (days)"),
        default=DEFAULT_CLAIM_WINDOW_DAYS,
        help_text=_("A delivery cohort counts once this many days have passed since it was delivered."),
    )

    cohorts_refreshed_on = models.DateField(_("cohorts last refreshed"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("quality settings")
        verbose_name_plural = _("quality settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(claim_window_days__gte=1, claim_window_days__lte=180), name="qualitysettings_window_range"
            )
        ]

    def __str__(self) -> str:
        return str(self.merchant)


class QualityCohort(MerchantOwnedModel):
    """Units of one product delivered on one day (merchant's time zone), and the defect claims
    made on them within the claim window: merchant-responsible return reasons only (carrier
    damage and customer-fault reasons excluded)."""

    product = models.ForeignKey(
        "aftersales.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )
    category = models.CharField(_("category"), max_length=100, blank=True)
    delivered_on = models.DateField(_("delivered on"))
    delivered_units = models.PositiveIntegerField(_("units delivered"), default=0)
    defect_units = models.PositiveIntegerField(_("defect claims (units)"), default=0)

    class Meta:
        verbose_name = _("quality cohort")
        verbose_name_plural = _("quality cohorts")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "product", "delivered_on"], name="qualitycohort_unique_day"),
            models.CheckConstraint(
                condition=Q(defect_units__lte=models.F("delivered_units")), name="qualitycohort_defects_le_delivered"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "delivered_on"], name="qualitycohort_merchant_day")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.delivered_on}"


class AlertMethod(models.TextChoices):
    LANEY = "laney", _("Above its category (Laney p′ chart)")
    CUSUM = "cusum", _("Rising over its cohorts (CUSUM)")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISMISSED = "dismissed", _("Dismissed")


A = AlertStatus
ALERT_TRANSITIONS: dict[str, frozenset[str]] = {
    A.OPEN: frozenset({A.ACKNOWLEDGED, A.DISMISSED}),
    A.ACKNOWLEDGED: frozenset({A.DISMISSED}),
    A.DISMISSED: frozenset(),
}
LIVE_ALERT_STATUSES = (A.OPEN, A.ACKNOWLEDGED)
del A


class QualityAlert(MerchantOwnedModel):
    """One product flagged on one day. At most one live (open or acknowledged) alert per product:
    the next run adds nothing while one stands. A dismissed alert stops counting: its cohorts are
    left out of the product's next evaluations, so only new evidence can raise it again."""

    product = models.ForeignKey(
        "aftersales.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=100)
    category = models.CharField(_("category"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    method = models.CharField(_("method"), max_length=10, choices=AlertMethod.choices)
    detected_on = models.DateField(_("detected on"))
    cohort_start = models.DateField(_("first cohort"))
    cohort_end = models.DateField(_("last cohort"))
    delivered_units = models.PositiveIntegerField(_("units delivered"))
    defect_units = models.PositiveIntegerField(_("defect claims (units)"))
    rate = models.DecimalField(_("rate"), max_digits=7, decimal_places=6)
    baseline_rate = models.DecimalField(_("category rate"), max_digits=7, decimal_places=6)
    upper_limit = models.DecimalField(_("upper limit"), max_digits=7, decimal_places=6, null=True, blank=True)
    statistic = models.DecimalField(_("statistic"), max_digits=9, decimal_places=3)
    top_reasons = models.JSONField(_("top reasons"), default=list, blank=True)
    ticket_ids = models.JSONField(_("cases"), default=list, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dismissed by"),
    )
    dismissed_at = models.DateTimeField(_("dismissed"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("quality alert")
        verbose_name_plural = _("quality alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "product"],
                condition=Q(status__in=LIVE_ALERT_STATUSES),
                name="qualityalert_one_live_per_product",
            ),
            models.CheckConstraint(condition=Q(status__in=AlertStatus.values), name="qualityalert_status_valid"),
            models.CheckConstraint(condition=Q(method__in=AlertMethod.values), name="qualityalert_method_valid"),
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.DISMISSED) | ~Q(note=""), name="qualityalert_dismissal_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "-detected_on", "-id"], name="qualityalert_merchant_recent")]

    def __str__(self) -> str:
        return f"{self.sku} {self.detected_on}"

    def can_transition_to(self, status: str) -> bool:
        return status in ALERT_TRANSITIONS[self.status]


class QualityAlertEvent(MerchantOwnedModel):
    """The alert's append-only history: raised, acknowledged, dismissed."""

    class Verb(models.TextChoices):
        RAISED = "raised", _("Raised")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DISMISSED = "dismissed", _("Dismissed")

    alert = models.ForeignKey(QualityAlert, on_delete=models.CASCADE, related_name="events", verbose_name=_("alert"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    verb = models.CharField(_("what"), max_length=20, choices=Verb.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("quality alert event")
        verbose_name_plural = _("quality alert events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.alert_id}: {self.verb}"
