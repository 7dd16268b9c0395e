"""Refunds to the original payment: granting the decision, paying it through the merchant's
adapter (and paying it again after a failure), confirming a payout made by hand, voiding a
decision whose money has not left, and the quick refund paid while the parcel travels.

A payment call is never made while a lock is held: the execution row is created (or found by its
key) and claimed in one transaction, the adapter is called with no transaction open, and its
answer is recorded in another. Both transactions are durable, so calling a payment inside a
caller's transaction is an error, not a slow lock.

Two clicks, two workers or two API retries give one refund:
- granting locks the return and checks the units it still holds, so a second full refund finds
  nothing left; an optional ``grant_key`` makes a replayed grant return the first refund;
- a refund has one execution, found again by its idempotency key, and an attempt in flight
  (``lease_expires_at``) is left alone by a second worker.
"""

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.enqueue import enqueue_on_commit
from aftersales.exceptions import ApplicationError, Conflict, InvalidInput, PermissionRefused
from aftersales.models import Order, OrderLine, User
from returns.locks import (
    order_lines_lock,
    order_lock,
    refund_execution_lock,
    refund_execution_of_lock,
    refund_lock,
    return_request_lock,
)
from returns.models import (
    ExecutionState,
    Refund,
    RefundAdapterName,
    RefundExecution,
    RefundGateway,
    RefundMethod,
    RefundState,
    ReturnRequest,
    ReturnStatus,
)
from returns.payments import AdapterResult, adapter_for, adapter_name_for
from returns.roles import (
    REFUND_ROLES,
    require_staff_or_system,
)
from returns.services._settling import refund_decide, return_complete_if_settled
from returns.services._transitions import return_move
from returns.timeline import ReturnVerb
from tickets.models import Ticket, TicketStatus
from tickets.notify import notify_customer
from tickets.services import compensation_payment_recorded, compensation_payment_voided, ticket_follow_workflow
from tickets.timeline import event_append

logger = logging.getLogger(__name__)


# Beyond the call's own timeout, how long an attempt counts as in flight before another may start.
LEASE_MARGIN = timedelta(seconds=30)


def refund_grant(
    *,
    return_request: ReturnRequest,
    actor: User | None,
    lines: Sequence[tuple[OrderLine, int, Decimal]] | None = None,
    reason: str = "",
    shipping_amount: Decimal | None = None,
    grant_key: str = "",
    quick: bool = False,
    payment_key: str = "",
) -> Refund:
    """Decide a refund to the original payment; pay it with ``refund_execute``.

    ``payment_key``: the idempotency key its payment will be made under (a new one when empty),
    stored on the refund: the sweep that re-drives a stalled payment and an API retry of the
    same call both pay under it (``refunds_redrive_stalled``).

    ``lines`` is ``[(order_line, units, amount)]``; None refunds every unit the return still holds
    at the refund per unit of its terms. Units may be 0 for a price adjustment (keep the item).
    ``shipping_amount`` None follows the policy: the order's shipping when the reason is the
    merchant's responsibility. Refused when an order line would be refunded beyond what was paid
    for it, when more units are settled than the return holds, and, for an agent, above
    ``REFUND_AGENT_LIMIT``. The return moves to settling unless ``quick`` (paid in transit).
    ``actor`` None is the system (a deadline that refunds as requested).
    """
    with transaction.atomic():
        _, refund, _created = refund_decide(
            return_request=return_request,
            actor=actor,
            method=RefundMethod.ORIGINAL_PAYMENT,
            lines=lines,
            reason=reason,
            shipping_amount=shipping_amount,
            grant_key=grant_key,
            quick=quick,
            payment_key=payment_key,
        )
    return refund


def _lease(merchant_id: int) -> timedelta:
    gateway = RefundGateway.objects.filter(merchant_id=merchant_id).only("timeout_seconds").first()
    return timedelta(seconds=gateway.timeout_seconds if gateway else 10) + LEASE_MARGIN


def _return_of_refund_lock(refund_return_id: int | None) -> ReturnRequest | None:
    """The return a refund settles, locked (first in the lock order); None for a refund without a
    return (``Refund.order``), whose own lock comes first instead."""
    return return_request_lock(refund_return_id) if refund_return_id is not None else None


def _order_id_of(refund: Refund) -> int:
    """The order of a refund without a return."""
    if refund.order_id is None:  # the constraint refund_of_a_return_or_an_order holds it
        raise RuntimeError(f"Refund {refund.pk} has neither a return nor an order.")
    return refund.order_id


def _ticket_of(refund: Refund, return_request: ReturnRequest | None) -> Ticket:
    """The case whose timeline records what happens to the refund."""
    if return_request is not None:
        return return_request.ticket
    if refund.ticket_id is None:  # the constraint refund_of_a_return_or_an_order holds it
        raise RuntimeError(f"Refund {refund.pk} has neither a return nor a case.")
    return Ticket.objects.get(pk=refund.ticket_id)


def _request_summary(refund: Refund, return_request: ReturnRequest | None) -> dict[str, Any]:
    """What the payment call says, fixed when the execution is created so every retry says the same."""
    lines = refund.lines.select_related("order_line").order_by("order_line_id")
    order = return_request.order if return_request is not None else Order.objects.get(pk=_order_id_of(refund))
    return {
        "refund_id": refund.pk,
        "amount": str(refund.amount),
        "shipping_amount": str(refund.shipping_amount),
        "currency": refund.currency,
        "order_number": order.external_number,
        "case_number": _ticket_of(refund, return_request).number,
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

    The first call creates the refund's one execution with ``idempotency_key`` (else the key
    stored on the refund at its grant; a new one for a refund granted before keys were stored);
    later calls find it again — with the same key, or none — and a different key is refused.
    A paid refund, or an attempt another worker has in flight, is returned as it is. Must be
    called outside a transaction (its transactions are durable, so calling it inside one is an
    error): the adapter is called with no lock held.
    """
    key = (idempotency_key or "").strip()
    with transaction.atomic(durable=True):
        return_request = _return_of_refund_lock(refund.return_request_id)
        refund = refund_lock(refund.pk)
        if refund.method != RefundMethod.ORIGINAL_PAYMENT:
            raise InvalidInput(_("Store credit is paid when it is granted."), code="not_a_payment")
        if refund.state == RefundState.VOIDED:
            raise Conflict(_("This refund was voided; it is not paid."), code="refund_voided")
        execution = refund_execution_of_lock(refund)
        if execution is None:
            key = key or refund.payment_key or uuid.uuid4().hex
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
        if return_request is not None and return_request.status == ReturnStatus.ACTION_REQUIRED:
            return_move(return_request, ReturnStatus.SETTLING)
            return_request.save(update_fields=["status", "updated_at"])
            event_append(
                return_request.ticket,
                ReturnVerb.REFUND_RETRIED,
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

    with transaction.atomic(durable=True):
        return_request = _return_of_refund_lock(refund.return_request_id)
        execution = refund_execution_lock(execution.pk)
        if result.state == ExecutionState.SUCCEEDED:
            _record_success(return_request, execution, result, actor=None)
        elif result.state == ExecutionState.FAILED:
            _record_failure(return_request, execution, result, attempt)
        else:
            RefundExecution.objects.filter(pk=execution.pk, attempts=attempt).update(lease_expires_at=None)
            execution.refresh_from_db()
    return execution


def refunds_redrive_stalled(*, stalled_for: timedelta | None = None, limit: int = 100) -> int:
    """Pay the refunds whose payment stalled, under the key stored at their grant; return how many
    were driven. Beat runs it (``returns.tasks.refunds_redrive_stalled``), so no click is needed.

    Stalled: a refund to the original payment, granted (neither paid, failed nor voided) longer
    than ``stalled_for`` ago (``REFUND_REDRIVE_AFTER_SECONDS``), whose payment never started (the
    task after the grant was lost) or whose attempt is neither answered nor in flight (a worker
    died mid-call, or the provider answered "pending" and the outcome was never fetched). A failed
    payment is not re-driven: it is the shop's to look at (the return needs action). Each refund is
    paid by ``refund_execute``, so a sweep beside a late task, a click or another sweep still
    makes one call per lease and one payout under one key."""
    now = timezone.now()
    cutoff = now - (
        stalled_for if stalled_for is not None else timedelta(seconds=settings.REFUND_REDRIVE_AFTER_SECONDS)
    )
    never_started = Q(execution__isnull=True)
    unanswered = (
        Q(execution__state=ExecutionState.PENDING)
        & ~Q(execution__adapter=RefundAdapterName.MANUAL)
        & (Q(execution__lease_expires_at__isnull=True) | Q(execution__lease_expires_at__lte=now))
        & (Q(execution__last_attempt_at__isnull=True) | Q(execution__last_attempt_at__lte=cutoff))
    )
    stalled = list(
        Refund.objects.filter(method=RefundMethod.ORIGINAL_PAYMENT, state=RefundState.GRANTED, created_at__lte=cutoff)
        .filter(never_started | unanswered)
        .order_by("pk")[:limit]
    )
    driven = 0
    for refund in stalled:
        try:
            refund_execute(refund=refund)
        except ApplicationError as refusal:
            # Voided or settled meanwhile: nothing to pay, and the next refund is still paid.
            logger.info("stalled refund %s not re-driven: %s", refund.pk, refusal)
            continue
        driven += 1
    return driven


def _record_success(
    return_request: ReturnRequest | None, execution: RefundExecution, result: AdapterResult, *, actor: User | None
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
    ticket = _ticket_of(refund, return_request)
    event_append(
        ticket,
        ReturnVerb.REFUND_PAID,
        actor_user=actor,
        data={"refund": refund.pk, "amount": str(refund.amount), "currency": refund.currency},
        public=True,
    )
    notify_customer(ticket, "return_refunded", {"amount": str(refund.amount), "currency": refund.currency})
    if return_request is not None:
        return_complete_if_settled(return_request, actor)
    else:
        # A refund against the order is a complaint's compensation, granted under its key: paid now.
        compensation_payment_recorded(
            merchant_id=refund.merchant_id, ticket_id=ticket.pk, reference=refund.grant_key, paid=True
        )


def _record_failure(
    return_request: ReturnRequest | None, execution: RefundExecution, result: AdapterResult, attempt: int
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
    moved = return_request is not None and return_request.status == ReturnStatus.SETTLING
    if return_request is not None and moved:
        return_move(return_request, ReturnStatus.ACTION_REQUIRED)
        return_request.save(update_fields=["status", "updated_at"])
    ticket = _ticket_of(refund, return_request)
    event_append(
        ticket,
        ReturnVerb.REFUND_FAILED,
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
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN)
    if return_request is None:
        # A complaint's compensation: shown as failed, with the reason, until it is paid again.
        compensation_payment_recorded(
            merchant_id=refund.merchant_id,
            ticket_id=ticket.pk,
            reference=refund.grant_key,
            paid=False,
            error=result.error,
        )


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
        return_request = _return_of_refund_lock(execution.refund.return_request_id)
        execution = refund_execution_lock(execution.pk)
        require_staff_or_system(actor, execution.merchant_id, REFUND_ROLES)
        if execution.adapter != RefundAdapterName.MANUAL:
            raise Conflict(_("This refund is paid by the payment gateway, not by hand."), code="not_manual")
        if execution.refund.state == RefundState.VOIDED:
            raise Conflict(_("This refund was voided; it is not paid."), code="refund_voided")
        if execution.state == ExecutionState.SUCCEEDED:
            if execution.provider_reference == reference:
                return execution
            raise Conflict(_("This payout was already confirmed."), code="already_confirmed")
        if return_request is not None and return_request.status == ReturnStatus.ACTION_REQUIRED:
            return_move(return_request, ReturnStatus.SETTLING)
            return_request.save(update_fields=["status", "updated_at"])
        _record_success(
            return_request,
            execution,
            AdapterResult(state=ExecutionState.SUCCEEDED, provider_reference=reference[:200]),
            actor=actor,
        )
    return execution


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
        return_request = _return_of_refund_lock(refund.return_request_id)
        if return_request is None:
            # Without a return the order comes first: the lock order of a grant against it.
            order_lock(_order_id_of(refund))
        refund = refund_lock(refund.pk)
        membership = require_staff_or_system(actor, refund.merchant_id)
        if membership is None or not membership.is_supervisor:
            raise PermissionRefused(_("Only a supervisor can void a refund."), code="supervisor_required")
        execution = refund_execution_of_lock(refund)
        refusal = refund.void_refusal(execution, timezone.now())
        if refusal == "refund_voided":
            return refund
        if refusal:
            raise Conflict(VOID_REFUSALS[refusal](), code=refusal, extra={"refund": refund.pk})
        lines = list(refund.lines.order_by("order_line_id"))
        # The lock order of a grant: the order (for its shipping cap), then its lines by id.
        if refund.shipping_amount > 0 and return_request is not None:
            order_lock(return_request.order_id)
        order_lines_lock(line.order_line_id for line in lines)
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
        ticket = _ticket_of(refund, return_request)
        event_append(
            ticket,
            ReturnVerb.REFUND_VOIDED,
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
        if return_request is None:
            # A complaint's compensation paid by it is withdrawn: its money never left.
            compensation_payment_voided(
                merchant_id=refund.merchant_id, ticket_id=ticket.pk, reference=refund.grant_key, actor=actor
            )
            return refund
        still_failed = return_request.refunds.filter(state=RefundState.FAILED).exists()
        if return_request.status == ReturnStatus.ACTION_REQUIRED and not still_failed:
            # The failure that needed action is withdrawn: settling again is the staff's move.
            return_move(return_request, ReturnStatus.SETTLING)
            return_request.save(update_fields=["status", "updated_at"])
            event_append(
                ticket, ReturnVerb.SETTLING, actor_user=actor, data={"from": ReturnStatus.ACTION_REQUIRED}, public=True
            )
            ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN, actor_user=actor)
        # What is left may already be settled (a voided price adjustment beside a paid refund).
        return_complete_if_settled(return_request, actor)
    return refund


def quick_refund_start(return_request: ReturnRequest) -> None:
    """Record the quick-refund decision on the (locked) request and hand the refund to the ledger
    after commit. Inspection reads the decision to flag rejected units against money on its way."""
    return_request.quick_refund_at = timezone.now()
    return_request.save(update_fields=["quick_refund_at", "updated_at"])
    event_append(
        return_request.ticket,
        ReturnVerb.QUICK_REFUND,
        data={"amount": str(sum((line.refund_amount for line in return_request.lines.all()), Decimal("0")))},
        public=True,
    )
    from returns.tasks import return_quick_refund

    pk = return_request.pk
    enqueue_on_commit(return_quick_refund, pk)


def quick_refund_run(*, return_request_id: int) -> None:
    """Grant and pay the quick refund of a return (a task, after the deciding commit).

    Runs outside the deciding transaction: the payment call holds no lock, and a failed payment
    never undoes the decision that the parcel is on its way. The grant key makes a second run a
    no-op refusal."""
    return_request = ReturnRequest.objects.select_related("ticket").get(pk=return_request_id)
    try:
        refund = refund_grant(
            return_request=return_request,
            actor=None,
            quick=True,
            reason="quick_refund",
            grant_key=f"quick-refund-{return_request_id}",
        )
        refund_execute(refund=refund)
    except ApplicationError as refusal:
        # The ledger refused (a cap, a state): staff see the return in their queue and settle it.
        logger.warning("ledger refused the quick refund of return %s: %s", return_request_id, refusal.code)
