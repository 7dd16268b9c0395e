"""The settlement's core, shared by the families that settle a return (refunds, store credit,
exchanges, settlement, lost parcels): deciding a refund under every cap, refunding the price
difference paid for replacements that are not sent, and completing a return once all is settled.
Everything here runs inside the caller's transaction, which holds the return's lock.

Lock order, the same in every function here, so two of them never wait on each other:
the return request, then its order (only when shipping is refunded), then the order lines in id
order, then a store-credit account.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.enqueue import enqueue_on_commit
from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership, Order, OrderLine, User
from returns.ledger import (
    ZERO,
    exchange_surplus_grant_key,
    exchange_surplus_lines,
    money,
    settleable_units,
)
from returns.locks import (
    order_lines_lock,
    order_lock,
    return_request_lock,
)
from returns.models import (
    QUICK_REFUND_STATUSES,
    Refund,
    RefundExecution,
    RefundLine,
    RefundMethod,
    RefundState,
    ReplacementShipment,
    ReplacementState,
    Resolution,
    Responsibility,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from returns.roles import (
    REFUND_ROLES,
    require_staff_or_system,
)
from returns.services._transitions import rejected_units_to_send_back, return_move, return_settling_enter, settled_units
from returns.timeline import ReturnVerb
from tickets.models import TicketStatus
from tickets.notify import notify_customer
from tickets.services import ticket_follow_workflow
from tickets.timeline import event_append


def refund_agent_limit_check(membership: Membership | None, return_request: ReturnRequest, amount: Decimal) -> None:
    """An agent may bring a return's refunds to ``REFUND_AGENT_LIMIT`` in total (so that splitting
    one refund in two does not get round it); supervisors and merchant admins have no limit."""
    if membership is None or membership.is_supervisor:
        return
    limit = Decimal(settings.REFUND_AGENT_LIMIT)
    granted = (
        Refund.objects.filter(return_request=return_request)
        .exclude(state=RefundState.VOIDED)
        .aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    if granted + amount > limit:
        raise PermissionRefused(
            _("Refunds above %(limit)s on one return need a supervisor.") % {"limit": limit},
            code="refund_limit_exceeded",
            extra={"limit": str(limit), "already_granted": str(granted), "amount": str(amount)},
        )


@dataclass(frozen=True)
class _Allocation:
    return_line: ReturnLine
    order_line_id: int
    quantity: int
    amount: Decimal


def _requested_allocations(
    return_request: ReturnRequest,
    lines: Sequence[tuple[OrderLine, int, Decimal]] | None,
    settled: dict[int, int],
) -> list[_Allocation]:
    return_lines = {line.order_line_id: line for line in return_request.lines.all()}
    if lines is None:
        # As requested: every unit not yet settled, at the refund per unit the terms gave (the
        # restocking fee already taken off when the return was submitted).
        allocations = []
        for line in return_lines.values():
            units = settleable_units(line) - settled.get(line.pk, 0)
            if units > 0 and line.unit_refund_amount > 0:
                allocations.append(_Allocation(line, line.order_line_id, units, line.unit_refund_amount * units))
        return allocations
    allocations, seen = [], set()
    for order_line, quantity, amount in lines:
        return_line = return_lines.get(order_line.pk)
        if return_line is None:
            raise InvalidInput(
                _("That item is not in this return."), code="line_not_in_return", extra={"line": order_line.pk}
            )
        if order_line.pk in seen:
            raise InvalidInput(_("Each item once, please."), code="duplicate_line", extra={"line": order_line.pk})
        seen.add(order_line.pk)
        if int(quantity) != quantity or quantity < 0:
            raise InvalidInput(_("Enter a number of units."), code="invalid_quantity", extra={"line": order_line.pk})
        amount = money(amount, "amount")
        if amount <= 0:
            raise InvalidInput(
                _("A refund must be more than zero."), code="amount_not_positive", extra={"line": order_line.pk}
            )
        allocations.append(_Allocation(return_line, order_line.pk, int(quantity), amount))
    return allocations


def shipping_refundable(order: Order) -> Decimal:
    """The order's shipping not yet refunded, by its returns or without one (``Refund.order``)."""
    refunded = (
        Refund.objects.filter(Q(return_request__order=order) | Q(order=order))
        .exclude(state=RefundState.VOIDED)
        .aggregate(total=Sum("shipping_amount"))["total"]
        or ZERO
    )
    return order.shipping_amount - refunded


def refund_decide(
    *,
    return_request: ReturnRequest,
    actor: User | None,
    method: str,
    lines: Sequence[tuple[OrderLine, int, Decimal]] | None,
    reason: str,
    shipping_amount: Decimal | None,
    grant_key: str,
    quick: bool,
    keep_status: bool = False,
    paid_beside_order: Mapping[int, Decimal] | None = None,
    payment_key: str = "",
) -> tuple[ReturnRequest, Refund, bool]:
    """Write a refund decision inside the caller's transaction; return (locked return, refund,
    created). Everything is checked before anything is written.

    ``keep_status``: the return stays where it is (the price difference given back on an exchange
    that expired). ``paid_beside_order``: money the customer paid for an order line outside the
    order (a dearer exchange's difference, per order line id), which this grant may refund too.
    ``payment_key``: the idempotency key a payment to the original method is made under (a new one
    when empty), stored on the refund so that whoever pays it later pays under that key."""
    return_request = return_request_lock(return_request.pk)
    membership = require_staff_or_system(actor, return_request.merchant_id, REFUND_ROLES)
    grant_key = (grant_key or "").strip()
    if grant_key:
        existing = Refund.objects.filter(merchant_id=return_request.merchant_id, grant_key=grant_key).first()
        if existing is not None:
            if existing.return_request_id != return_request.pk or existing.method != method:
                raise Conflict(_("That key was used for another refund."), code="grant_key_reused")
            return return_request, existing, False
    if quick:
        if return_request.status not in QUICK_REFUND_STATUSES:
            raise TransitionNotAllowed(
                _("A quick refund is paid while the parcel is on its way."), code="not_in_transit"
            )
    elif not keep_status:
        return_settling_enter(return_request, actor)
    settled = settled_units(return_request)
    allocations = _requested_allocations(return_request, lines, settled)

    order = return_request.order
    if order.shipping_amount > 0:
        order = order_lock(order.pk)
    # The paid cap spans every return of a line, so it is checked under the line's lock.
    order_lines = {line.pk: line for line in order_lines_lock(allocation.order_line_id for allocation in allocations)}
    refunded_amounts = dict(
        RefundLine.objects.filter(order_line_id__in=order_lines)
        .exclude(refund__state=RefundState.VOIDED)
        .values("order_line_id")
        .annotate(total=Sum("amount"))
        .values_list("order_line_id", "total")
    )
    for allocation in allocations:
        line = order_lines[allocation.order_line_id]
        units_left = settleable_units(allocation.return_line) - settled.get(allocation.return_line.pk, 0)
        if allocation.quantity > units_left:
            raise Conflict(
                _("%(item)s: only %(count)s more units of this return can be settled.")
                % {"item": line.name, "count": max(units_left, 0)},
                code="units_exceed_return",
                extra={"line": line.pk, "units_left": max(units_left, 0)},
            )
        paid = line.paid_amount + (paid_beside_order or {}).get(line.pk, ZERO)
        refundable = paid - refunded_amounts.get(line.pk, ZERO)
        if allocation.amount > refundable:
            raise Conflict(
                _("%(item)s: at most %(amount)s more can be refunded; %(paid)s was paid for it.")
                % {"item": line.name, "amount": max(refundable, ZERO), "paid": paid},
                code="amount_exceeds_paid",
                extra={"line": line.pk, "refundable": str(max(refundable, ZERO))},
            )

    shipping_left = shipping_refundable(order) if order.shipping_amount > 0 else ZERO
    if shipping_amount is None:
        # Per policy: the merchant's fault (a defect, a wrong item) refunds the shipping too.
        merchants_fault = return_request.reason.responsibility == Responsibility.MERCHANT
        shipping = shipping_left if merchants_fault else ZERO
    else:
        shipping = money(shipping_amount, "shipping_amount")
        if shipping < 0 or shipping > shipping_left:
            raise Conflict(
                _("At most %(amount)s of shipping can still be refunded.") % {"amount": shipping_left},
                code="shipping_exceeds_paid",
                extra={"refundable": str(shipping_left)},
            )
    total = sum((allocation.amount for allocation in allocations), ZERO) + shipping
    if total <= 0:
        raise Conflict(_("Nothing is left to refund on this return."), code="nothing_to_refund")
    refund_agent_limit_check(membership, return_request, total)
    if method == RefundMethod.ORIGINAL_PAYMENT:
        payment_key = (payment_key or "").strip() or uuid.uuid4().hex
        if (
            Refund.objects.filter(merchant_id=return_request.merchant_id, payment_key=payment_key).exists()
            or RefundExecution.objects.filter(
                merchant_id=return_request.merchant_id, idempotency_key=payment_key
            ).exists()
        ):
            raise Conflict(_("That idempotency key belongs to another refund."), code="idempotency_key_reused")
    else:
        payment_key = ""

    refund = Refund.objects.create(
        merchant_id=return_request.merchant_id,
        return_request=return_request,
        method=method,
        amount=total,
        shipping_amount=shipping,
        currency=order.currency,
        reason=(reason or "").strip(),
        granted_by=actor,
        grant_key=grant_key,
        payment_key=payment_key,
    )
    RefundLine.objects.bulk_create(
        RefundLine(
            refund=refund,
            return_line=allocation.return_line,
            order_line_id=allocation.order_line_id,
            quantity=allocation.quantity,
            amount=allocation.amount,
        )
        for allocation in allocations
    )
    for allocation in allocations:
        if allocation.quantity:
            OrderLine.objects.filter(pk=allocation.order_line_id).update(
                quantity_refunded=F("quantity_refunded") + allocation.quantity
            )
    event_append(
        return_request.ticket,
        ReturnVerb.REFUND_GRANTED,
        actor_user=actor,
        data={
            "refund": refund.pk,
            "method": method,
            "amount": str(total),
            "shipping": str(shipping),
            "currency": refund.currency,
            "lines": {str(a.order_line_id): {"units": a.quantity, "amount": str(a.amount)} for a in allocations},
            **({"reason": refund.reason} if refund.reason else {}),
        },
        public=True,
    )
    return return_request, refund, True


def exchange_surplus_grant(return_request: ReturnRequest) -> Refund | None:
    """In the (locked) return's transaction: refund the price difference the customer paid for
    dearer variants whose replacements will not be sent — units rejected at inspection, never
    received, refunded instead of replaced, or a return that expired after the payment. Called
    once that is final: when every unit of the exchange is replaced or refunded and every other
    refund paid (``return_complete_if_settled``), or when the return expires. Returns the refund when it
    is granted now; None when nothing is owed or it was granted before (voided too: a supervisor's
    recorded decision stands, nothing grants it again).

    Granted by the system, as the cheaper variant's refund is: the shop agreed to the exchange's
    terms at submission. The difference is not part of what the order line was paid, so it is
    allowed on top of that cap; a line whose refunds already reach everything paid for it (staff
    handed the difference back by hand) gets what is left, never more. Paid after commit."""
    if return_request.resolution != Resolution.EXCHANGE or return_request.exchange_difference_paid_at is None:
        return None
    grant_key = exchange_surplus_grant_key(return_request.pk)
    if Refund.objects.filter(merchant_id=return_request.merchant_id, grant_key=grant_key).exists():
        return None
    lines = list(return_request.lines.select_related("order_line").order_by("order_line_id"))
    replaced = dict(
        ReplacementShipment.objects.filter(return_request=return_request)
        .exclude(state=ReplacementState.LOST)
        .values("return_line_id")
        .annotate(units=Sum("quantity"))
        .values_list("return_line_id", "units")
    )
    owed = exchange_surplus_lines(return_request, lines, replaced)
    if not owed:
        return None
    # The lock order of a grant: the order (for its shipping cap, though none is refunded here),
    # then its lines by id; ``refund_decide`` takes the same locks again.
    if return_request.order.shipping_amount > 0:
        order_lock(return_request.order_id)
    order_line_ids = [item.return_line.order_line_id for item in owed]
    order_lines = {line.pk: line for line in order_lines_lock(order_line_ids)}
    differences_paid = dict(
        ReturnLine.objects.filter(
            order_line_id__in=order_line_ids,
            return_request__resolution=Resolution.EXCHANGE,
            return_request__exchange_difference_paid_at__isnull=False,
            price_difference_per_unit__gt=0,
        )
        .values("order_line_id")
        .annotate(total=Sum(F("price_difference_per_unit") * F("quantity"), output_field=DecimalField()))
        .values_list("order_line_id", "total")
    )
    refunded = dict(
        RefundLine.objects.filter(order_line_id__in=order_line_ids)
        .exclude(refund__state=RefundState.VOIDED)
        .values("order_line_id")
        .annotate(total=Sum("amount"))
        .values_list("order_line_id", "total")
    )
    allocations = []
    for item in owed:
        line_id = item.return_line.order_line_id
        left = order_lines[line_id].paid_amount + differences_paid.get(line_id, ZERO) - refunded.get(line_id, ZERO)
        amount = min(item.amount, left)
        if amount > 0:
            allocations.append((item, amount))
    if not allocations:
        return None
    ticket = return_request.ticket
    _locked, refund, _created = refund_decide(
        return_request=return_request,
        actor=None,
        method=RefundMethod.ORIGINAL_PAYMENT,
        # Units 0: a price adjustment. The units themselves are settled otherwise (sent back to
        # the customer, refunded, or never returned), so the counters of the line do not move.
        lines=[(order_lines[item.return_line.order_line_id], 0, amount) for item, amount in allocations],
        reason=_("Price difference paid for replacements of the exchange %(number)s that are not sent")
        % {"number": ticket.number},
        shipping_amount=ZERO,
        grant_key=grant_key,
        quick=False,
        keep_status=True,
        paid_beside_order=differences_paid,
        # Its task pays under the grant key (exchange_surplus_run): so does the stalled-payment sweep.
        payment_key=grant_key,
    )
    event_append(
        ticket,
        ReturnVerb.EXCHANGE_DIFFERENCE_SURPLUS,
        data={
            "refund": refund.pk,
            "amount": str(refund.amount),
            "currency": refund.currency,
            "lines": {
                str(item.return_line.order_line_id): {
                    "units": item.units,
                    "difference_per_unit": str(item.return_line.price_difference_per_unit),
                    "amount": str(amount),
                }
                for item, amount in allocations
            },
        },
        public=True,
    )
    from returns.tasks import return_exchange_surplus_pay

    pk = return_request.pk
    enqueue_on_commit(return_exchange_surplus_pay, pk)
    return refund


def return_complete_if_settled(return_request: ReturnRequest, actor: User | None) -> bool:
    """Complete the (locked) return when every refund is paid, every replacement is on its way,
    and, for an exchange, every unit is replaced or refunded — and the price difference the
    customer paid for replacements that are not sent is refunded (``exchange_surplus_grant``) —
    and the units inspection rejected are sent back (``return_rejected_units_send``).

    A return whose every unit was rejected has nothing to refund or replace: it completes once
    those units are sent back (and any surplus of a paid price difference is paid)."""
    if return_request.status != ReturnStatus.SETTLING:
        return False
    refund_states = list(return_request.refunds.exclude(state=RefundState.VOIDED).values_list("state", flat=True))
    if return_request.resolution == Resolution.EXCHANGE:
        settled = settled_units(return_request)
        if any(settled.get(line.pk, 0) < settleable_units(line) for line in return_request.lines.all()):
            return False
        # The surplus is part of the settlement that completes the return, not a step after it:
        # completion already waits for every refund to be paid, so once the surplus is granted
        # the return waits for it too, and a case never reads "completed" while the customer's
        # money is still owed. It is granted only once every other refund is paid: until then one
        # could be voided and its units replaced after all, which would change what is owed; a
        # paid refund and a shipped parcel are final.
        if all(state == RefundState.PAID for state in refund_states) and exchange_surplus_grant(return_request):
            return False
    replacements = return_request.replacements.exclude(state=ReplacementState.LOST).exists()
    if not refund_states and not replacements and any(settleable_units(line) for line in return_request.lines.all()):
        return False
    if any(state != RefundState.PAID for state in refund_states):
        return False
    # Checked last: the money is settled as soon as it can be (the surplus above is granted
    # while the parcel is still being packed); "completed" waits for the parcel too, since until
    # it leaves the shop still has something to do for this return.
    if rejected_units_to_send_back(return_request):
        return False
    return_move(return_request, ReturnStatus.COMPLETED)
    return_request.completed_at = timezone.now()
    return_request.save(update_fields=["status", "completed_at", "updated_at"])
    event_append(return_request.ticket, ReturnVerb.COMPLETED, actor_user=actor, public=True)
    ticket_follow_workflow(ticket=return_request.ticket, status=TicketStatus.RESOLVED, actor_user=actor)
    notify_customer(return_request.ticket, "return_completed")
    return True
