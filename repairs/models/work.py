"""What a repair costs and who pays it: lines with their coverage, quotes, supplier claims."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel

from .orders import RepairOrder


class LineKind(models.TextChoices):
    PART = "part", _("Part")
    LABOUR = "labour", _("Labour")
    TRAVEL = "travel", _("Travel")
    FEE = "fee", _("Fee")


class LineCoverage(models.TextChoices):
    WARRANTY = "warranty", _("Warranty")
    CUSTOMER = "customer", _("Customer pays")
    GOODWILL = "goodwill", _("Goodwill")
    SUPPLIER = "supplier", _("Supplier")


class QuoteStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RepairQuote(MerchantOwnedModel):
    """What the customer is asked to pay, fixed when sent (lines, tax, validity)."""

    repair_order = models.ForeignKey(
        RepairOrder, on_delete=models.CASCADE, related_name="quotes", verbose_name=_("repair order")
    )
    status = models.CharField(_("status"), max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.SENT)
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4)
    subtotal = models.DecimalField(_("subtotal"), max_digits=12, decimal_places=2)
    tax_amount = models.DecimalField(_("tax"), max_digits=12, decimal_places=2)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    valid_until = models.DateTimeField(_("valid until"))
    note = models.TextField(_("note to the customer"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decline_reason = models.TextField(_("why it was declined"), blank=True)

    class Meta:
        verbose_name = _("repair quote")
        verbose_name_plural = _("repair quotes")
        ordering = ["repair_order_id", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(tax_amount__gte=0)
                & Q(total=models.F("subtotal") + models.F("tax_amount")),
                name="repairquote_total_adds_up",
            ),
            # One quote waits for the customer at a time.
            models.UniqueConstraint(
                fields=["repair_order"], condition=Q(status="sent"), name="repairquote_one_open_per_repair"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repair_order} {self.total}"


class RepairLine(MerchantOwnedModel):
    """A part, labour, travel or a fee, each with who pays it: never one flag for the whole repair."""

    repair_order = models.ForeignKey(
        RepairOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("repair order")
    )
    quote = models.ForeignKey(
        RepairQuote, on_delete=models.SET_NULL, null=True, blank=True, related_name="lines", verbose_name=_("quote")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=LineKind.choices)
    part = models.ForeignKey(
        "repairs.Part", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("part")
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=9, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2, default=Decimal("0"))
    coverage = models.CharField(_("paid by"), max_length=20, choices=LineCoverage.choices)
    is_repeat_free = models.BooleanField(_("free as a repeat repair"), default=False)

    class Meta:
        verbose_name = _("repair line")
        verbose_name_plural = _("repair lines")
        ordering = ["repair_order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="repairline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(unit_cost__gte=0), name="repairline_amounts_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="part", part__isnull=False) | (~Q(kind="part") & Q(part__isnull=True)),
                name="repairline_part_for_part_lines",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"

    @property
    def amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"))

    @property
    def cost(self) -> Decimal:
        return (self.unit_cost * self.quantity).quantize(Decimal("0.01"))


class SupplierClaimStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SENT = "sent", _("Sent")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected")


SUPPLIER_CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    SupplierClaimStatus.OPEN: frozenset({SupplierClaimStatus.SENT, SupplierClaimStatus.REJECTED}),
    SupplierClaimStatus.SENT: frozenset({SupplierClaimStatus.PAID, SupplierClaimStatus.REJECTED}),
    SupplierClaimStatus.PAID: frozenset(),
    SupplierClaimStatus.REJECTED: frozenset(),
}


class SupplierClaim(MerchantOwnedModel):
    """The warranty cost of one repair claimed back from the manufacturer."""

    repair_order = models.OneToOneField(
        RepairOrder, on_delete=models.CASCADE, related_name="supplier_claim", verbose_name=_("repair order")
    )
    supplier = models.CharField(_("supplier"), max_length=200)
    amount = models.DecimalField(_("amount claimed"), max_digits=12, decimal_places=2)
    amount_paid = models.DecimalField(_("amount paid"), max_digits=12, decimal_places=2, default=Decimal("0"))
    status = models.CharField(
        _("status"), max_length=20, choices=SupplierClaimStatus.choices, default=SupplierClaimStatus.OPEN
    )
    reference = models.CharField(_("supplier's reference"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("supplier claim")
        verbose_name_plural = _("supplier claims")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(amount_paid__gte=0) & Q(amount_paid__lte=models.F("amount")),
                name="supplierclaim_amounts_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repair_order} → {self.supplier}"
