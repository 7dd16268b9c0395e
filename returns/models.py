"""Returns, exchanges and refund-only claims: the merchant's policy and each return request.

A return request hangs one-to-one off its Ticket and moves the ticket's generic status in the same
transaction. The terms that applied when it was submitted are snapshotted onto it, so a later edit
of the policy never changes what a customer was promised.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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


class ReturnReason(MerchantOwnedModel):
    """A merchant-editable tree of reasons; each says whose responsibility the return is."""

    merchant = models.ForeignKey("aftersales.Merchant", on_delete=models.CASCADE, related_name="return_reasons")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
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

    def __str__(self):
        return self.name


class ReturnPolicy(MerchantOwnedModel):
    """One per merchant: the legal floor, the excepted categories, and the ordered rules."""

    merchant = models.OneToOneField("aftersales.Merchant", on_delete=models.CASCADE, related_name="return_policy")
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

    class Meta:
        verbose_name = _("return policy")
        verbose_name_plural = _("return policies")
        constraints = [
            models.CheckConstraint(condition=Q(legal_floor_days__gte=7), name="returnpolicy_floor_at_least_seven"),
        ]

    def __str__(self):
        return str(self.merchant)


class ReturnRule(TimeStampedModel):
    """One rule of a policy. The first active rule, by position, that matches a line applies.

    Empty match lists mean "any"; the rule sets the window (days from delivery) and the terms.
    """

    policy = models.ForeignKey(ReturnPolicy, on_delete=models.CASCADE, related_name="rules")
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
    window_days = models.PositiveSmallIntegerField(_("window (days after delivery)"), default=7)
    allowed_resolutions = models.JSONField(_("allowed resolutions"), default=list)
    restocking_fee_percent = models.DecimalField(
        _("restocking fee (%)"), max_digits=5, decimal_places=2, default=Decimal("0")
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
        ]

    def __str__(self):
        return f"{self.position}. {self.name}"


class ReturnStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    ESCALATED = "escalated", _("Escalated to a supervisor")
    AWAITING_SHIPMENT = "awaiting_shipment", _("Awaiting shipment")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    INSPECTED = "inspected", _("Inspected")
    SETTLING = "settling", _("Settling")
    ACTION_REQUIRED = "action_required", _("Action required")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


R = ReturnStatus
# DESIGN.md, "Workflows are state machines": the one table of allowed moves.
RETURN_TRANSITIONS: dict[str, frozenset[str]] = {
    R.SUBMITTED: frozenset({R.APPROVED, R.REJECTED, R.NEEDS_REVIEW, R.CANCELLED}),
    R.NEEDS_REVIEW: frozenset({R.APPROVED, R.REJECTED, R.CANCELLED}),
    R.APPROVED: frozenset({R.AWAITING_SHIPMENT, R.SETTLING, R.CANCELLED}),
    R.REJECTED: frozenset({R.SUBMITTED, R.ESCALATED}),
    R.ESCALATED: frozenset({R.APPROVED, R.REJECTED}),
    R.AWAITING_SHIPMENT: frozenset({R.IN_TRANSIT, R.EXPIRED, R.CANCELLED}),
    R.IN_TRANSIT: frozenset({R.RECEIVED}),
    R.RECEIVED: frozenset({R.INSPECTED, R.SETTLING}),
    R.INSPECTED: frozenset({R.SETTLING}),
    R.SETTLING: frozenset({R.COMPLETED, R.ACTION_REQUIRED}),
    R.ACTION_REQUIRED: frozenset({R.SETTLING}),
    R.COMPLETED: frozenset(),
    R.CANCELLED: frozenset(),
    R.EXPIRED: frozenset(),
}
# Units of these returns still count against what the customer may return from a line.
HOLDING_STATUSES = tuple(status for status in ReturnStatus.values if status not in (R.CANCELLED, R.EXPIRED))
del R


class ReturnRequest(MerchantOwnedModel):
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="return_request")
    order = models.ForeignKey("aftersales.Order", on_delete=models.PROTECT, related_name="return_requests")
    customer = models.ForeignKey("aftersales.Customer", on_delete=models.PROTECT, related_name="return_requests")
    status = models.CharField(_("status"), max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.SUBMITTED)
    resolution = models.CharField(_("resolution"), max_length=20, choices=Resolution.choices)
    reason = models.ForeignKey(ReturnReason, on_delete=models.PROTECT, related_name="return_requests")
    reason_note = models.TextField(_("in the customer's words"), blank=True)
    terms = models.JSONField(_("terms that applied"), default=dict)
    rejection_reason = models.TextField(_("why it was rejected"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReturnStatus.values), name="returnrequest_status_valid"),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "-submitted_at"], name="returnrequest_queue"),
            models.Index(fields=["merchant", "customer", "-submitted_at"], name="returnrequest_customer"),
        ]

    def __str__(self):
        return f"{self.ticket.number} ({self.get_status_display()})"

    def can_transition_to(self, status: str) -> bool:
        return status in RETURN_TRANSITIONS[self.status]


class ReturnLine(TimeStampedModel):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("aftersales.OrderLine", on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_refund_amount = models.DecimalField(_("refund per unit"), max_digits=12, decimal_places=2)
    window_ends_at = models.DateTimeField(_("window ends"))

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["return_request_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnline_quantity_positive"),
            models.UniqueConstraint(fields=["return_request", "order_line"], name="returnline_unique_order_line"),
            models.CheckConstraint(condition=Q(unit_refund_amount__gte=0), name="returnline_refund_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.order_line.sku}"

    @property
    def refund_amount(self) -> Decimal:
        return self.unit_refund_amount * self.quantity
