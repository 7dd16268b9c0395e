from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .base import MerchantOwnedModel


class Customer(MerchantOwnedModel):
    """A buyer of one merchant. E-mail and phone (E.164) are both first-class identifiers."""

    class Tier(models.TextChoices):
        REGULAR = "regular", _("Regular")
        VIP = "vip", _("VIP")

    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164, e.g. +8613800138000"))
    wechat_openid = models.CharField(
        _("WeChat OpenID"),
        max_length=64,
        blank=True,
        help_text=_("The customer's OpenID for the merchant's WeChat official account, for WeChat messages."),
    )
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, default=Tier.REGULAR)
    language = models.CharField(_("language"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "email"], condition=~Q(email=""), name="customer_unique_email"),
            models.UniqueConstraint(fields=["merchant", "phone"], condition=~Q(phone=""), name="customer_unique_phone"),
            models.CheckConstraint(condition=~Q(email="", phone=""), name="customer_has_contact"),
        ]
        indexes = [models.Index(fields=["merchant", "name"], name="customer_merchant_name")]

    def __str__(self) -> str:
        return self.name or self.email or self.phone


class Product(MerchantOwnedModel):
    sku = models.CharField(_("SKU"), max_length=100)
    name = models.CharField(_("name"), max_length=300)
    category = models.CharField(_("category"), max_length=100, blank=True)
    variant_attributes = models.JSONField(_("variant attributes"), default=dict, blank=True)
    # The style (parent) code that the sizes and colours of one item share: the variants a
    # customer may exchange one of them for.
    variant_group = models.CharField(
        _("variant group"),
        max_length=100,
        blank=True,
        help_text=_("The style code shared by the sizes and colours of one item."),
    )
    variant_position = models.PositiveSmallIntegerField(
        _("position among its variants"), default=0, help_text=_("Sizes in their natural order: S before M before L.")
    )
    price = models.DecimalField(
        _("price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The current selling price, in the merchant's currency."),
    )
    is_active = models.BooleanField(
        _("on sale"), default=True, help_text=_("Offered to customers, for example as an exchange.")
    )
    returnable = models.BooleanField(_("returnable"), default=True)
    warranty_months = models.PositiveSmallIntegerField(_("warranty (months)"), default=0)
    serialized = models.BooleanField(_("serialized"), default=False, help_text=_("Each unit carries a serial number."))

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku"], name="product_unique_sku"),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0), name="product_price_not_negative"
            ),
        ]
        indexes = [
            models.Index(
                fields=["merchant", "variant_group"], condition=~Q(variant_group=""), name="product_variant_group"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Order(MerchantOwnedModel):
    # Not a field: the order's cases for the customer portal's home page, set by its view.
    portal_tickets: list[Any]

    store = models.ForeignKey(
        "aftersales.Store", on_delete=models.PROTECT, related_name="orders", verbose_name=_("store")
    )
    external_number = models.CharField(_("order number"), max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer"))
    currency = models.CharField(_("currency"), max_length=3)
    placed_at = models.DateTimeField(_("placed"))
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    shipping_amount = models.DecimalField(_("shipping"), max_digits=12, decimal_places=2, default=Decimal("0"))
    # Who the order went to, as the shop knows it; the portal matches a customer on these.
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["store", "external_number"], name="order_unique_number_per_store"),
            models.CheckConstraint(condition=Q(shipping_amount__gte=0), name="order_shipping_not_negative"),
        ]
        indexes = [
            models.Index(fields=["merchant", "external_number"], name="order_merchant_number"),
            models.Index(fields=["merchant", "-placed_at", "-id"], name="order_merchant_placed"),
        ]

    def __str__(self) -> str:
        return self.external_number

    @property
    def total_amount(self) -> Decimal:
        return sum((line.paid_amount for line in self.lines.all()), Decimal("0")) + self.shipping_amount


LINE_COUNTERS = (
    "quantity_requested",
    "quantity_received",
    "quantity_accepted",
    "quantity_refunded",
    "quantity_exchanged",
    "quantity_written_off",
)


class OrderLine(MerchantOwnedModel):
    """One line of an order, with the counters the after-sales ledgers keep.

    The counters change only under a lock of this row (``select_for_update``) or with ``F()``; the
    CHECK constraints are the last guard that nothing is returned beyond what was delivered.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    line_number = models.CharField(_("line"), max_length=32)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=100)
    name = models.CharField(_("name"), max_length=300)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    discount_amount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=Decimal("0"))
    serial_numbers = models.JSONField(_("serial numbers"), default=list, blank=True)

    quantity_requested = models.PositiveIntegerField(_("requested"), default=0)
    quantity_received = models.PositiveIntegerField(_("received"), default=0)
    quantity_accepted = models.PositiveIntegerField(_("accepted"), default=0)
    quantity_refunded = models.PositiveIntegerField(_("refunded"), default=0)
    quantity_exchanged = models.PositiveIntegerField(_("exchanged"), default=0)
    quantity_written_off = models.PositiveIntegerField(_("written off"), default=0)

    COUNTERS = LINE_COUNTERS

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="orderline_unique_number"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_not_negative"),
            models.CheckConstraint(
                condition=Q(discount_amount__gte=0) & Q(discount_amount__lte=F("unit_price") * F("quantity")),
                name="orderline_discount_within_price",
            ),
            *[
                models.CheckConstraint(condition=Q(**{f"{name}__lte": F("quantity")}), name=f"orderline_{name}_bounded")
                for name in LINE_COUNTERS
            ],
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity_requested")), name="orderline_received_le_requested"
            ),
            models.CheckConstraint(
                condition=Q(quantity_accepted__lte=F("quantity_received")), name="orderline_accepted_le_received"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} / {self.line_number}: {self.quantity} × {self.sku}"

    @property
    def paid_amount(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount_amount

    @property
    def quantity_returnable(self) -> int:
        return self.quantity - self.quantity_requested
