"""Carrier claims of lost parcels as staff see them: a return's claims and the claims list."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)

from aftersales.models import Membership
from returns.models import (
    CarrierClaim,
    ClaimState,
    ReturnRequest,
)
from returns.selectors.visibility import carrier_claims_visible_to

CLAIMS_PAGE_SIZE = 50


def return_carrier_claims(*, return_request: ReturnRequest) -> list[CarrierClaim]:
    """The claims on the carrier for this return's parcel, newest first, with who opened and decided."""
    return list(
        CarrierClaim.objects.filter(merchant_id=return_request.merchant_id, return_request_id=return_request.pk)
        .select_related("opened_by", "decided_by")
        .order_by("-opened_at", "-id")
    )


def carrier_claim_of_return(*, return_request: ReturnRequest, claim_id: int) -> CarrierClaim | None:
    """One claim of a return the page already showed to this staff member, or None."""
    return CarrierClaim.objects.filter(
        merchant_id=return_request.merchant_id, return_request_id=return_request.pk, pk=claim_id
    ).first()


@dataclass(frozen=True)
class ClaimKey:
    """Where a claim stands in the list's order: open ones first, then the newest first."""

    rank: int  # 0 open, 1 decided
    opened_at: datetime
    id: int


@dataclass(frozen=True)
class ClaimTotals:
    currency: str
    claims: int
    claimed: Decimal
    recovered: Decimal


@dataclass(frozen=True)
class ClaimPage:
    claims: Sequence[CarrierClaim]
    next_key: ClaimKey | None
    totals: list[ClaimTotals]  # over every claim the filter matches, per currency


def _claims_filtered(membership: Membership, state: str) -> QuerySet[CarrierClaim]:
    claims = carrier_claims_visible_to(membership)
    return claims.filter(state=state) if state else claims


def carrier_claims_page(
    *, membership: Membership, state: str = "", after: ClaimKey | None = None, size: int | None = None
) -> ClaimPage:
    """A page of the merchant's carrier claims by keyset (open first, newest first), with the totals
    claimed and recovered over every claim the filter matches."""
    size = size or CLAIMS_PAGE_SIZE
    claims = _claims_filtered(membership, state)
    totals = [
        ClaimTotals(currency=row["currency"], claims=row["claims"], claimed=row["claimed"], recovered=row["recovered"])
        for row in claims.values("currency")
        .annotate(claims=Count("pk"), claimed=Sum("amount_claimed"), recovered=Sum("amount_recovered"))
        .order_by("currency")
    ]
    ranked = claims.annotate(
        rank=Case(When(state=ClaimState.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).select_related("return_request__ticket", "return_request__customer", "opened_by", "decided_by")
    if after is not None:
        ranked = ranked.filter(
            Q(rank__gt=after.rank)
            | Q(rank=after.rank, opened_at__lt=after.opened_at)
            | Q(rank=after.rank, opened_at=after.opened_at, id__lt=after.id)
        )
    rows = list(ranked.order_by("rank", "-opened_at", "-id")[: size + 1])
    has_later = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows else None
    return ClaimPage(
        claims=rows,
        next_key=ClaimKey(rank=last.rank, opened_at=last.opened_at, id=last.pk) if has_later and last else None,
        totals=totals,
    )
