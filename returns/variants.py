"""Exchanging an item for another variant of it (another size or colour): what it is called and
what it costs. The portal's choice, the return's snapshot and the dashboard compute the price
difference with these same functions, so the figure a customer confirms is the one recorded.

The difference is per unit, against what the customer paid for one unit of the line (its
discount spread over its units): positive, the customer pays it; negative, the shop refunds it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from aftersales.exceptions import InvalidInput
from aftersales.models import Order, OrderLine, Product

CENT = Decimal("0.01")

# The attribute names shops use most, in the reader's language; any other is shown as it is.
ATTRIBUTE_LABELS = {
    "size": _("Size"),
    "colour": _("Colour"),
    "color": _("Colour"),
    "width": _("Width"),
    "length": _("Length"),
    "fit": _("Fit"),
}


def paid_per_unit(line: OrderLine) -> Decimal:
    """What the customer paid for one unit of the line, to the cent."""
    return (line.paid_amount / line.quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def price_difference_per_unit(line: OrderLine, price: Decimal) -> Decimal:
    """A variant at ``price`` against one unit of ``line``: positive, the customer pays more."""
    return (price - paid_per_unit(line)).quantize(CENT)


def list_text(parts: Iterable[str]) -> str:
    """Items in a sentence, with the separator of the active language: "a, b" or "a、b"."""
    return pgettext("list separator", ", ").join(parts)


def variant_attributes_text(attributes: dict[str, Any]) -> str:
    """``{"size": "M", "colour": "red"}`` as "Size: M, Colour: red" (in Chinese "尺码：M，颜色：red")."""
    parts = []
    for key, value in (attributes or {}).items():
        if value in ("", None):
            continue
        name = str(key).strip()
        label = ATTRIBUTE_LABELS.get(name.lower())
        parts.append(
            pgettext("an attribute and its value", "%(attribute)s: %(value)s")
            % {"attribute": label if label is not None else name[:1].upper() + name[1:], "value": value}
        )
    return pgettext("attributes separator", ", ").join(parts)


def variant_label(product: Product) -> str:
    """How a customer tells this variant from its siblings: its attributes, else its name."""
    return variant_attributes_text(product.variant_attributes) or product.name


def price_difference_text(amount: Decimal | None, currency: str) -> str:
    """ "+20.00 CNY", "−15.00 CNY" (a minus sign, not a hyphen), or "same price"."""
    if not amount:
        return gettext("same price")
    sign = "+" if amount > 0 else "−"
    return f"{sign}{abs(amount):.2f} {currency}"


@dataclass(frozen=True)
class ExchangeVariant:
    """A product one order line may be exchanged for, with the price difference per unit."""

    line: OrderLine
    product: Product
    difference_per_unit: Decimal

    @property
    def label(self) -> str:
        return variant_label(self.product)

    def choice_label(self, currency: str) -> str:
        return f"{self.label} ({price_difference_text(self.difference_per_unit, currency)})"


@dataclass(frozen=True)
class ExchangeWish:
    """Units of a line to be exchanged for a variant (None: the same item again)."""

    line: OrderLine
    quantity: int
    variant: ExchangeVariant | None

    @property
    def difference(self) -> Decimal:
        if self.variant is None:
            return Decimal("0.00")
        return self.variant.difference_per_unit * self.quantity


def difference_totals(differences: Iterable[Decimal]) -> tuple[Decimal, Decimal]:
    """(owed by the customer, refunded by the shop) for line differences (positive: owed).

    The two are kept apart, not netted: a dearer variant is paid before its replacement ships, a
    cheaper one is refunded when its replacement ships, and the two may ship apart."""
    differences = list(differences)
    due = sum((amount for amount in differences if amount > 0), Decimal("0.00"))
    refunded = sum((-amount for amount in differences if amount < 0), Decimal("0.00"))
    return due, refunded


@dataclass(frozen=True)
class ExchangeChoice:
    """The variant a line is to be exchanged for, checked, with the difference per unit fixed."""

    product: Product
    difference_per_unit: Decimal


def exchange_choices_check(
    order: Order, locked: Sequence[OrderLine], exchange_products: Mapping[int, Product]
) -> dict[int, ExchangeChoice]:
    """The variant each (locked) line is to be exchanged for, checked: another product of the
    same merchant and variant group, on sale, with a price; the difference fixed now."""
    lines = {line.pk: line for line in locked}
    wishes = {}
    for line_pk, product in exchange_products.items():
        line = lines.get(line_pk)
        if line is None:
            raise InvalidInput(
                gettext("That item is not in this return."),
                code="line_not_in_return",
                extra={"field": "exchange_products"},
            )
        extra = {"field": "exchange_products", "line": line.pk, "product": product.pk}
        if product.pk == line.product_id:
            raise InvalidInput(
                gettext("%(item)s: pick another size or colour, or leave it to get the same item.")
                % {"item": line.name},
                code="exchange_variant_same_product",
                extra=extra,
            )
        group = line.product.variant_group
        if product.merchant_id != order.merchant_id or not group or product.variant_group != group:
            raise InvalidInput(
                gettext("%(item)s cannot be exchanged for %(sku)s: it is not a variant of the same item.")
                % {"item": line.name, "sku": product.sku},
                code="exchange_variant_not_a_variant",
                extra=extra,
            )
        if not product.is_active or product.price is None:
            raise InvalidInput(
                gettext("%(sku)s is not on sale any more; pick another size or colour.") % {"sku": product.sku},
                code="exchange_variant_not_on_sale",
                extra=extra,
            )
        if order.currency != order.merchant.currency:
            raise InvalidInput(
                gettext("This order was paid in %(currency)s; ask the shop to exchange it for another variant.")
                % {"currency": order.currency},
                code="exchange_variant_currency",
                extra=extra,
            )
        difference = price_difference_per_unit(line, product.price)
        wishes[line.pk] = ExchangeChoice(product=product, difference_per_unit=difference)
    return wishes


def exchange_choice_fields(wish: ExchangeChoice | None) -> dict[str, Any]:
    """The return line's fields that record the variant chosen (none for the same item)."""
    if wish is None:
        return {}
    return {
        "exchange_product": wish.product,
        "exchange_sku": wish.product.sku,
        "exchange_unit_price": wish.product.price,
        "price_difference_per_unit": wish.difference_per_unit,
    }
