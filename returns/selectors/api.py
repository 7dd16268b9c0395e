"""Reads of the returns API: the lists and details a token's merchant (and role) may see."""

from django.db.models import (
    Prefetch,
    QuerySet,
)

from aftersales.models import Membership, Merchant
from returns.models import (
    CarrierClaim,
    Refund,
    ReplacementShipment,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnShipment,
)
from returns.selectors.portal import return_policy_in_force
from returns.selectors.visibility import returns_visible_to


def return_policy_of(*, merchant: Merchant) -> ReturnPolicy | None:
    policy, _rules = return_policy_in_force(merchant_id=merchant.pk)
    return policy


def returns_for_api(*, merchant: Merchant | None, membership: Membership | None = None) -> QuerySet[ReturnRequest]:
    """What an API request may read: every return of an API key's merchant, or, for a staff
    session, what that staff member may see (a technician: none). Brings what a row shows."""
    if merchant is None:
        return ReturnRequest.objects.none()
    if membership is None:
        returns = ReturnRequest.objects.filter(merchant=merchant)
    elif membership.merchant_id == merchant.pk:
        returns = returns_visible_to(membership)
    else:
        return ReturnRequest.objects.none()
    return returns.select_related("ticket", "order", "customer", "reason")


def return_for_api(*, merchant: Merchant | None, membership: Membership | None, number: str) -> ReturnRequest | None:
    """One return by its case number, with everything its detail shows, in a fixed number of queries."""
    lines = ReturnLine.objects.select_related("order_line", "inspection").order_by("id")
    refunds = Refund.objects.select_related("execution").prefetch_related("lines").order_by("id")
    return (
        returns_for_api(merchant=merchant, membership=membership)
        .prefetch_related(
            Prefetch("lines", queryset=lines),
            Prefetch("shipments", queryset=ReturnShipment.objects.order_by("id")),
            Prefetch("refunds", queryset=refunds),
            Prefetch("replacements", queryset=ReplacementShipment.objects.order_by("id")),
            Prefetch("carrier_claims", queryset=CarrierClaim.objects.order_by("-opened_at", "-id")),
        )
        .filter(ticket__number=number.strip().upper())
        .first()
    )


def carrier_claims_for_api(
    *, merchant: Merchant | None, membership: Membership | None = None
) -> QuerySet[CarrierClaim]:
    """The carrier claims of the returns an API request may read (``returns_for_api``)."""
    if merchant is None:
        return CarrierClaim.objects.none()
    returns = returns_for_api(merchant=merchant, membership=membership)
    return CarrierClaim.objects.filter(merchant=merchant, return_request__in=returns.values("pk")).select_related(
        "return_request__ticket"
    )


def reason_by_code(*, merchant: Merchant, code: str) -> ReturnReason | None:
    return ReturnReason.objects.filter(merchant=merchant, code=code, is_active=True).first()
