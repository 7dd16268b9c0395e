"""Rules that decide without a person, reading what they need and writing nothing: the risk flag
that holds a request for review, and whether a return is refunded quickly while its parcel
travels. The services act on their answers (``returns.services.requests``, ``.refunds``)."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, F, QuerySet, Subquery, Sum
from django.utils import timezone

from aftersales.compiled import CompiledRead
from returns.models import HOLDING_STATUSES, Resolution, ReturnLine, ReturnPolicy, ReturnRequest, ReturnStatus
from returns.selectors import return_policy_in_force
from tickets.models import Attachment

QUICK_REFUND_RESOLUTIONS = (Resolution.REFUND, Resolution.STORE_CREDIT)


def policy_for(merchant_id: int) -> ReturnPolicy:
    """The merchant's policy; without one, an unsaved policy with the defaults."""
    policy, _rules = return_policy_in_force(merchant_id=merchant_id)
    return policy or ReturnPolicy(merchant_id=merchant_id)


# --- the risk flag ------------------------------------------------------------------------------


REPEATED_PHOTO_EVIDENCE = 5


def _risk_figures_query(
    *,
    shape: tuple[bool, bool],
    merchant_id: int,
    customer_id: int,
    ticket_id: int,
    return_request_id: int,
    since: datetime,
) -> "QuerySet[ReturnRequest]":
    """The figures the risk rules need, in one statement: each a subquery of the request's own
    row. ``shape``: whether the policy counts returns, and whether it sums their value."""
    counts_returns, sums_value = shape
    recent = ReturnRequest.objects.filter(
        merchant_id=merchant_id,
        customer_id=customer_id,
        submitted_at__gte=since,
        status__in=HOLDING_STATUSES,
    ).order_by()
    photos = Attachment.objects.filter(ticket_id=ticket_id, uploaded_by_customer__isnull=False)
    # The first few earlier returns are evidence enough; a stock photo reused across thousands of
    # returns must not make each new one read them all.
    earlier = (
        Attachment.objects.filter(
            merchant_id=merchant_id,
            sha256__in=photos.values("sha256"),
            uploaded_by_customer__isnull=False,
            ticket__return_request__isnull=False,
        )
        .exclude(ticket_id=ticket_id)
        .order_by("ticket__number")
        .values_list("ticket__number", flat=True)
        .distinct()[:REPEATED_PHOTO_EVIDENCE]
    )
    figures: dict[str, Any] = {"repeated": ArraySubquery(earlier)}
    if counts_returns:
        figures["count"] = Subquery(recent.values("customer_id").annotate(count=Count("pk")).values("count"))
    if sums_value:
        figures["value"] = Subquery(
            ReturnLine.objects.filter(return_request__in=recent)
            .order_by()
            .values("return_request__customer_id")
            .annotate(value=Sum(F("quantity") * F("unit_refund_amount")))
            .values("value")
        )
    # Its rows are dicts of the figures (``values``), read as such by ``risk_review_reasons``.
    return cast(
        "QuerySet[ReturnRequest]",
        ReturnRequest.objects.filter(merchant_id=merchant_id, pk=return_request_id)
        .annotate(**figures)
        .values(*figures)
        .order_by()[:1],
    )


# Built and compiled once per process and shape (aftersales.compiled): every submission runs it,
# and compiling its nested subqueries cost several times what PostgreSQL spends running them.
# Prepared once a database session too: planning its joins took PostgreSQL 0.4-2 ms a submission,
# more than running it (~0.1 ms with the tables analysed).
_RISK_FIGURES = CompiledRead(
    _risk_figures_query,
    params={"merchant_id": int, "customer_id": int, "ticket_id": int, "return_request_id": int, "since": datetime},
    prepared=True,
)


def risk_review_reasons(return_request: ReturnRequest, *, policy: ReturnPolicy | None = None) -> list[dict[str, Any]]:
    """Why a person should look at this request before it is approved; empty when nothing stands out.

    The customer's returns in the policy's look-back (this one included, cancelled and expired
    ones left out) against the count and value thresholds, and any photo the customer attached
    that an earlier return of this merchant already carried (same SHA-256).
    """
    policy = policy or policy_for(return_request.merchant_id)
    rows: list[Any] = _RISK_FIGURES.rows(
        shape=(policy.risk_max_returns is not None, policy.risk_max_value is not None),
        merchant_id=return_request.merchant_id,
        customer_id=return_request.customer_id,
        ticket_id=return_request.ticket_id,
        return_request_id=return_request.pk,
        since=timezone.now() - timedelta(days=policy.risk_window_days),
    )
    found: dict[str, Any] = rows[0] if rows else {}
    reasons: list[dict[str, Any]] = []
    if policy.risk_max_returns is not None:
        count = found.get("count") or 0
        if count > policy.risk_max_returns:
            reasons.append({"code": "return_count", "count": count, "limit": policy.risk_max_returns})
    if policy.risk_max_value is not None:
        value = found.get("value") or Decimal("0")
        if value > policy.risk_max_value:
            reasons.append({"code": "return_value", "value": str(value), "limit": str(policy.risk_max_value)})
    earlier_numbers = found.get("repeated") or []
    if earlier_numbers:
        reasons.append({"code": "repeated_photo", "tickets": earlier_numbers})
    return reasons


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
