"""A merchant's return policy: reasons, the legal floor, and ordered rules."""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from aftersales.config_cache import ConfigModel
from aftersales.models import MerchantOwnedModel, TimeStampedModel


class Responsibility(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    MERCHANT = "merchant", _("Merchant")
    COURIER = "courier", _("Courier")


class Resolution(models.TextChoices):
    REFUND = "refund", _("Refund to the original payment")
    STORE_CREDIT = "store_credit", _("Store credit")
    EXCHANGE = "exchange", _("Exchange for another variant")
    REFUND_ONLY = "refund_only", _("Refund without returning the item")
    KEEP_ITEM = "keep_item", _("Keep the item with a partial refund")


class ReturnReason(ConfigModel, MerchantOwnedModel):
    """A merchant-editable tree of reasons; each says whose responsibility the return is."""

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="return_reasons", verbose_name=_("merchant")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent reason"),
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    responsibility = models.CharField(_("responsibility"), max_length=10, choices=Responsibility.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("return reason")
        verbose_name_plural = _("return reasons")
        ordering = ["merchant_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["merchant", "code"], name="returnreason_unique_code")]

    def __str__(self) -> str:
        return self.name


def default_trusted_tiers() -> list[str]:
    return ["vip"]


class ReturnPolicy(ConfigModel, MerchantOwnedModel):
    """One per merchant: the legal floor, the excepted categories, and the ordered rules."""

    merchant = models.OneToOneField(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="return_policy", verbose_name=_("merchant")
    )
    legal_floor_days = models.PositiveSmallIntegerField(
        _("no-reason return days (legal floor)"),
        default=7,
        help_text=_("Counted from the day after delivery. The law sets 7; a merchant may only give more."),
    )
    excepted_categories = models.JSONField(
        _("categories excepted from the no-reason return"),
        default=list,
        blank=True,
        help_text=_(
            "Product categories the law excepts that this merchant sells: custom-made, perishable, "
            "digital, periodicals."
        ),
    )
    return_address = models.TextField(_("return address"), blank=True)
    # Deadlines (wall-clock time, as marketplaces count them).
    merchant_response_hours = models.PositiveSmallIntegerField(
        _("merchant response (hours)"),
        default=48,
        help_text=_("A request left unanswered this long is approved, as marketplaces rule."),
    )
    ship_by_days = models.PositiveSmallIntegerField(_("customer ships within (days)"), default=7)
    ship_reminder_days = models.PositiveSmallIntegerField(_("remind the customer (days before)"), default=2)
    confirm_receipt_hours = models.PositiveSmallIntegerField(
        _("inspect within (hours)"),
        default=72,
        help_text=_("A parcel received and not inspected this long is refunded as requested."),
    )
    revise_hours = models.PositiveSmallIntegerField(_("customer may revise a rejection within (hours)"), default=72)
    # Risk: a customer past these is reviewed by a person before anything is approved.
    risk_window_days = models.PositiveSmallIntegerField(_("risk look-back (days)"), default=30)
    risk_max_returns = models.PositiveSmallIntegerField(
        _("returns allowed in the look-back"), null=True, blank=True, default=5
    )
    risk_max_value = models.DecimalField(
        _("return value allowed in the look-back"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # Quick refund: paid when the parcel is on its way, for customers the merchant trusts.
    quick_refund_max_amount = models.DecimalField(
        _("quick refund up to"), max_digits=12, decimal_places=2, default=Decimal("300.00")
    )
    trusted_customer_tiers = models.JSONField(_("trusted customer tiers"), default=default_trusted_tiers, blank=True)
    trusted_after_completed_returns = models.PositiveSmallIntegerField(
        _("trusted after completed returns"),
        default=3,
        help_text=_("0: history alone never makes a customer trusted."),
    )

    class Meta:
        verbose_name = _("return policy")
        verbose_name_plural = _("return policies")
        constraints = [
            models.CheckConstraint(condition=Q(legal_floor_days__gte=7), name="returnpolicy_floor_at_least_seven"),
        ]

    def __str__(self) -> str:
        return str(self.merchant)


class ReturnShippingPayer(models.TextChoices):
    """Who pays the parcel's way back. By reason: the merchant when it is their fault (a defect, a
    wrong item, 质量问题运费由商家承担), the customer otherwise (a change of mind)."""

    BY_REASON = "by_reason", _("By the reason's responsibility")
    CUSTOMER = "customer", _("The customer")
    MERCHANT = "merchant", _("The merchant")


class ReturnRule(ConfigModel, TimeStampedModel):
    """One rule of a policy. The first active rule, by position, that matches a line applies.

    Empty match lists mean "any"; the rule sets the window (days from delivery) and the terms.
    """

    CONFIG_MERCHANT_FIELD = "policy__merchant_id"

    policy = models.ForeignKey(
        ReturnPolicy, on_delete=models.CASCADE, related_name="rules", verbose_name=_("return policy")
    )
    position = models.PositiveIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    match_categories = models.JSONField(_("categories"), default=list, blank=True)
    match_skus = models.JSONField(_("SKUs"), default=list, blank=True)
    match_store_ids = models.JSONField(_("stores"), default=list, blank=True)
    match_customer_tiers = models.JSONField(_("customer tiers"), default=list, blank=True)
    match_reason_codes = models.JSONField(_("reasons"), default=list, blank=True)
    min_unit_price = models.DecimalField(_("from unit price"), max_digits=12, decimal_places=2, null=True, blank=True)
    max_unit_price = models.DecimalField(_("up to unit price"), max_digits=12, decimal_places=2, null=True, blank=True)
    min_days_since_delivery = models.PositiveSmallIntegerField(
        _("from day after delivery"),
        null=True,
        blank=True,
        help_text=_("Matches from this many days after delivery (the day after delivery is day 1)."),
    )
    max_days_since_delivery = models.PositiveSmallIntegerField(
        _("up to day after delivery"), null=True, blank=True, help_text=_("Matches up to this day after delivery.")
    )
    window_days = models.PositiveSmallIntegerField(_("window (days after delivery)"), default=7)
    allowed_resolutions = models.JSONField(_("allowed resolutions"), default=list)
    restocking_fee_percent = models.DecimalField(
        _("restocking fee (%)"), max_digits=5, decimal_places=2, default=Decimal("0")
    )
    return_shipping_paid_by = models.CharField(
        _("return shipping paid by"),
        max_length=10,
        choices=ReturnShippingPayer.choices,
        default=ReturnShippingPayer.BY_REASON,
    )
    photos_required = models.BooleanField(_("photos required"), default=False)
    auto_approve = models.BooleanField(_("approve automatically"), default=False)
    quick_refund = models.BooleanField(_("quick refund for trusted customers"), default=False)

    class Meta:
        verbose_name = _("return rule")
        verbose_name_plural = _("return rules")
        ordering = ["policy_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="returnrule_unique_position"),
            models.CheckConstraint(
                condition=Q(restocking_fee_percent__gte=0) & Q(restocking_fee_percent__lte=100),
                name="returnrule_fee_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(min_days_since_delivery__isnull=True)
                | Q(max_days_since_delivery__isnull=True)
                | Q(min_days_since_delivery__lte=F("max_days_since_delivery")),
                name="returnrule_days_since_delivery_range",
            ),
            models.CheckConstraint(
                condition=Q(return_shipping_paid_by__in=ReturnShippingPayer.values),
                name="returnrule_shipping_payer_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"

    def config_merchant_id(self) -> int:
        return self.policy.merchant_id
