"""The querysets that lock returns' rows, so every service takes its locks the same way.

The lock order, the same in every service, so two of them never wait on each other: the return
request (with its ticket when the request services ask for it), then its order (only when
shipping is refunded), then the order lines in id order, then a claim, a refund, an execution or
a store-credit account. Every lock here is taken on the named table only (``of=("self",)``);
rows read beside it through ``select_related`` are not locked.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from aftersales.compiled import CompiledRead
from aftersales.models import Customer, Order, OrderLine
from returns.models import (
    CarrierClaim,
    Refund,
    RefundExecution,
    ReturnLine,
    ReturnRequest,
    ReturnShipment,
    ShipmentDirection,
    StoreCreditAccount,
)


def return_request_lock(return_request_id: int, *, with_ticket: bool = False) -> ReturnRequest:
    """The return request, locked, with its ticket, order, reason and customer read beside it.

    ``with_ticket`` locks the case's ticket row in the same statement: the request's own moves
    (submit, decide, ship, receive, revise, expire) change the ticket's status with it, so they
    hold both from the start; the settlement's services lock the return alone."""
    return (
        ReturnRequest.objects.select_for_update(of=("self", "ticket") if with_ticket else ("self",))
        .select_related("ticket", "order", "reason", "customer")
        .get(pk=return_request_id)
    )


def order_lock(order_id: int) -> Order:
    """The order, locked: its shipping is refunded once across every return of it."""
    return Order.objects.select_for_update(of=("self",)).get(pk=order_id)


def _order_lines_of_order_query(*, shape: bool, merchant_id: int, order_id: int) -> QuerySet[OrderLine]:
    lines = OrderLine.objects.filter(merchant_id=merchant_id, order_id=order_id)
    if shape:  # with their products
        lines = lines.select_related("product")
    return lines.select_for_update(of=("self",)).order_by("pk")


# Built and compiled once per process (aftersales.compiled): every return submitted runs it.
_ORDER_LINES_OF_ORDER = CompiledRead(_order_lines_of_order_query, params={"merchant_id": int, "order_id": int})


def order_lines_lock(
    order_line_ids: Iterable[int], *, order: Order | None = None, with_product: bool = False
) -> list[OrderLine]:
    """The order lines, locked in id order (their counters and paid caps span every return of a
    line); ``order`` keeps the lines to that order's, ``with_product`` reads their products too.

    With ``order``, every line of the order is locked (in id order, like any lock of lines, so
    no deadlock), and those asked for are returned: one statement compiled once per process,
    where a list of ids would be compiled at each call. An order's lines are one customer's, so
    the wider lock costs no one a wait in practice."""
    ids = set(order_line_ids)
    if order is not None:
        rows = _ORDER_LINES_OF_ORDER.rows(shape=with_product, merchant_id=order.merchant_id, order_id=order.pk)
        return [line for line in rows if line.pk in ids]
    lines = OrderLine.objects.filter(pk__in=list(ids))
    if with_product:
        lines = lines.select_related("product")
    return list(lines.select_for_update(of=("self",)).order_by("pk"))


def return_lines_lock(return_request: ReturnRequest) -> list[ReturnLine]:
    """The request's lines with their order lines, both locked, the order lines in id order."""
    lines = list(
        return_request.lines.select_for_update(of=("self",)).select_related("order_line").order_by("order_line_id")
    )
    order_lines_lock(line.order_line_id for line in lines)
    return lines


def inbound_shipment_lock(return_request: ReturnRequest) -> ReturnShipment | None:
    """The parcel on its way back to the merchant, locked, if there is one yet."""
    return (
        ReturnShipment.objects.select_for_update()
        .filter(return_request=return_request, direction=ShipmentDirection.TO_MERCHANT)
        .first()
    )


def rejected_units_parcel_lock(return_request: ReturnRequest) -> ReturnShipment | None:
    """The parcel taking rejected units back to the customer, locked, if there is one."""
    return (
        ReturnShipment.objects.select_for_update()
        .filter(return_request=return_request, direction=ShipmentDirection.TO_CUSTOMER)
        .first()
    )


def return_shipment_lock(shipment_id: int) -> ReturnShipment:
    return ReturnShipment.objects.select_for_update(of=("self",)).get(pk=shipment_id)


def carrier_claim_lock(claim_id: int) -> CarrierClaim:
    """A carrier claim, locked (after its return)."""
    return CarrierClaim.objects.select_for_update(of=("self",)).get(pk=claim_id)


def refund_lock(refund_id: int) -> Refund:
    """A refund, locked (after its return)."""
    return Refund.objects.select_for_update(of=("self",)).get(pk=refund_id)


def refund_execution_of_lock(refund: Refund) -> RefundExecution | None:
    """The refund's one payment call, locked, if it has been made (after the refund)."""
    return RefundExecution.objects.select_for_update(of=("self",)).filter(refund=refund).first()


def refund_execution_lock(execution_id: int) -> RefundExecution:
    """A payment call and its refund, both locked (after the return), the refund read beside it."""
    return (
        RefundExecution.objects.select_for_update(of=("self", "refund")).select_related("refund").get(pk=execution_id)
    )


def store_credit_account_lock(customer: Customer) -> StoreCreditAccount | None:
    """The customer's store-credit account, locked, if they have one (last in the lock order)."""
    return StoreCreditAccount.objects.select_for_update(of=("self",)).filter(customer=customer).first()
