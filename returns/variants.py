"""Exchanging an item for another variant of it (another size or colour): what it is called and
what it costs. The portal's choice, the return's snapshot and the dashboard compute the price
difference with these same functions, so the figure a customer confirms is the one recorded.

The difference is per unit, against what the customer paid for one unit of the line (its
discount spread over its units): positive, the customer pays it; negative, the shop refunds it.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.models import OrderLine, Product

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


def variant_attributes_text(attributes: dict) -> str:
    """``{"size": "M", "colour": "red"}`` as "Size: M, Colour: red"."""
    parts = []
    for key, value in (attributes or {}).items():
        if value in ("", None):
            continue
        name = str(key).strip()
        label = ATTRIBUTE_LABELS.get(name.lower())
        parts.append(f"{label if label is not None else name[:1].upper() + name[1:]}: {value}")
    return ", ".join(parts)


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


def difference_totals(differences) -> tuple[Decimal, Decimal]:
    """(owed by the customer, refunded by the shop) for line differences (positive: owed).

    The two are kept apart, not netted: a dearer variant is paid before its replacement ships, a
    cheaper one is refunded when its replacement ships, and the two may ship apart."""
    differences = list(differences)
    due = sum((amount for amount in differences if amount > 0), Decimal("0.00"))
    refunded = sum((-amount for amount in differences if amount < 0), Decimal("0.00"))
    return due, refunded
