"""What an order can still give back without a return: the unrefunded part of its lines' payments
and of its shipping, across every refund of it (its returns' and those without a return). Read by
the refund against the order (under its locks) and by the complaint's compensation form."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest

from aftersales.models import Order, OrderLine
from returns.ledger import ZERO
from returns.models import Refund, RefundLine, RefundState

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


def order_refundable_remainder(ticket: "Ticket") -> OrderRefundable | None:
    """The case's order's refundable remainder, or None when the case has no order. One query:
    the order with what its lines' payments still hold and its shipping refunded so far (each
    line's refunds summed beside it, voided ones aside), as the locked grant counts them."""
    if ticket.order_id is None:
        return None
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
    order = (
        Order.objects.filter(pk=ticket.order_id, merchant_id=ticket.merchant_id)
        .annotate(
            price_left=Coalesce(Subquery(line_left), ZERO, output_field=money),
            shipping_refunded=Coalesce(Subquery(shipping_refunded), ZERO, output_field=money),
        )
        .first()
    )
    if order is None:
        return None
    return OrderRefundable(
        price=order.price_left,
        shipping=max(order.shipping_amount - order.shipping_refunded, ZERO),
        currency=order.currency,
    )


def shipping_refund_available(ticket: "Ticket") -> Decimal | None:
    """What a shipping-refund compensation may still be for this case (None: no order)."""
    remainder = order_refundable_remainder(ticket)
    return None if remainder is None else remainder.shipping


def partial_refund_available(ticket: "Ticket") -> Decimal | None:
    """What a partial-refund compensation may still be for this case (None: no order)."""
    remainder = order_refundable_remainder(ticket)
    return None if remainder is None else remainder.price


def order_refunds_of_ticket(*, ticket: "Ticket") -> list[Refund]:
    """The refunds granted on this case without a return (a complaint's compensation), with their
    payment calls, oldest first; none (and no query) for a case without an order."""
    if ticket.order_id is None:
        return []
    return list(
        Refund.objects.filter(merchant_id=ticket.merchant_id, ticket_id=ticket.pk, return_request__isnull=True)
        .select_related("execution")
        .order_by("id")
    )


def order_refund_of_ticket(*, ticket: "Ticket", refund_id: int) -> Refund | None:
    return (
        Refund.objects.filter(
            merchant_id=ticket.merchant_id, ticket_id=ticket.pk, return_request__isnull=True, pk=refund_id
        )
        .select_related("execution")
        .first()
    )
