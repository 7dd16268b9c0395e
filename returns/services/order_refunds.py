"""Refunds against an order without a return: a complaint's compensation paid as a refund of the
order's shipping or as part of its price, through the same refund ledger as a return's refund.

The decision is a ``Refund`` with ``order`` and ``ticket`` set (no return request), its money
spread over the order's lines as price adjustments (0 units: the customer keeps the goods, so the
counters of what was returned or refunded per unit do not move), under the same caps as every
refund: a line never gets back more than was paid for it, the order's shipping is refunded once
across its returns and these refunds. The payment goes through the merchant's refund gateway
(``refund_execute``), after commit, under an idempotency key fixed at the grant.

Lock order, as a return's grant: the order, then its lines in id order.
"""

from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from aftersales.enqueue import enqueue_on_commit
from aftersales.exceptions import Conflict, InvalidInput
from aftersales.models import OrderLine, User
from returns.ledger import ZERO
from returns.locks import order_lines_lock, order_lock
from returns.models import Refund, RefundLine, RefundMethod, RefundState
from returns.roles import REFUND_ROLES, require_staff_or_system
from returns.selectors.order_refunds import order_shipping_refundable, refunded_per_line
from returns.timeline import ReturnVerb
from tickets.timeline import event_append

if TYPE_CHECKING:
    from tickets.models import Compensation, Ticket

SHIPPING = "shipping"
PRICE = "price"


def _spread(order_lines: list[OrderLine], refunded: dict[int, Decimal], amount: Decimal) -> list[tuple[int, Decimal]]:
    """Spread ``amount`` over the lines' unrefunded money, in line order, each line at most what is
    left of what was paid for it."""
    allocations: list[tuple[int, Decimal]] = []
    left = amount
    for line in order_lines:
        if left <= 0:
            break
        room = line.paid_amount - refunded.get(line.pk, ZERO)
        if room <= 0:
            continue
        take = min(room, left)
        allocations.append((line.pk, take))
        left -= take
    return allocations


def order_refund_grant(
    *,
    ticket: "Ticket",
    actor: User | None,
    part: str,
    amount: Decimal,
    currency: str,
    grant_key: str,
    reason: str,
) -> tuple[Refund, bool]:
    """Decide a refund to the original payment against the ticket's order, in the caller's
    transaction; return (refund, created). ``part`` is ``SHIPPING`` (from the order's shipping not
    yet refunded) or ``PRICE`` (from what its lines' payments still hold). ``grant_key`` makes a
    replay return the first refund, and is the key its payment is made under. Refused, with
    nothing written, beyond the order's refundable remainder of that part."""
    if part not in (SHIPPING, PRICE):
        raise InvalidInput(_("Choose what is refunded."), code="refund_part_invalid")
    if ticket.order_id is None:
        raise InvalidInput(_("This case has no order to refund against."), code="no_order", extra={"field": "kind"})
    existing = Refund.objects.filter(merchant_id=ticket.merchant_id, grant_key=grant_key).first()
    if existing is not None:
        if existing.ticket_id != ticket.pk or existing.return_request_id is not None:
            raise Conflict(_("That key was used for another refund."), code="grant_key_reused")
        return existing, False
    require_staff_or_system(actor, ticket.merchant_id, REFUND_ROLES)
    order = order_lock(ticket.order_id)
    if order.merchant_id != ticket.merchant_id:  # an order is always its case's merchant's
        raise InvalidInput(_("This case has no order to refund against."), code="no_order")
    if currency != order.currency:
        raise InvalidInput(
            _("This order was paid in %(currency)s.") % {"currency": order.currency}, code="currency_mismatch"
        )
    order_lines = order_lines_lock(OrderLine.objects.filter(order=order).values_list("pk", flat=True))
    refunded = refunded_per_line(order_lines)
    if part == SHIPPING:
        left = order_shipping_refundable(order)
        allocations: list[tuple[int, Decimal]] = []
        shipping = amount
    else:
        left = sum((max(line.paid_amount - refunded.get(line.pk, ZERO), ZERO) for line in order_lines), ZERO)
        allocations = _spread(order_lines, refunded, amount)
        shipping = ZERO
    if amount > left:
        raise Conflict(
            _("At most %(amount)s %(currency)s of this order can still be refunded this way.")
            % {"amount": max(left, ZERO), "currency": order.currency},
            code="amount_exceeds_refundable",
            extra={"refundable": str(max(left, ZERO))},
        )
    refund = Refund.objects.create(
        merchant_id=ticket.merchant_id,
        order=order,
        ticket=ticket,
        method=RefundMethod.ORIGINAL_PAYMENT,
        amount=amount,
        shipping_amount=shipping,
        currency=order.currency,
        reason=reason,
        granted_by=actor,
        grant_key=grant_key,
        payment_key=grant_key,
    )
    RefundLine.objects.bulk_create(
        RefundLine(refund=refund, return_line=None, order_line_id=line_id, quantity=0, amount=line_amount)
        for line_id, line_amount in allocations
    )
    event_append(
        ticket,
        ReturnVerb.REFUND_GRANTED,
        actor_user=actor,
        data={
            "refund": refund.pk,
            "method": RefundMethod.ORIGINAL_PAYMENT,
            "amount": str(amount),
            "shipping": str(shipping),
            "currency": refund.currency,
            "lines": {str(line_id): {"units": 0, "amount": str(line_amount)} for line_id, line_amount in allocations},
            "reason": reason,
        },
        public=True,
    )
    from returns.tasks import order_refund_pay

    enqueue_on_commit(order_refund_pay, refund.pk)
    return refund, True


def order_refund_pay_run(*, refund_id: int) -> None:
    """Pay a refund granted without a return (a task, after the granting commit), under the key
    fixed at its grant; a voided or paid refund is left as it is."""
    from returns.services.refunds import refund_execute

    refund = Refund.objects.get(pk=refund_id)
    if refund.state in (RefundState.VOIDED, RefundState.PAID):
        return
    refund_execute(refund=refund)


def _compensation_refund(compensation: "Compensation", actor: User | None, reference: str, part: str) -> str:
    ticket = compensation.complaint.ticket
    refund, created = order_refund_grant(
        ticket=ticket,
        actor=actor,
        part=part,
        amount=compensation.amount,
        currency=compensation.currency,
        grant_key=reference,
        reason=_("Compensation for complaint %(number)s") % {"number": ticket.number},
    )
    if not created and refund.state == RefundState.FAILED:
        # The offer is paid again after a failure: the same refund, paid again under the key fixed
        # at its grant, so the gateway pays it at most once.
        from returns.tasks import order_refund_pay

        enqueue_on_commit(order_refund_pay, refund.pk)
    return refund.grant_key


def shipping_refund_compensation_pay(*, compensation: "Compensation", actor: User | None, reference: str) -> str:
    """The shipping-refund payer of complaint compensation (registered with the case hub's
    ``tickets.compensation_payers``): a refund of the order's shipping, in the caller's
    transaction, keyed by ``reference`` so a replay grants nothing twice."""
    return _compensation_refund(compensation, actor, reference, SHIPPING)


def partial_refund_compensation_pay(*, compensation: "Compensation", actor: User | None, reference: str) -> str:
    """The partial-refund payer of complaint compensation: part of the order's price refunded, in
    the caller's transaction, keyed by ``reference``."""
    return _compensation_refund(compensation, actor, reference, PRICE)
