"""Settlement of a return: the refund ledger, store credit, and replacement shipments.

A refund is two kinds of row (DESIGN.md, "Money and quantities"): the decision (``Refund`` with its
``RefundLine`` allocations: who granted how much for which units) and the execution
(``RefundExecution``: the payment call, identified by an idempotency key that every retry reuses).
The sum granted for an order line never exceeds what was paid for it; the services check that
under the line's lock, and the constraints here are the last guard of what one row can hold.
"""

from datetime import datetime
from typing import TypedDict

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.encryption import EncryptedTextField
from aftersales.models import MerchantOwnedModel, TimeStampedModel
from aftersales.models.integrations import public_url_required

from .requests import ReturnLine, ReturnRequest


class _AmountOptions(TypedDict):
    max_digits: int
    decimal_places: int


AMOUNT: _AmountOptions = {"max_digits": 12, "decimal_places": 2}


class RefundAdapterName(models.TextChoices):
    MANUAL = "manual", _("Manual (staff confirm the payout in the shop's back office)")
    HTTP = "http", _("HTTP (the shop platform's refund endpoint)")


class RefundGateway(MerchantOwnedModel):
    """How a merchant's refunds are paid. A merchant without a row pays manually."""

    merchant = models.OneToOneField(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="refund_gateway", verbose_name=_("merchant")
    )
    adapter = models.CharField(
        _("adapter"), max_length=10, choices=RefundAdapterName.choices, default=RefundAdapterName.MANUAL
    )
    endpoint_url = models.URLField(
        _("refund endpoint"), blank=True, help_text=_("The HTTP adapter POSTs each refund here as JSON.")
    )
    # Encrypted at rest; read in clear through the model only.
    api_token = EncryptedTextField(
        _("API token"), max_length=200, blank=True, help_text=_("Sent as a Bearer token, if set.")
    )
    timeout_seconds = models.PositiveSmallIntegerField(_("timeout (seconds)"), default=10)

    class Meta:
        verbose_name = _("refund gateway")
        verbose_name_plural = _("refund gateways")
        constraints = [
            models.CheckConstraint(
                condition=Q(adapter__in=RefundAdapterName.values), name="refundgateway_adapter_valid"
            ),
            models.CheckConstraint(
                condition=~Q(adapter=RefundAdapterName.HTTP)
                | Q(endpoint_url__startswith="https://")
                | Q(endpoint_url__startswith="http://"),
                name="refundgateway_http_needs_url",
            ),
            models.CheckConstraint(
                condition=Q(timeout_seconds__gte=1) & Q(timeout_seconds__lte=120), name="refundgateway_timeout_range"
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if self.adapter == RefundAdapterName.HTTP:
            public_url_required(
                self.endpoint_url,
                field="endpoint_url",
                literal=_("Refunds are sent to public addresses only, and %(address)s is not one (%(kind)s)."),
                resolved=_(
                    "Refunds are sent to public addresses only, and %(host)s resolves to %(address)s, "
                    "which is not one (%(kind)s)."
                ),
            )

    def __str__(self) -> str:
        return f"{self.merchant} ({self.get_adapter_display()})"


class RefundMethod(models.TextChoices):
    ORIGINAL_PAYMENT = "original_payment", _("Original payment")
    STORE_CREDIT = "store_credit", _("Store credit")


class RefundState(models.TextChoices):
    GRANTED = "granted", _("Granted, not paid yet")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Payment failed")
    # Withdrawn before it was paid: its lines no longer count against what a line may refund.
    VOIDED = "voided", _("Voided")


class Refund(MerchantOwnedModel):
    """The decision: this much, for these units, for this reason, granted by this person."""

    # Not a field: set by returns.selectors.settlement.return_ledger for the page, the payment
    # call if there is one.
    execution_shown: "RefundExecution | None"

    # A refund settles a return, or — without one — is money given back against the order itself
    # (a complaint's compensation: its shipping, or part of the price): then ``order`` and the
    # ``ticket`` whose timeline records it are set instead. The same caps hold either way.
    return_request = models.ForeignKey(
        ReturnRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("return request"),
    )
    order = models.ForeignKey(
        "aftersales.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_refunds",
        verbose_name=_("order refunded without a return"),
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_refunds",
        verbose_name=_("case of a refund without a return"),
    )
    method = models.CharField(_("method"), max_length=20, choices=RefundMethod.choices)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    shipping_amount = models.DecimalField(_("of which shipping"), default=0, **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.TextField(_("reason"), blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    state = models.CharField(_("state"), max_length=10, choices=RefundState.choices, default=RefundState.GRANTED)
    # Optional: the caller's key for the decision itself, so a replayed "grant" is one refund.
    grant_key = models.CharField(_("grant key"), max_length=100, blank=True)
    # Fixed at the grant, so the payment is made under one key whoever makes it: the task after
    # the grant, the sweep that re-drives a stalled payment, or an API retry of the same call.
    payment_key = models.CharField(
        _("payment key"),
        max_length=100,
        blank=True,
        help_text=_("The idempotency key the payment is made under, fixed when the refund is granted."),
    )
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("voided by"),
    )
    void_reason = models.TextField(_("why it was voided"), blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["return_request_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(shipping_amount__gte=0) & Q(shipping_amount__lte=F("amount")),
                name="refund_shipping_within_amount",
            ),
            models.CheckConstraint(condition=Q(method__in=RefundMethod.values), name="refund_method_valid"),
            models.CheckConstraint(condition=Q(state__in=RefundState.values), name="refund_state_valid"),
            models.CheckConstraint(
                condition=Q(state=RefundState.PAID, paid_at__isnull=False)
                | (~Q(state=RefundState.PAID) & Q(paid_at__isnull=True)),
                name="refund_paid_has_time",
            ),
            models.CheckConstraint(
                condition=Q(state=RefundState.VOIDED, voided_at__isnull=False)
                | (~Q(state=RefundState.VOIDED) & Q(voided_at__isnull=True)),
                name="refund_voided_has_time",
            ),
            models.CheckConstraint(
                condition=(Q(return_request__isnull=False) & Q(order__isnull=True) & Q(ticket__isnull=True))
                | (Q(return_request__isnull=True) & Q(order__isnull=False) & Q(ticket__isnull=False)),
                name="refund_of_a_return_or_an_order",
            ),
            models.UniqueConstraint(
                fields=["merchant", "grant_key"], condition=~Q(grant_key=""), name="refund_unique_grant_key"
            ),
            models.UniqueConstraint(
                fields=["merchant", "payment_key"], condition=~Q(payment_key=""), name="refund_unique_payment_key"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "created_at"], condition=~Q(state="paid"), name="refund_unpaid"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.get_state_display()})"

    def void_refusal(self, execution: "RefundExecution | None", now: datetime) -> str:
        """Why this refund cannot be voided now (a code), or "" if it can: only a decision whose
        money has not left — no successful payment, no call in flight or of unknown outcome."""
        if self.state == RefundState.VOIDED:
            return "refund_voided"
        if self.state == RefundState.PAID or self.method != RefundMethod.ORIGINAL_PAYMENT:
            return "refund_paid"  # store credit is paid the moment it is granted
        if execution is None:
            return ""
        if execution.state == ExecutionState.SUCCEEDED:
            return "refund_paid"
        # An HTTP call was claimed and no answer recorded: in flight, or its worker died mid-call
        # and the provider may have paid. A retry (same key) finds out; voiding would guess.
        claimed = execution.attempts or (execution.lease_expires_at and execution.lease_expires_at > now)
        if execution.state == ExecutionState.PENDING and execution.adapter != RefundAdapterName.MANUAL and claimed:
            return "payment_in_flight"
        if execution.state == ExecutionState.FAILED and execution.adapter == RefundAdapterName.HTTP:
            # A failed call is known unpaid only when it never left (no endpoint, a refused address
            # or connection) or the provider answered no (4xx). A timeout, a reset or a 5xx may come
            # after the provider paid: a retry under the same key tells; voiding would guess.
            summary = execution.response_summary or {}
            status = summary.get("status")
            answered_no = isinstance(status, int) and 400 <= status < 500
            if summary.get("sent") is not False and not answered_no:
                return "payment_outcome_unknown"
        return ""

    @property
    def is_voidable(self) -> bool:
        """For pages: whether a supervisor may void it now (the service checks again under lock)."""
        try:
            execution = self.execution
        except RefundExecution.DoesNotExist:
            execution = None
        return not self.void_refusal(execution, timezone.now())


class RefundLine(TimeStampedModel):
    """How much of a refund goes to which order line, and for how many units (0: a price
    adjustment where the customer keeps the item)."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines", verbose_name=_("refund"))
    # None on a refund without a return (``Refund.order``): a price adjustment of 0 units.
    return_line = models.ForeignKey(
        ReturnLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund_lines",
        verbose_name=_("return line"),
    )
    order_line = models.ForeignKey(
        "aftersales.OrderLine", on_delete=models.PROTECT, related_name="refund_lines", verbose_name=_("order line")
    )
    quantity = models.PositiveIntegerField(_("units"))
    amount = models.DecimalField(_("amount"), **AMOUNT)

    class Meta:
        verbose_name = _("refund line")
        verbose_name_plural = _("refund lines")
        ordering = ["refund_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refundline_amount_positive"),
            # Units leave the customer only through a return: without one, a line refunds money only.
            models.CheckConstraint(
                condition=Q(return_line__isnull=False) | Q(quantity=0), name="refundline_units_need_a_return"
            ),
            models.UniqueConstraint(fields=["refund", "order_line"], name="refundline_unique_order_line"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line_id}: {self.amount}"


class ExecutionState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class RefundExecution(MerchantOwnedModel):
    """The payment call for a refund. One per refund: a retry is another attempt of the same row,
    with the same idempotency key, so the payment provider sees one refund however often it is
    asked. ``lease_expires_at`` marks an attempt in flight; a second worker leaves it alone."""

    refund = models.OneToOneField(Refund, on_delete=models.PROTECT, related_name="execution", verbose_name=_("refund"))
    adapter = models.CharField(_("adapter"), max_length=10, choices=RefundAdapterName.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100)
    state = models.CharField(_("state"), max_length=10, choices=ExecutionState.choices, default=ExecutionState.PENDING)
    request_summary = models.JSONField(_("request"), default=dict, blank=True)
    response_summary = models.JSONField(_("response"), default=dict, blank=True)
    provider_reference = models.CharField(_("provider reference"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("attempt in flight until"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )

    class Meta:
        verbose_name = _("refund execution")
        verbose_name_plural = _("refund executions")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_key"], name="refundexecution_unique_key"),
            models.CheckConstraint(condition=~Q(idempotency_key=""), name="refundexecution_key_present"),
            models.CheckConstraint(condition=Q(state__in=ExecutionState.values), name="refundexecution_state_valid"),
            models.CheckConstraint(
                condition=Q(adapter__in=RefundAdapterName.values), name="refundexecution_adapter_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=ExecutionState.SUCCEEDED) | Q(completed_at__isnull=False),
                name="refundexecution_success_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.get_state_display()})"


class StoreCreditAccount(MerchantOwnedModel):
    """A customer's store-credit balance. Entries change it only under a lock of this row."""

    customer = models.OneToOneField(
        "aftersales.Customer", on_delete=models.PROTECT, related_name="store_credit", verbose_name=_("customer")
    )
    currency = models.CharField(_("currency"), max_length=3)
    balance = models.DecimalField(_("balance"), default=0, **AMOUNT)

    class Meta:
        verbose_name = _("store credit account")
        verbose_name_plural = _("store credit accounts")
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="storecreditaccount_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.balance} {self.currency}"


class StoreCreditEntry(MerchantOwnedModel):
    """One movement of a customer's store credit: + granted, - spent. Never changed afterwards."""

    account = models.ForeignKey(
        StoreCreditAccount, on_delete=models.PROTECT, related_name="entries", verbose_name=_("store credit account")
    )
    customer = models.ForeignKey(
        "aftersales.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    balance_after = models.DecimalField(_("balance after"), **AMOUNT)
    reason = models.TextField(_("reason"), blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    return_request = models.ForeignKey(
        ReturnRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="store_credit_entries",
        verbose_name=_("return request"),
    )
    refund = models.OneToOneField(
        Refund,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="store_credit_entry",
        verbose_name=_("refund"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("store credit entry")
        verbose_name_plural = _("store credit entries")
        ordering = ["account_id", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="storecreditentry_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="storecreditentry_balance_not_negative"),
            models.UniqueConstraint(
                fields=["merchant", "reference"], condition=~Q(reference=""), name="storecreditentry_unique_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+} → {self.balance_after}"


class ReplacementState(models.TextChoices):
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    LOST = "lost", _("Lost")


class ReplacementShipment(MerchantOwnedModel):
    """Units sent to the customer in exchange for returned ones, with their own tracking."""

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.PROTECT, related_name="replacements", verbose_name=_("return request")
    )
    return_line = models.ForeignKey(
        ReturnLine, on_delete=models.PROTECT, related_name="replacements", verbose_name=_("return line")
    )
    order_line = models.ForeignKey(
        "aftersales.OrderLine", on_delete=models.PROTECT, related_name="replacements", verbose_name=_("order line")
    )
    sku = models.CharField(_("SKU sent"), max_length=100)
    # The product sent, when the SKU is one of the merchant's (the variant wished for, by default).
    product = models.ForeignKey(
        "aftersales.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product sent"),
    )
    quantity = models.PositiveIntegerField(_("units"))
    carrier = models.CharField(_("carrier"), max_length=50)
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    state = models.CharField(
        _("state"), max_length=10, choices=ReplacementState.choices, default=ReplacementState.SHIPPED
    )
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shipped by"),
    )
    shipped_at = models.DateTimeField(_("shipped"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("replacement shipment")
        verbose_name_plural = _("replacement shipments")
        ordering = ["return_request_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="replacement_quantity_positive"),
            models.CheckConstraint(condition=~Q(tracking_number=""), name="replacement_tracking_present"),
            models.CheckConstraint(condition=~Q(carrier=""), name="replacement_carrier_present"),
            models.CheckConstraint(condition=Q(state__in=ReplacementState.values), name="replacement_state_valid"),
            models.UniqueConstraint(
                fields=["merchant", "carrier", "tracking_number", "order_line"], name="replacement_unique_parcel_line"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "tracking_number"], name="replacement_tracking")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku} ({self.carrier} {self.tracking_number})"
