"""Rules that act without a person: the risk flag, the quick-refund decision, and the hook that
starts a settlement when a rule or a deadline refunds a return on its own.

The settlement itself (the refund ledger) lives in ``returns.services.refunds``; this module
only calls into it, by name, when it is there, so that returns move on their own before the
ledger is wired and the ledger can be built without touching these rules.
"""

import importlib
import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from aftersales.exceptions import ApplicationError
from returns.models import HOLDING_STATUSES, Resolution, ReturnLine, ReturnPolicy, ReturnRequest, ReturnStatus
from tickets.models import Attachment
from tickets.timeline import event_append

logger = logging.getLogger("returns.rules")

# The functions of the refund ledger these rules start, looked up by name in SETTLEMENT_MODULE
# and called after the deciding transaction commits (see ``_after_commit``).
SETTLEMENT_MODULE = "returns.services.refunds"
SETTLE_HOOK = "return_request_settle"
GRANT_HOOK = "refund_grant"
EXECUTE_HOOK = "refund_execute"
QUICK_REFUND_HOOK = "quick_refund"
QUICK_REFUND_RESOLUTIONS = (Resolution.REFUND, Resolution.STORE_CREDIT)


def policy_for(merchant_id: int) -> ReturnPolicy:
    """The merchant's policy; without one, an unsaved policy with the defaults."""
    return ReturnPolicy.objects.filter(merchant_id=merchant_id).first() or ReturnPolicy(merchant_id=merchant_id)


# --- the risk flag ------------------------------------------------------------------------------


def risk_review_reasons(return_request: ReturnRequest, *, policy: ReturnPolicy | None = None) -> list[dict]:
    """Why a person should look at this request before it is approved; empty when nothing stands out.

    The customer's returns in the policy's look-back (this one included, cancelled and expired
    ones left out) against the count and value thresholds, and any photo the customer attached
    that an earlier return of this merchant already carried (same SHA-256).
    """
    policy = policy or policy_for(return_request.merchant_id)
    reasons: list[dict] = []
    since = timezone.now() - timedelta(days=policy.risk_window_days)
    recent = ReturnRequest.objects.filter(
        merchant_id=return_request.merchant_id,
        customer_id=return_request.customer_id,
        submitted_at__gte=since,
        status__in=HOLDING_STATUSES,
    )
    if policy.risk_max_returns is not None:
        count = recent.count()
        if count > policy.risk_max_returns:
            reasons.append({"code": "return_count", "count": count, "limit": policy.risk_max_returns})
    if policy.risk_max_value is not None:
        value = ReturnLine.objects.filter(return_request__in=recent).aggregate(
            total=Sum(F("quantity") * F("unit_refund_amount"))
        )["total"] or Decimal("0")
        if value > policy.risk_max_value:
            reasons.append({"code": "return_value", "value": str(value), "limit": str(policy.risk_max_value)})
    hashes = set(
        Attachment.objects.filter(ticket_id=return_request.ticket_id, uploaded_by_customer__isnull=False).values_list(
            "sha256", flat=True
        )
    )
    if hashes:
        earlier = sorted(
            set(
                Attachment.objects.filter(
                    merchant_id=return_request.merchant_id,
                    sha256__in=hashes,
                    uploaded_by_customer__isnull=False,
                    ticket__return_request__isnull=False,
                )
                .exclude(ticket_id=return_request.ticket_id)
                .values_list("ticket__number", flat=True)
            )
        )
        if earlier:
            reasons.append({"code": "repeated_photo", "tickets": earlier})
    return reasons


# --- quick refund -------------------------------------------------------------------------------


def customer_is_trusted(return_request: ReturnRequest, *, policy: ReturnPolicy) -> bool:
    """Trusted by tier, or by history: enough completed returns and none ever flagged or left rejected."""
    customer = return_request.customer
    if customer.tier in policy.trusted_customer_tiers:
        return True
    if not policy.trusted_after_completed_returns:
        return False
    others = ReturnRequest.objects.filter(merchant_id=return_request.merchant_id, customer_id=customer.pk).exclude(
        pk=return_request.pk
    )
    completed = others.filter(status=ReturnStatus.COMPLETED).count()
    if completed < policy.trusted_after_completed_returns:
        return False
    return not others.filter(status=ReturnStatus.REJECTED).exists() and not others.exclude(review_reasons=[]).exists()


def quick_refund_eligible(return_request: ReturnRequest) -> bool:
    """Whether to refund as soon as the parcel is on its way rather than after inspection.

    Every line's promised terms allow it (the matching rule's quick-refund flag), the request is a
    refund or store credit that was never flagged nor already quick-refunded, its total is within
    the merchant's limit, and the customer is trusted.
    """
    if return_request.quick_refund_at is not None or return_request.review_reasons:
        return False
    if return_request.resolution not in QUICK_REFUND_RESOLUTIONS:
        return False
    lines = list(return_request.lines.all())
    if not lines or not all(
        return_request.terms.get(str(line.order_line_id), {}).get("quick_refund") for line in lines
    ):
        return False
    policy = policy_for(return_request.merchant_id)
    total = sum((line.refund_amount for line in lines), Decimal("0"))
    if total > policy.quick_refund_max_amount:
        return False
    return customer_is_trusted(return_request, policy=policy)


# --- the settlement hook ------------------------------------------------------------------------


def settlement_hook(name: str) -> Callable | None:
    """The ledger's function ``name``, or None while the ledger does not provide it."""
    try:
        module = importlib.import_module(SETTLEMENT_MODULE)
    except ImportError:
        return None
    return getattr(module, name, None)


def _after_commit(return_request_id: int, action: str, reason: str) -> None:
    """Run a ledger call once the transaction that decided it has committed: the ledger makes
    the payment call with no transaction open, and a failed payment never undoes the decision
    that the parcel was on its way or the deadline had passed."""
    return_request = ReturnRequest.objects.select_related("ticket").get(pk=return_request_id)
    try:
        if action == QUICK_REFUND_HOOK:
            grant, execute = settlement_hook(GRANT_HOOK), settlement_hook(EXECUTE_HOOK)
            refund = grant(
                return_request=return_request,
                actor=None,
                quick=True,
                reason=reason,
                grant_key=f"quick-refund-{return_request_id}",
            )
            execute(refund=refund)
        else:
            settlement_hook(SETTLE_HOOK)(return_request=return_request, actor=None, reason=reason)
    except ApplicationError as refusal:
        # The ledger refused (a cap, a state): staff see the return in their queue and settle it.
        logger.warning("ledger refused %s for return %s: %s", action, return_request_id, refusal.code)


def _hand_to_ledger(return_request: ReturnRequest, action: str, names: tuple[str, ...], reason: str) -> bool:
    if any(settlement_hook(name) is None for name in names):
        logger.warning("return %s: no ledger hook %s is installed; settle it by hand", return_request.pk, names)
        return False
    pk = return_request.pk
    transaction.on_commit(lambda: _after_commit(pk, action, reason), robust=True)
    return True


def quick_refund_start(return_request: ReturnRequest) -> bool:
    """Record the quick-refund decision on the (locked) request and hand the refund to the ledger
    after commit. Returns whether the ledger will take it; without the ledger the decision is
    still recorded, so inspection knows to flag rejected units against money already on its way."""
    return_request.quick_refund_at = timezone.now()
    return_request.save(update_fields=["quick_refund_at", "updated_at"])
    event_append(
        return_request.ticket,
        "return_quick_refund",
        data={"amount": str(sum((line.refund_amount for line in return_request.lines.all()), Decimal("0")))},
        public=True,
    )
    return _hand_to_ledger(return_request, QUICK_REFUND_HOOK, (GRANT_HOOK, EXECUTE_HOOK), "quick_refund")


def settlement_start(return_request: ReturnRequest, *, reason: str) -> bool:
    """Hand a (locked) request that has just become settling to the ledger, after commit."""
    return _hand_to_ledger(return_request, SETTLE_HOOK, (SETTLE_HOOK,), reason)
