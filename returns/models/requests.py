"""Return requests and their lines, with the one table of allowed status changes."""

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.models import MerchantOwnedModel, TimeStampedModel

from .policy import Resolution, ReturnReason


class ReturnStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    ESCALATED = "escalated", _("Escalated to a supervisor")
    AWAITING_SHIPMENT = "awaiting_shipment", _("Awaiting shipment")
    IN_TRANSIT = "in_transit", _("In transit")
    # Contexts: a ticket is "received" too (acknowledged); a return's parcel is received (in hand).
    RECEIVED = "received", pgettext_lazy("return status", "Received")
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
    # Approved but never shipped: the ship-by deadline expires it (from either state).
    R.APPROVED: frozenset({R.AWAITING_SHIPMENT, R.SETTLING, R.CANCELLED, R.EXPIRED}),
    R.REJECTED: frozenset({R.SUBMITTED, R.ESCALATED}),
    R.ESCALATED: frozenset({R.APPROVED, R.REJECTED}),
    # Handed in at a store, the parcel never travels: straight to received.
    R.AWAITING_SHIPMENT: frozenset({R.IN_TRANSIT, R.RECEIVED, R.EXPIRED, R.CANCELLED}),
    # Lost by the carrier: settled as if it had arrived, and the carrier is claimed from.
    R.IN_TRANSIT: frozenset({R.RECEIVED, R.SETTLING}),
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
# Refund-only and keep-the-item settle from approved; everything else once the items are back.
SETTLE_ON_APPROVAL = (Resolution.REFUND_ONLY, Resolution.KEEP_ITEM)
# A quick refund pays while the parcel travels; the return stays where it is.
QUICK_REFUND_STATUSES = (R.AWAITING_SHIPMENT, R.IN_TRANSIT)
# When the customer's payment of a dearer exchange is not taken: before the shop agreed to the
# exchange (the money would have nowhere to go if it refused), and once the return is over.
DIFFERENCE_NOT_PAYABLE_STATUSES = (
    R.SUBMITTED,
    R.NEEDS_REVIEW,
    R.ESCALATED,
    R.REJECTED,
    R.CANCELLED,
    R.EXPIRED,
    R.COMPLETED,
)

if TYPE_CHECKING:
    from aftersales.models import Deadline
del R


class ReturnRequest(MerchantOwnedModel):
    # Not a field: the return's clocks for the API's detail, set by returns.api.views.
    deadline_list: "list[Deadline]"

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="return_request", verbose_name=_("ticket")
    )
    order = models.ForeignKey(
        "aftersales.Order", on_delete=models.PROTECT, related_name="return_requests", verbose_name=_("order")
    )
    customer = models.ForeignKey(
        "aftersales.Customer", on_delete=models.PROTECT, related_name="return_requests", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.SUBMITTED)
    resolution = models.CharField(_("resolution"), max_length=20, choices=Resolution.choices)
    reason = models.ForeignKey(
        ReturnReason, on_delete=models.PROTECT, related_name="return_requests", verbose_name=_("reason")
    )
    reason_note = models.TextField(_("in the customer's words"), blank=True)
    terms = models.JSONField(_("terms that applied"), default=dict)
    rejection_reason = models.TextField(_("why it was rejected"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"))
    # The portal's confirm form carries a key of its own: a second click, or the same form sent
    # again, finds the return the first one made instead of making another.
    submission_key = models.CharField(_("submission key"), max_length=64, blank=True, editable=False)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    review_reasons = models.JSONField(_("why it needs review"), default=list, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    quick_refund_at = models.DateTimeField(_("quick refund started"), null=True, blank=True)
    # An exchange for dearer variants: what the customer owes on top, fixed at submission, and
    # staff's word that it was paid (the replacement ships only then).
    exchange_difference_due = models.DecimalField(
        _("price difference due"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    exchange_difference_paid_at = models.DateTimeField(_("price difference paid"), null=True, blank=True)
    exchange_difference_reference = models.CharField(
        _("price difference payment reference"), max_length=200, blank=True
    )
    exchange_difference_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("price difference confirmed by"),
    )

    class Meta:
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReturnStatus.values), name="returnrequest_status_valid"),
            models.CheckConstraint(
                condition=Q(exchange_difference_due__gte=0), name="returnrequest_difference_due_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(exchange_difference_paid_at__isnull=True)
                | (Q(exchange_difference_due__gt=0) & ~Q(exchange_difference_reference="")),
                name="returnrequest_difference_paid_has_reference",
            ),
            models.UniqueConstraint(
                fields=["merchant", "submission_key"],
                condition=~Q(submission_key=""),
                name="returnrequest_submission_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "-submitted_at"], name="returnrequest_queue"),
            models.Index(fields=["merchant", "customer", "-submitted_at"], name="returnrequest_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} ({self.get_status_display()})"

    def can_transition_to(self, status: str) -> bool:
        return status in RETURN_TRANSITIONS[self.status]

    @property
    def merchant_pays_return_shipping(self) -> bool:
        """As promised at submission: one parcel goes back, and if the terms of any item in it put
        the postage on the merchant (their fault, or a rule that says so), the merchant pays it."""
        return any(term.get("return_shipping_paid_by") == "merchant" for term in (self.terms or {}).values())

    @property
    def exchange_difference_unpaid(self) -> bool:
        """The customer still owes the price difference of the variants they asked for."""
        return (
            self.resolution == Resolution.EXCHANGE
            and self.exchange_difference_due > 0
            and self.exchange_difference_paid_at is None
        )


class ReturnLine(TimeStampedModel):
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return request")
    )
    order_line = models.ForeignKey(
        "aftersales.OrderLine", on_delete=models.PROTECT, related_name="return_lines", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_refund_amount = models.DecimalField(_("refund per unit"), max_digits=12, decimal_places=2)
    window_ends_at = models.DateTimeField(_("window ends"))
    # What the warehouse counted in and judged; bounded like the order line's counters.
    quantity_received = models.PositiveIntegerField(_("received"), default=0)
    quantity_accepted = models.PositiveIntegerField(_("accepted"), default=0)
    quantity_rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # An exchange for another variant of the item (another size or colour), as the customer asked
    # for it, and its price then; none: the same item again.
    exchange_product = models.ForeignKey(
        "aftersales.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("variant wished for"),
    )
    exchange_sku = models.CharField(_("SKU wished for"), max_length=100, blank=True)
    exchange_unit_price = models.DecimalField(
        _("price of the variant wished for"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # Per unit, against what was paid for one: positive, the customer pays it; negative, the
    # shop refunds it.
    price_difference_per_unit = models.DecimalField(
        _("price difference per unit"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["return_request_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(exchange_product__isnull=True)
                    & Q(exchange_sku="")
                    & Q(exchange_unit_price__isnull=True)
                    & Q(price_difference_per_unit__isnull=True)
                )
                | (
                    Q(exchange_product__isnull=False)
                    & ~Q(exchange_sku="")
                    & Q(exchange_unit_price__gte=0)
                    & Q(price_difference_per_unit__isnull=False)
                ),
                name="returnline_exchange_wish_whole",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnline_quantity_positive"),
            models.UniqueConstraint(fields=["return_request", "order_line"], name="returnline_unique_order_line"),
            models.CheckConstraint(condition=Q(unit_refund_amount__gte=0), name="returnline_refund_not_negative"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity")), name="returnline_received_le_quantity"
            ),
            models.CheckConstraint(
                condition=Q(quantity_accepted__lte=F("quantity_received") - F("quantity_rejected")),
                name="returnline_judged_le_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.sku}"

    @property
    def refund_amount(self) -> Decimal:
        return self.unit_refund_amount * self.quantity

    @property
    def price_difference(self) -> Decimal:
        """The price difference of every unit of the line: positive, owed by the customer."""
        return (self.price_difference_per_unit or Decimal("0")) * self.quantity
