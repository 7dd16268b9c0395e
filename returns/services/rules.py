"""Rules that act without a person: the risk flag, the quick-refund decision, and the hook that
starts a settlement when a rule or a deadline refunds a return on its own.

The settlement itself (the refund ledger) lives in ``returns.services.refunds``; this module
only calls into it, by name, when it is there, so that returns move on their own before the
ledger is wired and the ledger can be built without touching these rules.
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.db.models import F, Sum
from django.utils import timezone

from aftersales.enqueue import enqueue_on_commit
from aftersales.exceptions import ApplicationError
from returns.models import HOLDING_STATUSES, Resolution, ReturnLine, ReturnPolicy, ReturnRequest, ReturnStatus
from returns.services.refunds import (
    exchange_surplus_refund_pay,
    refund_execute,
    refund_grant,
    return_request_settle,
)
from tickets.models import Attachment
from tickets.timeline import event_append

logger = logging.getLogger("returns.rules")

QUICK_REFUND_RESOLUTIONS = (Resolution.REFUND, Resolution.STORE_CREDIT)


def policy_for(merchant_id: int) -> ReturnPolicy:
    """The merchant's policy; without one, an unsaved policy with the defaults."""
    return ReturnPolicy.objects.filter(merchant_id=merchant_id).first() or ReturnPolicy(merchant_id=merchant_id)


# --- the risk flag ------------------------------------------------------------------------------


REPEATED_PHOTO_EVIDENCE = 5


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
    photos = Attachment.objects.filter(ticket_id=return_request.ticket_id, uploaded_by_customer__isnull=False)
    # The first few earlier returns are evidence enough; a stock photo reused across thousands of
    # returns must not make each new one read them all.
    earlier = list(
        Attachment.objects.filter(
            merchant_id=return_request.merchant_id,
            sha256__in=photos.values("sha256"),
            uploaded_by_customer__isnull=False,
            ticket__return_request__isnull=False,
        )
        .exclude(ticket_id=return_request.ticket_id)
        .order_by("ticket__number")
        .values_list("ticket__number", flat=True)
        .distinct()[:REPEATED_PHOTO_EVIDENCE]
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


# --- handing decisions to the ledger -------------------------------------------------------------


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


def settlement_run(*, return_request_id: int, reason: str) -> None:
    """Settle a return that a rule moved to settling (a task, after the deciding commit)."""
    return_request = ReturnRequest.objects.select_related("ticket").get(pk=return_request_id)
    try:
        return_request_settle(return_request=return_request, actor=None, reason=reason)
    except ApplicationError as refusal:
        logger.warning("ledger refused to settle return %s: %s", return_request_id, refusal.code)


def exchange_surplus_run(*, return_request_id: int) -> None:
    """Pay the refund of an exchange's price difference paid for replacements that are not sent
    (a task, after the granting commit). A second run finds the payment call already made."""
    return_request = ReturnRequest.objects.get(pk=return_request_id)
    try:
        exchange_surplus_refund_pay(return_request=return_request)
    except ApplicationError as refusal:
        # Voided between the grant and this run, say: the ledger shows staff where it stands.
        logger.warning("ledger refused to pay the exchange surplus of return %s: %s", return_request_id, refusal.code)


def quick_refund_start(return_request: ReturnRequest) -> None:
    """Record the quick-refund decision on the (locked) request and hand the refund to the ledger
    after commit. Inspection reads the decision to flag rejected units against money on its way."""
    return_request.quick_refund_at = timezone.now()
    return_request.save(update_fields=["quick_refund_at", "updated_at"])
    event_append(
        return_request.ticket,
        "return_quick_refund",
        data={"amount": str(sum((line.refund_amount for line in return_request.lines.all()), Decimal("0")))},
        public=True,
    )
    from returns.tasks import return_quick_refund

    pk = return_request.pk
    enqueue_on_commit(return_quick_refund, pk)


def settlement_start(return_request: ReturnRequest, *, reason: str) -> None:
    """Hand a (locked) request that has just become settling to the ledger, after commit."""
    from returns.tasks import return_settle

    pk = return_request.pk
    enqueue_on_commit(return_settle, pk, reason)
