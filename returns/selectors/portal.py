"""Reads of the customer's portal: the reasons and terms an order offers, the refund estimate,
exchange variants, and a return's steps and parcels as the customer sees them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone

from aftersales.compiled import CompiledRead
from aftersales.config_cache import config_cached
from aftersales.models import Customer, Merchant, Order, OrderLine, Product
from returns.ledger import unit_refund
from returns.models import (
    Responsibility,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnRule,
    ReturnShipment,
    ShipmentDirection,
)
from returns.policy import LineTerms, active_rules, line_terms
from returns.variants import ExchangeVariant, price_difference_per_unit
from tickets.models import Ticket, TicketEvent

CENT = Decimal("0.01")


def return_reasons_active(*, merchant: Merchant) -> list[ReturnReason]:
    """The reasons a customer may pick, in the merchant's order, each with its parent (the group).
    Kept per process until the merchant's configuration changes (``aftersales.config_cache``)."""
    return config_cached(
        "return_reasons_active",
        lambda: list(
            ReturnReason.objects.filter(merchant_id=merchant.pk, is_active=True)
            .select_related("parent")
            .order_by("position", "id")
        ),
        merchant_id=merchant.pk,
    )


def return_policy_in_force(*, merchant_id: int) -> tuple[ReturnPolicy | None, list[ReturnRule]]:
    """The merchant's return policy (None without one) and its active rules by position. Kept per
    process until the merchant's configuration changes (``aftersales.config_cache``)."""

    def load() -> tuple[ReturnPolicy | None, list[ReturnRule]]:
        policy = ReturnPolicy.objects.filter(merchant_id=merchant_id).first()
        return policy, active_rules(policy)

    return config_cached("return_policy", load, merchant_id=merchant_id)


def reason_not_yet_chosen(merchant: Merchant) -> ReturnReason:
    """Stands for "no reason picked yet": the customer's own responsibility (a change of mind), so
    the window shown first is the one that holds for any reason. It is never saved."""
    return ReturnReason(merchant=merchant, code="", name="", responsibility=Responsibility.CUSTOMER)


def window_last_day(ends_at: datetime, zone: ZoneInfo) -> date:
    """The last day of a return window, in the merchant's time zone. A window closes at midnight
    after its last day; customers think in days, not in that midnight."""
    return timezone.localtime(ends_at - timedelta(microseconds=1), zone).date()


@dataclass(frozen=True)
class LineReturnTerms:
    """One order line with the terms for returning its units now, for one reason."""

    line: OrderLine
    terms: LineTerms

    @property
    def last_day(self) -> date | None:
        ends_at = self.terms.window_ends_at
        return window_last_day(ends_at, ZoneInfo(self.line.order.merchant.timezone)) if ends_at else None


@dataclass(frozen=True)
class OrderReturnTerms:
    """What it takes to compute every line's terms for any reason, without another query."""

    merchant: Merchant
    order: Order
    customer: Customer
    policy: ReturnPolicy | None
    rules: list[ReturnRule]
    lines: list[OrderLine]
    now: datetime

    def for_reason(self, reason: ReturnReason | None = None) -> list[LineReturnTerms]:
        """Every line's terms for ``reason``; None is a reason not yet chosen."""
        reason = reason or reason_not_yet_chosen(self.merchant)
        return [
            LineReturnTerms(
                line=line,
                terms=line_terms(
                    policy=self.policy, rules=self.rules, line=line, reason=reason, customer=self.customer, now=self.now
                ),
            )
            for line in self.lines
        ]


def _order_lines_query(*, shape: None, merchant_id: int, order_id: int) -> QuerySet[OrderLine]:
    return (
        OrderLine.objects.filter(merchant_id=merchant_id, order_id=order_id)
        .select_related("order__customer", "product")
        .order_by("id")
    )


# Built and compiled once per process (aftersales.compiled): every portal step reads it, and the
# ORM building and compiling its forty-odd columns cost more CPU than PostgreSQL running it. Prepared
# once a database session: PostgreSQL planned it in 0.2-0.4 ms and ran it in 0.05 ms.
_ORDER_LINES = CompiledRead(_order_lines_query, params={"merchant_id": int, "order_id": int}, prepared=True)


def portal_order_with_lines(*, merchant: Merchant, order_id: int) -> tuple[Order, list[OrderLine]] | None:
    """One order of the merchant with its customer, and its lines with their products (by id), in
    one query: the lines bring their order. An order without lines takes a second. The store is
    not joined: the return's pages and rules need its id only."""
    lines = _ORDER_LINES.rows(shape=None, merchant_id=merchant.pk, order_id=order_id)
    if lines:
        order = lines[0].order
        for line in lines:
            line.order = order
    else:
        found = list(Order.objects.filter(merchant=merchant, pk=order_id).select_related("customer")[:1])
        if not found:
            return None
        order = found[0]
    order.merchant = merchant
    return order, lines


def order_return_terms(
    *, merchant: Merchant, order: Order, now: datetime | None = None, lines: list[OrderLine] | None = None
) -> OrderReturnTerms:
    """The lines of an order and the merchant's policy, read once, in one query however many
    lines the order has (the policy and its active rules are kept per process): the lines (with
    their products), unless the caller gives them. The lines point at ``order`` and ``order`` at
    ``merchant``, the rows the caller already holds."""
    order.merchant = merchant
    if lines is None:
        lines = list(OrderLine.objects.filter(merchant=merchant, order=order).select_related("product").order_by("id"))
    for line in lines:
        line.order = order
    policy, rules = return_policy_in_force(merchant_id=merchant.pk)
    return OrderReturnTerms(
        merchant=merchant,
        order=order,
        customer=order.customer,
        policy=policy,
        rules=rules,
        lines=lines,
        now=now or timezone.now(),
    )


@dataclass(frozen=True)
class RefundEstimate:
    """What the customer can expect for some units of one line, before anything is created."""

    line: OrderLine
    quantity: int
    terms: LineTerms
    last_day: date | None
    unit_refund_amount: Decimal

    @property
    def paid_amount(self) -> Decimal:
        """What was paid for these units (the line's discount spread over its units)."""
        return (self.line.paid_amount * self.quantity / self.line.quantity).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def refund_amount(self) -> Decimal:
        return self.unit_refund_amount * self.quantity

    @property
    def restocking_fee_amount(self) -> Decimal:
        return max(self.paid_amount - self.refund_amount, Decimal("0"))


def refund_estimates(*, chosen: list[tuple[LineReturnTerms, int]]) -> list[RefundEstimate]:
    """Per chosen line: the refund per unit exactly as ``return_request_create`` will record it."""
    return [
        RefundEstimate(
            line=offer.line,
            quantity=quantity,
            terms=offer.terms,
            last_day=offer.last_day,
            unit_refund_amount=unit_refund(offer.line, offer.terms.restocking_fee_percent),
        )
        for offer, quantity in chosen
    ]


def exchange_variants_for(*, merchant: Merchant, lines: Sequence[OrderLine]) -> dict[int, list[ExchangeVariant]]:
    """Per order line: the other variants of its product a customer may exchange it for — the
    merchant's products on sale in the same variant group, with a price — in their natural order,
    each with the price difference per unit against what was paid for one unit of the line.

    One query for all the lines (none when no line's product has a variant group). The lines come
    with their product and their order; a line of an order paid in another currency than the
    merchant's prices is offered nothing, as the difference could not be told."""
    offered: dict[int, list[ExchangeVariant]] = {line.pk: [] for line in lines}
    comparable = [line for line in lines if line.product.variant_group and line.order.currency == merchant.currency]
    if not comparable:
        return offered
    products = list(
        Product.objects.filter(
            merchant=merchant,
            variant_group__in={line.product.variant_group for line in comparable},
            is_active=True,
            price__isnull=False,
        ).order_by("variant_group", "variant_position", "sku", "id")
    )
    for line in comparable:
        offered[line.pk] = [
            ExchangeVariant(
                line=line, product=product, difference_per_unit=price_difference_per_unit(line, product.price)
            )
            for product in products
            if product.price is not None
            and product.variant_group == line.product.variant_group
            and product.pk != line.product_id
        ]
    return offered


def return_request_of_ticket(*, ticket: Ticket) -> ReturnRequest | None:
    """The return behind a case, with its reason and its lines' order lines (and the variant an
    exchange asked for): two queries."""
    lines = ReturnLine.objects.select_related("order_line", "exchange_product").order_by("id")
    return (
        ReturnRequest.objects.filter(merchant_id=ticket.merchant_id, ticket=ticket)
        .select_related("reason")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .first()
    )


# The settlement's public steps are named for what they settle, not for the return.
SETTLEMENT_VERBS = (
    "refund_paid",
    "store_credit_granted",
    "replacement_shipped",
    "exchange_difference_paid",
    "exchange_difference_surplus",
)


def return_steps_public(*, return_request: ReturnRequest) -> list[TicketEvent]:
    """The return's own steps the customer may see (submitted, approved, sent, refunded, …),
    oldest first."""
    return list(
        TicketEvent.objects.filter(
            Q(verb__startswith="return_") | Q(verb__in=SETTLEMENT_VERBS),
            merchant_id=return_request.merchant_id,
            ticket_id=return_request.ticket_id,
            is_public=True,
        ).order_by("created_at", "id")
    )


@dataclass(frozen=True)
class ReturnParcels:
    inbound: ReturnShipment | None  # the customer's parcel to the merchant, once they chose how it goes
    rejected_units: ReturnShipment | None  # the units inspection rejected, back to the customer


def return_parcels(*, return_request: ReturnRequest) -> ReturnParcels:
    """The return's parcels each way, in one query."""
    by_direction = {
        shipment.direction: shipment
        for shipment in ReturnShipment.objects.filter(
            merchant_id=return_request.merchant_id, return_request=return_request
        )
    }
    return ReturnParcels(
        inbound=by_direction.get(ShipmentDirection.TO_MERCHANT),
        rejected_units=by_direction.get(ShipmentDirection.TO_CUSTOMER),
    )
