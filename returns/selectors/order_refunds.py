"""What an order can still give back without a return: the unrefunded part of its lines' payments
and of its shipping, across every refund of it (its returns' and those without a return). Read by
the refund against the order (under its locks) and by the complaint's compensation form."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest

from aftersales.models import Order, OrderLine
from returns.ledger import ZERO
from returns.models import Refund, RefundExecution, RefundLine, RefundState
from tickets.selectors.rows import instances, rows_array

if TYPE_CHECKING:
    from tickets.models import Ticket


@dataclass(frozen=True)
class OrderRefundable:
    price: Decimal  # of the lines' payments
    shipping: Decimal
    currency: str


def refunded_per_line(order_lines: Iterable[OrderLine]) -> dict[int, Decimal]:
    """Money granted back per order line (voided refunds aside), by every refund of it."""
    return dict(
        RefundLine.objects.filter(order_line_id__in=[line.pk for line in order_lines])
        .exclude(refund__state=RefundState.VOIDED)
        .values("order_line_id")
        .annotate(total=Sum("amount"))
        .values_list("order_line_id", "total")
    )


def order_shipping_refundable(order: Order) -> Decimal:
    refunded = (
        Refund.objects.filter(
            Q(return_request__order_id=order.pk) | Q(order_id=order.pk), merchant_id=order.merchant_id
        )
        .exclude(state=RefundState.VOIDED)
        .aggregate(total=Sum("shipping_amount"))["total"]
        or ZERO
    )
    return max(order.shipping_amount - refunded, ZERO)


def _order_with_remainder(ticket: "Ticket", order_id: int) -> QuerySet[Order]:
    """The case's order with what its lines' payments still hold and its shipping refunded so far
    (each line's refunds summed beside it, voided ones aside), as the locked grant counts them."""
    money = DecimalField(max_digits=14, decimal_places=2)
    line_refunded = (
        RefundLine.objects.filter(order_line_id=OuterRef("pk"))
        .exclude(refund__state=RefundState.VOIDED)
        .order_by()
        .values("order_line_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    line_left = (
        OrderLine.objects.filter(order_id=OuterRef("pk"))
        .order_by()
        .annotate(
            left=Greatest(
                F("unit_price") * F("quantity")
                - F("discount_amount")
                - Coalesce(Subquery(line_refunded), ZERO, output_field=money),
                ZERO,
                output_field=money,
            )
        )
        .values("order_id")
        .annotate(total=Sum("left"))
        .values("total")
    )
    shipping_refunded = (
        Refund.objects.filter(Q(return_request__order_id=OuterRef("pk")) | Q(order_id=OuterRef("pk")))
        .exclude(state=RefundState.VOIDED)
        .order_by()
        .values("merchant_id")
        .annotate(total=Sum("shipping_amount"))
        .values("total")
    )
    return Order.objects.filter(pk=order_id, merchant_id=ticket.merchant_id).annotate(
        price_left=Coalesce(Subquery(line_left), ZERO, output_field=money),
        shipping_refunded=Coalesce(Subquery(shipping_refunded), ZERO, output_field=money),
    )


def _remainder(order: Any) -> OrderRefundable:
    return OrderRefundable(
        price=order.price_left,
        shipping=max(order.shipping_amount - order.shipping_refunded, ZERO),
        currency=order.currency,
    )


def order_refundable_remainder(ticket: "Ticket") -> OrderRefundable | None:
    """The case's order's refundable remainder, or None when the case has no order. One query."""
    if ticket.order_id is None:
        return None
    order = _order_with_remainder(ticket, ticket.order_id).first()
    return None if order is None else _remainder(order)


@dataclass(frozen=True)
class TicketOrderMoney:
    remainder: OrderRefundable | None
    refunds: list[Refund]  # granted on the case without a return, with their payment calls


# The refunds' columns and their payment calls' that the refunds box shows.
_REFUND_COLUMNS: tuple[str, ...] = (
    *("id", "merchant_id", "order_id", "ticket_id", "method", "amount", "shipping_amount", "currency"),
    *("state", "grant_key", "payment_key", "created_at"),
)
_EXECUTION_COLUMNS = ("id", "merchant_id", "refund_id", "adapter", "idempotency_key", "state", "error", "attempts")
_MEMO = "_ticket_order_money"


def ticket_order_money(ticket: "Ticket") -> TicketOrderMoney:
    """What the case's page shows of its order's money (the remainder each refund kind of
    compensation may still take, and the refunds granted on the case without a return) in one
    query, read once per ticket read: the compensation form asks for the remainder once per kind
    and the refunds box for the refunds. None and [] (no query) for a case without an order."""
    known: TicketOrderMoney | None = ticket.__dict__.get(_MEMO)
    if known is not None:
        return known
    money = TicketOrderMoney(remainder=None, refunds=[])
    if ticket.order_id is not None:
        refunds = Refund.objects.filter(
            merchant_id=OuterRef("merchant_id"), ticket_id=ticket.pk, return_request__isnull=True
        ).order_by("id")
        order: Any = (
            _order_with_remainder(ticket, ticket.order_id)
            .annotate(
                ticket_refunds=rows_array(
                    refunds, fields=_REFUND_COLUMNS, related={"execution": (RefundExecution, _EXECUTION_COLUMNS)}
                )
            )
            .first()
        )
        if order is not None:
            read = instances(
                Refund,
                order.ticket_refunds,
                fields=_REFUND_COLUMNS,
                related={"execution": (RefundExecution, _EXECUTION_COLUMNS)},
            )
            for refund in read:
                if "execution" not in refund._state.fields_cache:
                    Refund.execution.related.set_cached_value(refund, None)  # none yet: no query to find out
            money = TicketOrderMoney(remainder=_remainder(order), refunds=read)
    ticket.__dict__[_MEMO] = money
    return money


def shipping_refund_available(ticket: "Ticket") -> Decimal | None:
    """What a shipping-refund compensation may still be for this case (None: no order)."""
    remainder = ticket_order_money(ticket).remainder
    return None if remainder is None else remainder.shipping


def partial_refund_available(ticket: "Ticket") -> Decimal | None:
    """What a partial-refund compensation may still be for this case (None: no order)."""
    remainder = ticket_order_money(ticket).remainder
    return None if remainder is None else remainder.price


def order_refunds_of_ticket(*, ticket: "Ticket") -> list[Refund]:
    """The refunds granted on this case without a return (a complaint's compensation), with their
    payment calls, oldest first; none (and no query) for a case without an order."""
    return ticket_order_money(ticket).refunds


def order_refund_of_ticket(*, ticket: "Ticket", refund_id: int) -> Refund | None:
    return (
        Refund.objects.filter(
            merchant_id=ticket.merchant_id, ticket_id=ticket.pk, return_request__isnull=True, pk=refund_id
        )
        .select_related("execution")
        .first()
    )
