"""Order intake from the shop: create or update an order with its lines and customer.

Idempotent on (store, external number): the same order pushed twice is one order. An order is
written whole or not at all; a batch reports each order's outcome on its own.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput
from aftersales.models import Customer, Merchant, Order, OrderLine, Product, Store
from aftersales.services.customers import customer_get_or_create


@dataclass(frozen=True)
class CustomerInput:
    name: str = ""
    email: str = ""
    phone: str = ""
    tier: str | None = None
    wechat_openid: str = ""


@dataclass(frozen=True)
class OrderLineInput:
    line_number: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount_amount: Decimal = Decimal("0")
    category: str = ""
    serial_numbers: list[str] = field(default_factory=list)
    variant_group: str = ""
    variant_attributes: dict[str, str] = field(default_factory=dict)
    product_price: Decimal | None = None


@dataclass(frozen=True)
class OrderInput:
    store_id: int
    number: str
    customer: CustomerInput
    lines: list[OrderLineInput]
    placed_at: datetime
    currency: str = ""
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    shipping_amount: Decimal = Decimal("0")


@dataclass
class OrderUpsertResult:
    order: Order
    created: bool


# What other apps do when an order arrives delivered (repairs registers the serials it carries),
# inside the intake's transaction; registered by each app's ready(), so the kernel imports none.
_delivered_hooks: list[Callable[[Order], object]] = []


def register_delivered_hook(hook: Callable[[Order], object]) -> None:
    if hook not in _delivered_hooks:
        _delivered_hooks.append(hook)


def order_upsert(*, merchant: Merchant, data: OrderInput) -> OrderUpsertResult:
    with transaction.atomic():
        store = Store.objects.filter(merchant=merchant, pk=data.store_id).first()
        if store is None:
            raise InvalidInput(_("Unknown store."), code="unknown_store", extra={"field": "store"})
        customer = customer_get_or_create(
            merchant=merchant,
            email=data.customer.email,
            phone=data.customer.phone,
            name=data.customer.name,
            tier=data.customer.tier,
            wechat_openid=data.customer.wechat_openid,
        )
        order, created = _order_lock_or_create(merchant=merchant, store=store, customer=customer, data=data)
        if not created:
            order.customer = customer
            _order_apply_fields(order, data)
            order.save()
        _order_sync_lines(order=order, lines=data.lines)
        if order.delivered_at is not None:
            for hook in _delivered_hooks:
                hook(order)
    return OrderUpsertResult(order=order, created=created)


def _order_apply_fields(order: Order, data: OrderInput) -> None:
    order.currency = data.currency or order.merchant.currency
    order.placed_at = data.placed_at
    order.shipped_at = data.shipped_at
    order.delivered_at = data.delivered_at
    order.shipping_amount = data.shipping_amount
    order.contact_email = data.customer.email.strip().lower()
    order.contact_phone = data.customer.phone


def _order_lock_or_create(
    *, merchant: Merchant, store: Store, customer: Customer | None, data: OrderInput
) -> tuple[Order, bool]:
    for attempt in range(2):
        existing = Order.objects.select_for_update().filter(store=store, external_number=data.number).first()
        if existing is not None:
            return existing, False
        order = Order(merchant=merchant, store=store, external_number=data.number, customer=customer)
        _order_apply_fields(order, data)
        try:
            with transaction.atomic():
                order.save()
            return order, True
        except IntegrityError:
            # Another request created it between our read and our insert: update theirs.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _order_sync_lines(*, order: Order, lines: list[OrderLineInput]) -> None:
    numbers = [line.line_number for line in lines]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput(_("Line numbers repeat within the order."), code="duplicate_line", extra={"field": "lines"})
    existing = {line.line_number: line for line in OrderLine.objects.select_for_update().filter(order=order)}
    for number, line in existing.items():
        if number not in numbers and (any(getattr(line, c) for c in OrderLine.COUNTERS) or line.tickets.exists()):
            raise InvalidInput(
                _("Line %(line)s has after-sales activity and cannot be removed.") % {"line": number},
                code="line_in_use",
                extra={"field": "lines", "line": number},
            )
    OrderLine.objects.filter(order=order).exclude(line_number__in=numbers).delete()
    products = _products_for(order.merchant, lines)
    for incoming in lines:
        line = existing.get(incoming.line_number) or OrderLine(
            merchant=order.merchant, order=order, line_number=incoming.line_number
        )
        busiest = max((getattr(line, c) for c in OrderLine.COUNTERS), default=0)
        if incoming.quantity < busiest:
            raise InvalidInput(
                _("Line %(line)s cannot drop below the %(count)s units already in after-sales.")
                % {"line": incoming.line_number, "count": busiest},
                code="line_in_use",
                extra={"field": "lines", "line": incoming.line_number},
            )
        if incoming.discount_amount > incoming.unit_price * incoming.quantity:
            raise InvalidInput(
                _("Line %(line)s: the discount exceeds the line's price.") % {"line": incoming.line_number},
                code="invalid_discount",
                extra={"field": "lines", "line": incoming.line_number},
            )
        line.product = products[incoming.sku]
        line.sku = incoming.sku
        line.name = incoming.name or line.product.name
        line.quantity = incoming.quantity
        line.unit_price = incoming.unit_price
        line.discount_amount = incoming.discount_amount
        line.serial_numbers = incoming.serial_numbers
        line.save()


def _products_for(merchant: Merchant, lines: list[OrderLineInput]) -> dict[str, Product]:
    products = {p.sku: p for p in Product.objects.filter(merchant=merchant, sku__in={line.sku for line in lines})}
    for line in lines:
        # The merchant edits products in their catalogue; intake only fills what is missing.
        missing = {
            "variant_group": line.variant_group.strip(),
            "variant_attributes": line.variant_attributes,
            "price": line.product_price,
        }
        if line.sku not in products:
            products[line.sku], _created = Product.objects.get_or_create(
                merchant=merchant,
                sku=line.sku,
                defaults={"name": line.name or line.sku, "category": line.category, **missing},
            )
            continue
        product = products[line.sku]
        filled = [
            name
            for name, value in missing.items()
            if value not in ("", {}, None) and getattr(product, name) in ("", {}, None)
        ]
        if filled:
            for name in filled:
                setattr(product, name, missing[name])
            product.save(update_fields=[*filled, "updated_at"])
    return products
