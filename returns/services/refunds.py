"""Settling a return: refunds (the decision, then the payment call), store credit, replacements.

Lock order, the same in every function here, so two of them never wait on each other:
the return request, then its order (only when shipping is refunded), then the order lines in id
order, then a store-credit account. A payment call is never made while a lock is held: the
execution row is created (or found by its key) and claimed in one transaction, the adapter is
called with no transaction open, and its answer is recorded in another.

Two clicks, two workers or two API retries give one refund:
- granting locks the return and checks the units it still holds, so a second full refund finds
  nothing left; an optional ``grant_key`` makes a replayed grant return the first refund;
- a refund has one execution, found again by its idempotency key, and an attempt in flight
  (``lease_expires_at``) is left alone by a second worker.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.enqueue import enqueue_on_commit
from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Customer, Membership, Order, OrderLine, Product, User
from aftersales.services.staff import staff_membership_required
from returns.models import (
    ExecutionState,
    Refund,
    RefundAdapterName,
    RefundExecution,
    RefundGateway,
    RefundLine,
    RefundMethod,
    RefundState,
    ReplacementShipment,
    ReplacementState,
    Resolution,
    Responsibility,
    ReturnLine,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
    StoreCreditAccount,
    StoreCreditEntry,
)
from returns.payments import AdapterResult, adapter_for, adapter_name_for
from returns.services.webhooks import return_status_changed
from tickets.models import TicketStatus
from tickets.notify import notify_customer
from tickets.services import ticket_follow_workflow
from tickets.timeline import event_append

CENT = Decimal("0.01")
ZERO = Decimal("0")
REFUND_ROLES = (Membership.Role.AGENT, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)
# Refund-only and keep-the-item settle from approved; everything else once the items are back.
SETTLE_ON_APPROVAL = (Resolution.REFUND_ONLY, Resolution.KEEP_ITEM)
# A quick refund pays while the parcel travels; the return stays where it is.
QUICK_REFUND_STATUSES = (ReturnStatus.AWAITING_SHIPMENT, ReturnStatus.IN_TRANSIT)
# Beyond the call's own timeout, how long an attempt counts as in flight before another may start.
LEASE_MARGIN = timedelta(seconds=30)


# --- helpers ------------------------------------------------------------------------------------


def _lock_return(return_request_id: int) -> ReturnRequest:
    return (
        ReturnRequest.objects.select_for_update(of=("self",))
        .select_related("ticket", "order", "reason", "customer")
        .get(pk=return_request_id)
    )


def _move(return_request: ReturnRequest, status: str) -> None:
    if not return_request.can_transition_to(status):
        raise TransitionNotAllowed(
            _("A return that is %(current)s cannot become %(target)s.")
            % {"current": return_request.get_status_display(), "target": ReturnStatus(status).label},
            extra={"from": return_request.status, "to": status},
        )
    previous, return_request.status = return_request.status, status
    return_status_changed(return_request, previous=previous)


def _staff(actor: User | None, merchant_id: int, roles: Sequence[str] | None = None) -> Membership | None:
    """The actor's membership (None for the system). ``roles`` None: any staff role."""
    if actor is None:
        return None
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if roles is not None and membership.role not in roles:
        raise PermissionRefused(_("Your role does not allow refunds."), code="role_cannot_refund")
    return membership


def _check_agent_limit(membership: Membership | None, return_request: ReturnRequest, amount: Decimal) -> None:
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


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(value).quantize(CENT)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(_("Enter an amount."), code="invalid_amount", extra={"field": field}) from None
    if not amount.is_finite():
        raise InvalidInput(_("Enter an amount."), code="invalid_amount", extra={"field": field})
    return amount


def settleable_units(line: ReturnLine) -> int:
    """Units of a return line that can be refunded or exchanged: what inspection accepted once the
    line was inspected, otherwise every unit of it (refund-only, keep-the-item, a quick refund,
    or a parcel refunded as requested when inspection did not happen in time)."""
    if line.quantity_accepted or line.quantity_rejected:
        return line.quantity_accepted
    return line.quantity


def _settled_units(return_request: ReturnRequest) -> dict[int, int]:
    """Units of each return line already refunded or replaced (read under the return's lock)."""
    settled: dict[int, int] = {}
    refunded = (
        RefundLine.objects.filter(refund__return_request=return_request)
        .exclude(refund__state=RefundState.VOIDED)
        .values("return_line_id")
        .annotate(units=Sum("quantity"))
    )
    replaced = (
        ReplacementShipment.objects.filter(return_request=return_request)
        .exclude(state=ReplacementState.LOST)
        .values("return_line_id")
        .annotate(units=Sum("quantity"))
    )
    for row in [*refunded, *replaced]:
        settled[row["return_line_id"]] = settled.get(row["return_line_id"], 0) + row["units"]
    return settled


def _enter_settling(return_request: ReturnRequest, actor: User | None) -> None:
    """Move the (locked) return to settling, as the table allows, if it is not there already."""
    if return_request.status == ReturnStatus.SETTLING:
        return
    if (
        return_request.status == ReturnStatus.APPROVED and return_request.resolution not in SETTLE_ON_APPROVAL
    ) or return_request.status == ReturnStatus.IN_TRANSIT:
        # A parcel on its way settles once it arrives, or once staff declare it lost.
        raise TransitionNotAllowed(
            _("This return is settled once the items are back."),
            code="items_not_back",
            extra={"from": return_request.status, "to": ReturnStatus.SETTLING},
        )
    previous = return_request.status
    _move(return_request, ReturnStatus.SETTLING)
    return_request.save(update_fields=["status", "updated_at"])
    event_append(return_request.ticket, "return_settling", actor_user=actor, data={"from": previous}, public=True)
    ticket_follow_workflow(ticket=return_request.ticket, status=TicketStatus.OPEN, actor_user=actor)


def rejected_units_to_send_back(return_request: ReturnRequest) -> bool:
    """Whether units inspection rejected still wait for their parcel back to the customer."""
    return ReturnShipment.objects.filter(
        return_request=return_request, direction=ShipmentDirection.TO_CUSTOMER, shipped_at__isnull=True
    ).exists()


def _complete_if_settled(return_request: ReturnRequest, actor: User | None) -> bool:
    """Complete the (locked) return when every refund is paid, every replacement is on its way,
    and, for an exchange, every unit is replaced or refunded — and the price difference the
    customer paid for replacements that are not sent is refunded (``_exchange_surplus_grant``) —
    and the units inspection rejected are sent back (``return_rejected_units_send``).

    A return whose every unit was rejected has nothing to refund or replace: it completes once
    those units are sent back (and any surplus of a paid price difference is paid)."""
    if return_request.status != ReturnStatus.SETTLING:
        return False
    refund_states = list(return_request.refunds.exclude(state=RefundState.VOIDED).values_list("state", flat=True))
    if return_request.resolution == Resolution.EXCHANGE:
        settled = _settled_units(return_request)
        if any(settled.get(line.pk, 0) < settleable_units(line) for line in return_request.lines.all()):
            return False
        # The surplus is part of the settlement that completes the return, not a step after it:
        # completion already waits for every refund to be paid, so once the surplus is granted
        # the return waits for it too, and a case never reads "completed" while the customer's
        # money is still owed. It is granted only once every other refund is paid: until then one
        # could be voided and its units replaced after all, which would change what is owed; a
        # paid refund and a shipped parcel are final.
        if all(state == RefundState.PAID for state in refund_states) and _exchange_surplus_grant(return_request):
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
    _move(return_request, ReturnStatus.COMPLETED)
    return_request.completed_at = timezone.now()
    return_request.save(update_fields=["status", "completed_at", "updated_at"])
    event_append(return_request.ticket, "return_completed", actor_user=actor, public=True)
    ticket_follow_workflow(ticket=return_request.ticket, status=TicketStatus.RESOLVED, actor_user=actor)
    return True


# --- granting -----------------------------------------------------------------------------------


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
        amount = _money(amount, "amount")
        if amount <= 0:
            raise InvalidInput(
                _("A refund must be more than zero."), code="amount_not_positive", extra={"line": order_line.pk}
            )
        allocations.append(_Allocation(return_line, order_line.pk, int(quantity), amount))
    return allocations


def _shipping_refundable(order: Order) -> Decimal:
    refunded = (
        Refund.objects.filter(return_request__order=order)
        .exclude(state=RefundState.VOIDED)
        .aggregate(total=Sum("shipping_amount"))["total"]
        or ZERO
    )
    return order.shipping_amount - refunded


def _grant(
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
) -> tuple[ReturnRequest, Refund, bool]:
    """Write a refund decision inside the caller's transaction; return (locked return, refund,
    created). Everything is checked before anything is written.

    ``keep_status``: the return stays where it is (the price difference given back on an exchange
    that expired). ``paid_beside_order``: money the customer paid for an order line outside the
    order (a dearer exchange's difference, per order line id), which this grant may refund too."""
    return_request = _lock_return(return_request.pk)
    membership = _staff(actor, return_request.merchant_id, REFUND_ROLES)
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
        _enter_settling(return_request, actor)
    settled = _settled_units(return_request)
    allocations = _requested_allocations(return_request, lines, settled)

    order = return_request.order
    if order.shipping_amount > 0:
        order = Order.objects.select_for_update().get(pk=order.pk)
    # The paid cap spans every return of a line, so it is checked under the line's lock.
    order_lines = {
        line.pk: line
        for line in OrderLine.objects.select_for_update()
        .filter(pk__in=[allocation.order_line_id for allocation in allocations])
        .order_by("pk")
    }
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

    shipping_left = _shipping_refundable(order) if order.shipping_amount > 0 else ZERO
    if shipping_amount is None:
        # Per policy: the merchant's fault (a defect, a wrong item) refunds the shipping too.
        merchants_fault = return_request.reason.responsibility == Responsibility.MERCHANT
        shipping = shipping_left if merchants_fault else ZERO
    else:
        shipping = _money(shipping_amount, "shipping_amount")
        if shipping < 0 or shipping > shipping_left:
            raise Conflict(
                _("At most %(amount)s of shipping can still be refunded.") % {"amount": shipping_left},
                code="shipping_exceeds_paid",
                extra={"refundable": str(shipping_left)},
            )
    total = sum((allocation.amount for allocation in allocations), ZERO) + shipping
    if total <= 0:
        raise Conflict(_("Nothing is left to refund on this return."), code="nothing_to_refund")
    _check_agent_limit(membership, return_request, total)

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
        "refund_granted",
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


def refund_grant(
    *,
    return_request: ReturnRequest,
    actor: User | None,
    lines: Sequence[tuple[OrderLine, int, Decimal]] | None = None,
    reason: str = "",
    shipping_amount: Decimal | None = None,
    grant_key: str = "",
    quick: bool = False,
) -> Refund:
    """Decide a refund to the original payment; pay it with ``refund_execute``.

    ``lines`` is ``[(order_line, units, amount)]``; None refunds every unit the return still holds
    at the refund per unit of its terms. Units may be 0 for a price adjustment (keep the item).
    ``shipping_amount`` None follows the policy: the order's shipping when the reason is the
    merchant's responsibility. Refused when an order line would be refunded beyond what was paid
    for it, when more units are settled than the return holds, and, for an agent, above
    ``REFUND_AGENT_LIMIT``. The return moves to settling unless ``quick`` (paid in transit).
    ``actor`` None is the system (a deadline that refunds as requested).
    """
    with transaction.atomic():
        _, refund, _created = _grant(
            return_request=return_request,
            actor=actor,
            method=RefundMethod.ORIGINAL_PAYMENT,
            lines=lines,
            reason=reason,
            shipping_amount=shipping_amount,
            grant_key=grant_key,
            quick=quick,
        )
    return refund


# --- paying -------------------------------------------------------------------------------------


def _lease(merchant_id: int) -> timedelta:
    gateway = RefundGateway.objects.filter(merchant_id=merchant_id).only("timeout_seconds").first()
    return timedelta(seconds=gateway.timeout_seconds if gateway else 10) + LEASE_MARGIN


def _request_summary(refund: Refund, return_request: ReturnRequest) -> dict:
    """What the payment call says, fixed when the execution is created so every retry says the same."""
    lines = refund.lines.select_related("order_line").order_by("order_line_id")
    return {
        "refund_id": refund.pk,
        "amount": str(refund.amount),
        "shipping_amount": str(refund.shipping_amount),
        "currency": refund.currency,
        "order_number": return_request.order.external_number,
        "case_number": return_request.ticket.number,
        "reason": refund.reason,
        "lines": [
            {
                "line_number": line.order_line.line_number,
                "sku": line.order_line.sku,
                "quantity": line.quantity,
                "amount": str(line.amount),
            }
            for line in lines
        ],
    }


def refund_execute(*, refund: Refund, idempotency_key: str | None = None) -> RefundExecution:
    """Pay a granted refund through the merchant's adapter; safe to call any number of times.

    The first call creates the refund's one execution with ``idempotency_key`` (a new key when
    None); later calls find it again — with the same key, or none — and a different key is refused.
    A paid refund, or an attempt another worker has in flight, is returned as it is. Must be
    called outside a transaction: the adapter is called with no lock held.
    """
    key = (idempotency_key or "").strip()
    with transaction.atomic():
        return_request = _lock_return(refund.return_request_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.method != RefundMethod.ORIGINAL_PAYMENT:
            raise InvalidInput(_("Store credit is paid when it is granted."), code="not_a_payment")
        if refund.state == RefundState.VOIDED:
            raise Conflict(_("This refund was voided; it is not paid."), code="refund_voided")
        execution = RefundExecution.objects.select_for_update().filter(refund=refund).first()
        if execution is None:
            key = key or uuid.uuid4().hex
            if RefundExecution.objects.filter(merchant_id=refund.merchant_id, idempotency_key=key).exists():
                raise Conflict(_("That idempotency key belongs to another refund."), code="idempotency_key_reused")
            execution = RefundExecution.objects.create(
                merchant_id=refund.merchant_id,
                refund=refund,
                adapter=adapter_name_for(refund.merchant_id),
                idempotency_key=key,
                request_summary=_request_summary(refund, return_request),
            )
        elif key and key != execution.idempotency_key:
            raise Conflict(
                _("This refund is already being paid under another idempotency key."), code="idempotency_key_mismatch"
            )
        if execution.state == ExecutionState.SUCCEEDED or execution.adapter == RefundAdapterName.MANUAL:
            # Manual: nothing to call; it stays pending until staff confirm the payout.
            return execution
        now = timezone.now()
        claimed = (
            RefundExecution.objects.filter(pk=execution.pk, state__in=(ExecutionState.PENDING, ExecutionState.FAILED))
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
            .update(
                state=ExecutionState.PENDING,
                attempts=F("attempts") + 1,
                last_attempt_at=now,
                lease_expires_at=now + _lease(refund.merchant_id),
            )
        )
        if not claimed:
            return execution
        if return_request.status == ReturnStatus.ACTION_REQUIRED:
            _move(return_request, ReturnStatus.SETTLING)
            return_request.save(update_fields=["status", "updated_at"])
            event_append(
                return_request.ticket,
                "refund_retried",
                data={"refund": refund.pk, "from": ReturnStatus.ACTION_REQUIRED},
            )
        if refund.state == RefundState.FAILED:
            refund.state = RefundState.GRANTED
            refund.save(update_fields=["state", "updated_at"])
        execution.refresh_from_db()
    attempt = execution.attempts

    try:
        result = adapter_for(execution).refund(execution)
    except Exception as error:  # noqa: BLE001 — whatever an adapter raises is a failed attempt, recorded
        result = AdapterResult.failed(str(error) or error.__class__.__name__)

    with transaction.atomic():
        return_request = _lock_return(refund.return_request_id)
        execution = RefundExecution.objects.select_for_update().select_related("refund").get(pk=execution.pk)
        if result.state == ExecutionState.SUCCEEDED:
            _record_success(return_request, execution, result, actor=None)
        elif result.state == ExecutionState.FAILED:
            _record_failure(return_request, execution, result, attempt)
        else:
            RefundExecution.objects.filter(pk=execution.pk, attempts=attempt).update(lease_expires_at=None)
            execution.refresh_from_db()
    return execution


def _record_success(
    return_request: ReturnRequest, execution: RefundExecution, result: AdapterResult, *, actor: User | None
) -> None:
    """Record a payout. Success is the provider's word, so it stands whichever attempt it came from."""
    if execution.state == ExecutionState.SUCCEEDED:
        return
    now = timezone.now()
    execution.state = ExecutionState.SUCCEEDED
    execution.provider_reference = result.provider_reference
    execution.response_summary = result.response_summary
    execution.error = ""
    execution.completed_at = now
    execution.lease_expires_at = None
    execution.confirmed_by = actor
    execution.save(
        update_fields=[
            "state",
            "provider_reference",
            "response_summary",
            "error",
            "completed_at",
            "lease_expires_at",
            "confirmed_by",
            "updated_at",
        ]
    )
    refund = execution.refund
    refund.state = RefundState.PAID
    refund.paid_at = now
    refund.save(update_fields=["state", "paid_at", "updated_at"])
    ticket = return_request.ticket
    event_append(
        ticket,
        "refund_paid",
        actor_user=actor,
        data={"refund": refund.pk, "amount": str(refund.amount), "currency": refund.currency},
        public=True,
    )
    notify_customer(ticket, "return_refunded", {"amount": str(refund.amount), "currency": refund.currency})
    _complete_if_settled(return_request, actor)


def _record_failure(
    return_request: ReturnRequest, execution: RefundExecution, result: AdapterResult, attempt: int
) -> None:
    # An answer from an attempt that has since been superseded (its lease ran out and another
    # worker tried again) is not the latest word; a success already recorded is never undone.
    if execution.state == ExecutionState.SUCCEEDED or execution.attempts != attempt:
        return
    execution.state = ExecutionState.FAILED
    execution.error = result.error
    execution.response_summary = result.response_summary
    execution.lease_expires_at = None
    execution.save(update_fields=["state", "error", "response_summary", "lease_expires_at", "updated_at"])
    refund = execution.refund
    refund.state = RefundState.FAILED
    refund.save(update_fields=["state", "updated_at"])
    moved = return_request.status == ReturnStatus.SETTLING
    if moved:
        _move(return_request, ReturnStatus.ACTION_REQUIRED)
        return_request.save(update_fields=["status", "updated_at"])
    event_append(
        return_request.ticket,
        "refund_failed",
        data={
            "refund": refund.pk,
            "error": result.error,
            "attempt": attempt,
            "idempotency_key": execution.idempotency_key,
            **({"status": ReturnStatus.ACTION_REQUIRED} if moved else {}),
        },
        public=False,
    )
    if moved:
        # Staff must act: the case is theirs again, whatever it was waiting on.
        ticket_follow_workflow(ticket=return_request.ticket, status=TicketStatus.OPEN)


def refund_confirm_manual(*, execution: RefundExecution, actor: User, reference: str) -> RefundExecution:
    """Staff confirm that they made the payout in the shop's back office, with its reference."""
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(
            _("Enter the payout reference from the shop's back office."),
            code="reference_required",
            extra={"field": "reference"},
        )
    with transaction.atomic():
        return_request = _lock_return(execution.refund.return_request_id)
        execution = RefundExecution.objects.select_for_update().select_related("refund").get(pk=execution.pk)
        _staff(actor, execution.merchant_id, REFUND_ROLES)
        if execution.adapter != RefundAdapterName.MANUAL:
            raise Conflict(_("This refund is paid by the payment gateway, not by hand."), code="not_manual")
        if execution.refund.state == RefundState.VOIDED:
            raise Conflict(_("This refund was voided; it is not paid."), code="refund_voided")
        if execution.state == ExecutionState.SUCCEEDED:
            if execution.provider_reference == reference:
                return execution
            raise Conflict(_("This payout was already confirmed."), code="already_confirmed")
        if return_request.status == ReturnStatus.ACTION_REQUIRED:
            _move(return_request, ReturnStatus.SETTLING)
            return_request.save(update_fields=["status", "updated_at"])
        _record_success(
            return_request,
            execution,
            AdapterResult(state=ExecutionState.SUCCEEDED, provider_reference=reference[:200]),
            actor=actor,
        )
    return execution


# --- voiding -------------------------------------------------------------------------------------

VOID_REFUSALS = {
    "refund_paid": lambda: _("A paid refund cannot be voided."),
    "payment_in_flight": lambda: _(
        "A payment call for this refund is in flight or its answer never came; try the payment again "
        "to learn how it ended before voiding it."
    ),
    "payment_outcome_unknown": lambda: _(
        "The last payment call failed in a way that does not prove the money stayed (a timeout, a "
        "dropped connection, a server error); try the payment again to learn how it ended before "
        "voiding it."
    ),
}


def refund_void(*, refund: Refund, actor: User, reason: str) -> Refund:
    """Withdraw a refund decision whose money has not left (``Refund.void_refusal``), for a
    supervisor or merchant admin, with a reason.

    The refund becomes voided: its lines no longer count against what each order line may still
    refund, nor its shipping against the order's; the units it counted in ``quantity_refunded`` are
    given back under the order lines' locks. A return that needed action because of it goes back
    to settling, so staff settle it again. Voiding a voided refund returns it as it is.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the refund is voided."), code="reason_required", extra={"field": "reason"})
    with transaction.atomic():
        return_request = _lock_return(refund.return_request_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        membership = _staff(actor, return_request.merchant_id)
        if not membership.is_supervisor:
            raise PermissionRefused(_("Only a supervisor can void a refund."), code="supervisor_required")
        execution = RefundExecution.objects.select_for_update().filter(refund=refund).first()
        refusal = refund.void_refusal(execution, timezone.now())
        if refusal == "refund_voided":
            return refund
        if refusal:
            raise Conflict(VOID_REFUSALS[refusal](), code=refusal, extra={"refund": refund.pk})
        lines = list(refund.lines.order_by("order_line_id"))
        # The lock order of a grant: the order (for its shipping cap), then its lines by id.
        if refund.shipping_amount > 0:
            Order.objects.select_for_update().filter(pk=return_request.order_id).values_list("pk", flat=True).get()
        list(
            OrderLine.objects.select_for_update()
            .filter(pk__in=[line.order_line_id for line in lines])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for line in lines:
            if line.quantity:
                OrderLine.objects.filter(pk=line.order_line_id).update(
                    quantity_refunded=F("quantity_refunded") - line.quantity
                )
        previous_state = refund.state
        refund.state = RefundState.VOIDED
        refund.voided_at = timezone.now()
        refund.voided_by = actor
        refund.void_reason = reason
        refund.save(update_fields=["state", "voided_at", "voided_by", "void_reason", "updated_at"])
        ticket = return_request.ticket
        event_append(
            ticket,
            "refund_voided",
            actor_user=actor,
            data={
                "refund": refund.pk,
                "amount": str(refund.amount),
                "shipping": str(refund.shipping_amount),
                "currency": refund.currency,
                "previous_state": previous_state,
                "reason": reason,
                "lines": {
                    str(line.order_line_id): {"units": line.quantity, "amount": str(line.amount)} for line in lines
                },
            },
            public=True,
        )
        still_failed = return_request.refunds.filter(state=RefundState.FAILED).exists()
        if return_request.status == ReturnStatus.ACTION_REQUIRED and not still_failed:
            # The failure that needed action is withdrawn: settling again is the staff's move.
            _move(return_request, ReturnStatus.SETTLING)
            return_request.save(update_fields=["status", "updated_at"])
            event_append(
                ticket, "return_settling", actor_user=actor, data={"from": ReturnStatus.ACTION_REQUIRED}, public=True
            )
            ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN, actor_user=actor)
        # What is left may already be settled (a voided price adjustment beside a paid refund).
        _complete_if_settled(return_request, actor)
    return refund


# --- store credit -------------------------------------------------------------------------------


def _credit_account(customer: Customer, currency: str) -> StoreCreditAccount:
    StoreCreditAccount.objects.get_or_create(
        customer=customer, defaults={"merchant_id": customer.merchant_id, "currency": currency}
    )
    account = StoreCreditAccount.objects.select_for_update().get(customer=customer)
    if account.currency != currency:
        raise InvalidInput(
            _("This customer's store credit is kept in %(currency)s.") % {"currency": account.currency},
            code="currency_mismatch",
        )
    return account


def _ledger_append(
    account: StoreCreditAccount,
    amount: Decimal,
    *,
    reason: str,
    reference: str = "",
    actor: User | None = None,
    return_request: ReturnRequest | None = None,
    refund: Refund | None = None,
) -> StoreCreditEntry:
    """Move the (locked) account's balance and write the entry that says why."""
    account.balance += amount
    if account.balance < 0:
        raise Conflict(
            _("Not enough store credit: %(balance)s %(currency)s left.")
            % {"balance": account.balance - amount, "currency": account.currency},
            code="insufficient_store_credit",
        )
    account.save(update_fields=["balance", "updated_at"])
    return StoreCreditEntry.objects.create(
        merchant_id=account.merchant_id,
        account=account,
        customer_id=account.customer_id,
        amount=amount,
        balance_after=account.balance,
        reason=reason,
        reference=reference,
        return_request=return_request,
        refund=refund,
        actor=actor,
    )


def store_credit_grant(
    *,
    return_request: ReturnRequest,
    actor: User | None,
    lines: Sequence[tuple[OrderLine, int, Decimal]] | None = None,
    reason: str = "",
    shipping_amount: Decimal | None = None,
    grant_key: str = "",
) -> StoreCreditEntry:
    """Settle (part of) a return as store credit: a refund decision paid at once into the
    customer's ledger. The same caps as a refund apply — it is money back for the same units."""
    with transaction.atomic():
        return_request, refund, created = _grant(
            return_request=return_request,
            actor=actor,
            method=RefundMethod.STORE_CREDIT,
            lines=lines,
            reason=reason,
            shipping_amount=shipping_amount,
            grant_key=grant_key,
            quick=False,
        )
        if not created:
            return refund.store_credit_entry
        entry = _pay_in_store_credit(return_request, refund, actor)
    return entry


def _pay_in_store_credit(return_request: ReturnRequest, refund: Refund, actor: User | None) -> StoreCreditEntry:
    """Pay a store-credit refund into the customer's ledger, in the caller's transaction."""
    account = _credit_account(return_request.customer, refund.currency)
    entry = _ledger_append(
        account,
        refund.amount,
        reason=refund.reason or _("Return %(number)s") % {"number": return_request.ticket.number},
        actor=actor,
        return_request=return_request,
        refund=refund,
    )
    refund.state = RefundState.PAID
    refund.paid_at = timezone.now()
    refund.save(update_fields=["state", "paid_at", "updated_at"])
    event_append(
        return_request.ticket,
        "store_credit_granted",
        actor_user=actor,
        data={"refund": refund.pk, "amount": str(refund.amount), "currency": refund.currency},
        public=True,
    )
    _complete_if_settled(return_request, actor)
    return entry


def store_credit_spend(
    *, customer: Customer, amount: Decimal, reference: str, reason: str = "", actor: User | None = None
) -> StoreCreditEntry:
    """Take store credit off a customer's balance (an order paid with it). ``reference`` (the
    order) makes a replay return the first entry; spending below zero is refused."""
    amount = _money(amount, "amount")
    reference = (reference or "").strip()
    if amount <= 0:
        raise InvalidInput(_("A refund must be more than zero."), code="amount_not_positive")
    if not reference:
        raise InvalidInput(_("Give the order the credit pays for."), code="reference_required")
    _staff(actor, customer.merchant_id)
    with transaction.atomic():
        account = StoreCreditAccount.objects.select_for_update().filter(customer=customer).first()
        if account is None:
            raise Conflict(_("This customer has no store credit."), code="insufficient_store_credit")
        existing = StoreCreditEntry.objects.filter(merchant_id=customer.merchant_id, reference=reference).first()
        if existing is not None:
            if existing.customer_id != customer.pk or existing.amount != -amount:
                raise Conflict(_("That reference was used for another entry."), code="reference_reused")
            return existing
        return _ledger_append(account, -amount, reason=reason, reference=reference, actor=actor)


# --- exchanges ----------------------------------------------------------------------------------

# The roles that may say a customer's payment arrived: those that may refund.
DIFFERENCE_ROLES = REFUND_ROLES
# A return going nowhere takes no payment of its price difference.
# When the customer's payment of a dearer exchange is not taken: before the shop agreed to the
# exchange (the money would have nowhere to go if it refused), and once the return is over.
DIFFERENCE_NOT_PAYABLE_STATUSES = (
    ReturnStatus.SUBMITTED,
    ReturnStatus.NEEDS_REVIEW,
    ReturnStatus.ESCALATED,
    ReturnStatus.REJECTED,
    ReturnStatus.CANCELLED,
    ReturnStatus.EXPIRED,
    ReturnStatus.COMPLETED,
)


def _difference_grant_key(shipment: ReplacementShipment) -> str:
    """The refund of the price difference of one replacement parcel: one per parcel, however often
    the parcel is recorded again."""
    return f"exchange-difference:{shipment.pk}"


def exchange_surplus_grant_key(return_request_id: int) -> str:
    """The refund of the price difference paid for replacements that are not sent: one per return,
    however often the settlement runs and whichever worker runs it."""
    return f"exchange-surplus:{return_request_id}"


@dataclass(frozen=True)
class SurplusLine:
    """The price difference paid for the replacements of one line that are not sent."""

    return_line: ReturnLine
    units: int
    amount: Decimal


def exchange_surplus_lines(
    return_request: ReturnRequest, lines: Iterable[ReturnLine], covered: Mapping[int, int]
) -> list[SurplusLine]:
    """What the customer paid on top for dearer variants and gets back: for each line of a dearer
    variant, the difference per unit fixed at submission × the units asked for that no replacement
    covers (``covered``: units replaced, or still to be, per return line id). Nothing unless the
    difference was confirmed paid. Reads no row: callers pass what they have loaded."""
    if return_request.resolution != Resolution.EXCHANGE or return_request.exchange_difference_paid_at is None:
        return []
    owed = []
    for line in lines:
        per_unit = line.price_difference_per_unit
        if per_unit is None or per_unit <= 0:
            continue
        units = line.quantity - max(covered.get(line.pk, 0), 0)
        if units > 0:
            owed.append(SurplusLine(return_line=line, units=units, amount=per_unit * units))
    return owed


@dataclass(frozen=True)
class ExchangeSurplus:
    """For pages and the API: the price difference paid for replacements that are not sent."""

    units: int
    amount: Decimal
    refund: Refund | None  # None: not granted yet; it is once the exchange settles


def exchange_surplus_of(
    return_request: ReturnRequest, lines: Iterable[ReturnLine], refunds: Iterable[Refund]
) -> ExchangeSurplus | None:
    """The surplus of an exchange as it stands, from rows the caller loaded (``refunds`` with
    their lines): the refund once granted, else what is owed so far — the units inspection did
    not accept or that were refunded instead (every unit of a return that expired) — or None.
    A unit still to be replaced is not counted; one refunded instead counts unless its refund is
    voided, as ``_exchange_surplus_grant`` will count them."""
    if return_request.resolution != Resolution.EXCHANGE or return_request.exchange_difference_paid_at is None:
        return None
    lines, refunds = list(lines), list(refunds)
    grant_key = exchange_surplus_grant_key(return_request.pk)
    refund = next((refund for refund in refunds if refund.grant_key == grant_key), None)
    refunded: dict[int, int] = {}
    for other in refunds:
        if other.state != RefundState.VOIDED:
            for line in other.lines.all():
                refunded[line.return_line_id] = refunded.get(line.return_line_id, 0) + line.quantity
    expired = return_request.status == ReturnStatus.EXPIRED
    covered = {line.pk: 0 if expired else settleable_units(line) - refunded.get(line.pk, 0) for line in lines}
    owed = exchange_surplus_lines(return_request, lines, covered)
    if refund is None and not owed:
        return None
    return ExchangeSurplus(
        units=sum(item.units for item in owed),
        amount=refund.amount if refund is not None else sum((item.amount for item in owed), ZERO),
        refund=refund,
    )


def _exchange_surplus_grant(return_request: ReturnRequest) -> Refund | None:
    """In the (locked) return's transaction: refund the price difference the customer paid for
    dearer variants whose replacements will not be sent — units rejected at inspection, never
    received, refunded instead of replaced, or a return that expired after the payment. Called
    once that is final: when every unit of the exchange is replaced or refunded and every other
    refund paid (``_complete_if_settled``), or when the return expires. Returns the refund when it
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
    # then its lines by id; ``_grant`` takes the same locks again.
    if return_request.order.shipping_amount > 0:
        Order.objects.select_for_update().filter(pk=return_request.order_id).values_list("pk", flat=True).get()
    order_line_ids = [item.return_line.order_line_id for item in owed]
    order_lines = {
        line.pk: line for line in OrderLine.objects.select_for_update().filter(pk__in=order_line_ids).order_by("pk")
    }
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
    _locked, refund, _created = _grant(
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
    )
    event_append(
        ticket,
        "exchange_difference_surplus",
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


def exchange_surplus_refund_pay(*, return_request: ReturnRequest) -> RefundExecution | None:
    """Pay the refund of the price difference paid for replacements that are not sent, if one was
    granted and not yet sent to the adapter; returns its execution (None: nothing to pay). As for
    the cheaper variant's refund, once the payment call exists it is the refund ledger's, retried
    and confirmed there; its idempotency key is the grant's, so two workers make one call. Call
    it outside a transaction (a task does, after the grant commits)."""
    grant_key = exchange_surplus_grant_key(return_request.pk)
    refund = Refund.objects.filter(merchant_id=return_request.merchant_id, grant_key=grant_key).first()
    if refund is None or refund.state == RefundState.VOIDED:
        return None
    existing = RefundExecution.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    return refund_execute(refund=refund, idempotency_key=grant_key)


def _wanted_replacements(return_lines, lines, settled) -> list[tuple[ReturnLine, int, str]]:
    """``[(return line, units, sku)]``: as given, or every unit still held; an empty SKU is the
    variant the customer asked for, else the SKU ordered."""
    if lines is None:
        wanted = [
            (line, settleable_units(line) - settled.get(line.pk, 0), line.exchange_sku or line.order_line.sku)
            for line in return_lines.values()
        ]
        return [item for item in wanted if item[1] > 0]
    wanted, seen = [], set()
    for order_line, quantity, sku in lines:
        return_line = return_lines.get(order_line.pk)
        if return_line is None:
            raise InvalidInput(
                _("That item is not in this return."), code="line_not_in_return", extra={"line": order_line.pk}
            )
        if order_line.pk in seen:
            raise InvalidInput(_("Each item once, please."), code="duplicate_line")
        seen.add(order_line.pk)
        if int(quantity) != quantity or quantity < 1:
            raise InvalidInput(_("Pick at least one unit."), code="invalid_quantity", extra={"line": order_line.pk})
        default_sku = return_line.exchange_sku or return_line.order_line.sku
        wanted.append((return_line, int(quantity), (sku or "").strip() or default_sku))
    return wanted


def _products_sent(merchant_id: int, wanted) -> dict[str, int | None]:
    """The product of each SKU sent: the variant wished for or the item ordered, as the return
    line knows them; a SKU staff typed instead is looked up among the merchant's products."""
    known: dict[str, int | None] = {}
    for return_line, _units, sku in wanted:
        if sku == return_line.exchange_sku:
            known[sku] = return_line.exchange_product_id
        elif sku == return_line.order_line.sku:
            known[sku] = return_line.order_line.product_id
    typed = {sku for _line, _units, sku in wanted if sku not in known}
    if typed:
        found = dict(Product.objects.filter(merchant_id=merchant_id, sku__in=typed).values_list("sku", "pk"))
        known.update({sku: found.get(sku) for sku in typed})
    return known


def _grant_difference_refund(
    return_request: ReturnRequest, wanted, shipments: list[ReplacementShipment]
) -> Refund | None:
    """In the (locked) return's transaction: the refund of what cheaper variants save the customer,
    for the units of this parcel, at the difference fixed when the return was submitted. The
    shop's side of the exchange agreed then, so it is granted by the system, not by whoever
    packs the parcel (a warehouse role may ship but not refund)."""
    if return_request.resolution != Resolution.EXCHANGE:
        return None
    allocations = [
        (return_line.order_line, 0, -return_line.price_difference_per_unit * units)
        for return_line, units, _sku in wanted
        if return_line.price_difference_per_unit is not None and return_line.price_difference_per_unit < 0
    ]
    if not allocations:
        return None
    _locked, refund, _created = _grant(
        return_request=return_request,
        actor=None,
        method=RefundMethod.ORIGINAL_PAYMENT,
        lines=allocations,
        reason=_("Price difference of the exchange %(number)s") % {"number": return_request.ticket.number},
        shipping_amount=ZERO,
        grant_key=_difference_grant_key(shipments[0]),
        quick=False,
    )
    return refund


def exchange_ship(
    *,
    return_request: ReturnRequest,
    actor: User | None,
    lines: Sequence[tuple[OrderLine, int, str]] | None = None,
    carrier: str,
    tracking_number: str,
    pay_difference: bool = True,
) -> list[ReplacementShipment]:
    """Record a replacement parcel: ``lines`` is ``[(order_line, units, sku sent)]`` (an empty SKU
    is the variant the customer asked for, or else the SKU ordered); None sends every unit the
    return still holds that way. A replay with the same carrier and tracking number returns the
    first record.

    The price difference of the variants asked for was fixed when the return was submitted and
    follows the units shipped, whatever SKU staff send in the end. A dearer variant is paid first:
    the parcel is refused until staff confirm it (``exchange_difference_confirm_paid``). A cheaper
    one is refunded for the units of this parcel: granted in the parcel's transaction, then paid
    through the merchant's adapter once it has committed — so call this outside a transaction, or
    pass ``pay_difference=False`` and pay with ``exchange_difference_refund_pay`` after yours.
    """
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or not tracking_number:
        raise InvalidInput(
            _("Enter the carrier and the tracking number."),
            code="tracking_required",
            extra={"field": "tracking_number" if carrier else "carrier"},
        )
    with transaction.atomic():
        return_request = _lock_return(return_request.pk)
        _staff(actor, return_request.merchant_id)
        same_parcel = list(
            ReplacementShipment.objects.filter(
                merchant_id=return_request.merchant_id, carrier=carrier, tracking_number=tracking_number
            ).order_by("pk")
        )
        if same_parcel:
            if any(shipment.return_request_id != return_request.pk for shipment in same_parcel):
                raise Conflict(_("That tracking number belongs to another return."), code="tracking_reused")
            shipments = same_parcel
        else:
            shipments = _ship(return_request, actor, lines, carrier, tracking_number)
    if pay_difference:
        exchange_difference_refund_pay(shipments=shipments)
    return shipments


def _ship(return_request: ReturnRequest, actor: User | None, lines, carrier: str, tracking_number: str):
    """A new replacement parcel for the (locked) return, in the caller's transaction."""
    if return_request.exchange_difference_unpaid:
        raise Conflict(
            _(
                "The customer still owes a price difference of %(amount)s %(currency)s for the variants "
                "they asked for; confirm it is paid before shipping the replacement."
            )
            % {"amount": return_request.exchange_difference_due, "currency": return_request.order.currency},
            code="exchange_difference_unpaid",
            extra={"amount": str(return_request.exchange_difference_due)},
        )
    _enter_settling(return_request, actor)
    settled = _settled_units(return_request)
    return_lines = {line.order_line_id: line for line in return_request.lines.select_related("order_line")}
    wanted = _wanted_replacements(return_lines, lines, settled)
    if not wanted:
        raise Conflict(_("Every unit of this return is already settled."), code="nothing_to_exchange")
    if return_request.order.shipping_amount > 0 and any(
        (line.price_difference_per_unit or ZERO) < 0 for line, _units, _sku in wanted
    ):
        # The difference refund locks the order (its shipping cap) before the lines, as every
        # refund does; taken here first, so that this parcel keeps the same lock order.
        Order.objects.select_for_update().get(pk=return_request.order_id)
    locked = {
        line.pk: line
        for line in OrderLine.objects.select_for_update()
        .filter(pk__in=[item[0].order_line_id for item in wanted])
        .order_by("pk")
    }
    for return_line, quantity, _sku in wanted:
        units_left = settleable_units(return_line) - settled.get(return_line.pk, 0)
        if quantity > units_left:
            line = locked[return_line.order_line_id]
            raise Conflict(
                _("%(item)s: only %(count)s more units of this return can be settled.")
                % {"item": line.name, "count": max(units_left, 0)},
                code="units_exceed_return",
                extra={"line": line.pk, "units_left": max(units_left, 0)},
            )
    products = _products_sent(return_request.merchant_id, wanted)
    now = timezone.now()
    shipments = ReplacementShipment.objects.bulk_create(
        ReplacementShipment(
            merchant_id=return_request.merchant_id,
            return_request=return_request,
            return_line=return_line,
            order_line_id=return_line.order_line_id,
            sku=sku,
            product_id=products[sku],
            quantity=quantity,
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_by=actor,
            shipped_at=now,
        )
        for return_line, quantity, sku in wanted
    )
    for return_line, quantity, _sku in wanted:
        OrderLine.objects.filter(pk=return_line.order_line_id).update(
            quantity_exchanged=F("quantity_exchanged") + quantity
        )
    refund = _grant_difference_refund(return_request, wanted, shipments)
    event_append(
        return_request.ticket,
        "replacement_shipped",
        actor_user=actor,
        data={
            "carrier": carrier,
            "tracking_number": tracking_number,
            "lines": {str(return_line.order_line_id): {"units": q, "sku": sku} for return_line, q, sku in wanted},
            **({"difference_refund": refund.pk, "difference_refunded": str(refund.amount)} if refund else {}),
        },
        public=True,
    )
    _complete_if_settled(return_request, actor)
    return shipments


def exchange_difference_refund_pay(*, shipments: Sequence[ReplacementShipment], idempotency_key: str = ""):
    """Pay the price-difference refund granted with a replacement parcel, if any and not yet sent
    to the adapter; returns its execution (None: nothing to refund). Once the payment call
    exists it is the refund ledger's, retried and confirmed there, so a replayed parcel never
    pays twice. Call it outside a transaction."""
    if not shipments:
        return None
    refund = Refund.objects.filter(
        merchant_id=shipments[0].merchant_id, grant_key=_difference_grant_key(shipments[0])
    ).first()
    if refund is None or refund.state == RefundState.VOIDED:
        return None
    existing = RefundExecution.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    return refund_execute(refund=refund, idempotency_key=idempotency_key or None)


def exchange_difference_confirm_paid(*, return_request: ReturnRequest, actor: User, reference: str) -> ReturnRequest:
    """Staff confirm that the customer paid the price difference of the dearer variants they asked
    for (in the shop's back office, a payment link, …), with its reference; the replacement may
    then ship. Confirming again with the same reference changes nothing. Confirmed once
    inspection rejected every unit, nothing will ship: the settlement starts and refunds it."""
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(
            _("Enter the reference of the customer's payment."), code="reference_required", extra={"field": "reference"}
        )
    with transaction.atomic():
        return_request = _lock_return(return_request.pk)
        membership = staff_membership_required(actor=actor, merchant_id=return_request.merchant_id)
        if membership.role not in DIFFERENCE_ROLES:
            raise PermissionRefused(
                _("Your role does not allow confirming payments."), code="role_cannot_confirm_payment"
            )
        if return_request.resolution != Resolution.EXCHANGE or return_request.exchange_difference_due <= 0:
            raise Conflict(_("Nothing is owed on this return."), code="no_difference_due")
        if return_request.exchange_difference_paid_at is not None:
            if return_request.exchange_difference_reference == reference[:200]:
                return return_request
            raise Conflict(_("This payment was already confirmed."), code="already_confirmed")
        if return_request.status in DIFFERENCE_NOT_PAYABLE_STATUSES:
            raise TransitionNotAllowed(
                _("A return that is %(current)s takes no payment.") % {"current": return_request.get_status_display()},
                code="return_closed",
            )
        return_request.exchange_difference_paid_at = timezone.now()
        return_request.exchange_difference_reference = reference[:200]
        return_request.exchange_difference_confirmed_by = actor
        return_request.save(
            update_fields=[
                "exchange_difference_paid_at",
                "exchange_difference_reference",
                "exchange_difference_confirmed_by",
                "updated_at",
            ]
        )
        amount, currency = str(return_request.exchange_difference_due), return_request.order.currency
        event_append(
            return_request.ticket,
            "exchange_difference_paid",
            actor_user=actor,
            data={"amount": amount, "currency": currency, "reference": return_request.exchange_difference_reference},
            public=True,
        )
        notify_customer(
            return_request.ticket, "return_exchange_difference_paid", {"amount": amount, "currency": currency}
        )
        if return_request.status == ReturnStatus.INSPECTED and not any(
            settleable_units(line) for line in return_request.lines.all()
        ):
            # Paid after inspection rejected every unit: no replacement will be sent, so the
            # settlement starts now and gives the payment back (``_complete_if_settled``).
            _enter_settling(return_request, actor)
        _complete_if_settled(return_request, actor)
    return return_request


# --- orchestration ------------------------------------------------------------------------------


def _settled_already(return_request: ReturnRequest, actor: User | None) -> bool:
    """For a (locked) return just moved to settling: whether what was settled before — a quick
    refund paid in transit, an earlier partial settlement — already covers every unit it holds.
    If so, complete it (or, when such a refund failed, ask staff to act) instead of granting more."""
    settled = _settled_units(return_request)
    if not settled or any(settleable_units(line) > settled.get(line.pk, 0) for line in return_request.lines.all()):
        return False
    if _complete_if_settled(return_request, actor):
        return True
    failed = list(return_request.refunds.filter(state=RefundState.FAILED).values_list("pk", flat=True))
    if failed:
        _move(return_request, ReturnStatus.ACTION_REQUIRED)
        return_request.save(update_fields=["status", "updated_at"])
        event_append(return_request.ticket, "refund_failed", data={"refunds": failed, "status": return_request.status})
    return True


def return_request_settle(
    *,
    return_request: ReturnRequest,
    actor: User | None,
    lines: Sequence[tuple[OrderLine, int, Decimal]] | None = None,
    reason: str = "",
    shipping_amount: Decimal | None = None,
    grant_key: str = "",
) -> ReturnRequest:
    """Settle a return the way the customer asked: a refund (granted, then paid through the
    merchant's adapter), store credit, or — for an exchange — start settling; the replacement is
    recorded with ``exchange_ship``, and a price difference paid for replacements that will not be
    sent is refunded once that is known (``_exchange_surplus_grant``). Moves the return to
    settling by the table: from approved for refund-only and keep-the-item, from received or
    inspected otherwise. Units already settled (a quick refund paid while the parcel travelled)
    are not settled twice.

    Moving to settling and the grant are one transaction, so a refused grant changes nothing.
    Call it outside a transaction: the payment call is made after that transaction has committed.
    """
    resolution = return_request.resolution
    to_pay = None
    with transaction.atomic():
        locked = _lock_return(return_request.pk)
        _staff(actor, locked.merchant_id, None if resolution == Resolution.EXCHANGE else REFUND_ROLES)
        _enter_settling(locked, actor)
        if resolution == Resolution.EXCHANGE:
            # Nothing left to send (every unit rejected, say): the difference paid for them is
            # refunded and the exchange completes once it is paid. A second run finds it granted.
            _complete_if_settled(locked, actor)
        elif not _settled_already(locked, actor):
            store_credit = resolution == Resolution.STORE_CREDIT
            locked, refund, created = _grant(
                return_request=locked,
                actor=actor,
                method=RefundMethod.STORE_CREDIT if store_credit else RefundMethod.ORIGINAL_PAYMENT,
                lines=lines,
                reason=reason,
                shipping_amount=shipping_amount,
                grant_key=grant_key,
                quick=False,
            )
            if not store_credit:
                to_pay = refund
            elif created:
                _pay_in_store_credit(locked, refund, actor)
    if to_pay is not None:
        refund_execute(refund=to_pay)
    return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)
