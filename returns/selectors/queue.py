"""The staff queue of returns: filters, search, keyset pages, and a return found by its number."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)

from aftersales.models import Customer, Membership
from aftersales.phones import try_normalize_phone
from returns.models import (
    ReturnLine,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
)
from returns.selectors.visibility import RETURNS_ORDERING, returns_visible_to, with_line_totals

RETURNS_PAGE_SIZE = 50


# The queue's default: the returns whose next move is the merchant's.
STAFF_STATUSES = (
    ReturnStatus.SUBMITTED,
    ReturnStatus.NEEDS_REVIEW,
    ReturnStatus.ESCALATED,
    ReturnStatus.RECEIVED,
    ReturnStatus.ACTION_REQUIRED,
)


# The queue's filter for returns whose rejected units still wait for their parcel back.
TO_SEND_BACK = "to_send_back"


@dataclass(frozen=True)
class ReturnFilters:
    # "" means the statuses waiting on staff; "all" means every status; TO_SEND_BACK, the returns
    # whose rejected units are still to be sent back, whatever their status
    status: str = ""
    resolution: str = ""
    q: str = ""


@dataclass(frozen=True)
class ReturnKey:
    """Where a return stands in the queue's order; a page starts strictly after or before one."""

    submitted_at: datetime
    id: int

    @classmethod
    def of(cls, return_request: ReturnRequest) -> "ReturnKey":
        return cls(submitted_at=return_request.submitted_at, id=return_request.pk)


@dataclass(frozen=True)
class ReturnPage:
    returns: list[ReturnRequest]
    next_key: ReturnKey | None  # set when a later page exists
    previous_key: ReturnKey | None  # set when an earlier page exists


def _search(membership: Membership, q: str) -> Q:
    """A ticket number, an order number, or a customer's e-mail or phone."""
    phones = {q}
    normalized = try_normalize_phone(q)
    if normalized:
        phones.add(normalized)
    customer_ids = (
        Customer.objects.filter(merchant_id=membership.merchant_id)
        .filter(Q(email=q.lower()) | Q(phone__in=phones))
        .values("pk")[:200]
    )
    return Q(ticket__number=q.upper()) | Q(order__external_number=q) | Q(customer_id__in=customer_ids)


def rejected_units_unsent() -> Exists:
    """For a query of returns: units inspection rejected still wait for their parcel back."""
    return Exists(
        ReturnShipment.objects.filter(
            return_request_id=OuterRef("pk"), direction=ShipmentDirection.TO_CUSTOMER, shipped_at__isnull=True
        )
    )


def return_queue(*, membership: Membership, filters: ReturnFilters) -> QuerySet[ReturnRequest]:
    """The queue's rows, each with ``to_send_back``: units inspection rejected wait for their
    parcel back to the customer."""
    returns = (
        returns_visible_to(membership)
        .select_related("ticket", "customer", "order")
        .annotate(to_send_back=rejected_units_unsent())
    )
    if filters.status == "all":
        pass
    elif filters.status == TO_SEND_BACK:
        returns = returns.filter(to_send_back=True)
    elif filters.status:
        returns = returns.filter(status=filters.status)
    else:
        returns = returns.filter(status__in=STAFF_STATUSES)
    if filters.resolution:
        returns = returns.filter(resolution=filters.resolution)
    q = filters.q.strip()
    if q:
        returns = returns.filter(_search(membership, q))
    return with_line_totals(returns).order_by(*RETURNS_ORDERING)


def _after(key: ReturnKey) -> Q:
    # RETURNS_ORDERING is (-submitted_at, -id): "after" is older, or the same instant and a lower id.
    return Q(submitted_at__lt=key.submitted_at) | Q(submitted_at=key.submitted_at, id__lt=key.id)


def _before(key: ReturnKey) -> Q:
    return Q(submitted_at__gt=key.submitted_at) | Q(submitted_at=key.submitted_at, id__gt=key.id)


def return_queue_page(
    *,
    membership: Membership,
    filters: ReturnFilters,
    after: ReturnKey | None = None,
    before: ReturnKey | None = None,
    size: int = RETURNS_PAGE_SIZE,
) -> ReturnPage:
    """A page of the returns queue by keyset, never OFFSET; one row more is read to learn whether
    another page follows."""
    returns = return_queue(membership=membership, filters=filters)
    if before is not None:
        # Walk backwards in the reversed order, then turn the rows round again.
        rows = list(returns.filter(_before(before)).order_by("submitted_at", "id")[: size + 1])
        has_earlier = len(rows) > size
        rows = rows[:size][::-1]
        return ReturnPage(
            returns=rows,
            next_key=ReturnKey.of(rows[-1]) if rows else None,
            previous_key=ReturnKey.of(rows[0]) if rows and has_earlier else None,
        )
    if after is not None:
        returns = returns.filter(_after(after))
    rows = list(returns[: size + 1])
    has_later = len(rows) > size
    rows = rows[:size]
    return ReturnPage(
        returns=rows,
        next_key=ReturnKey.of(rows[-1]) if has_later else None,
        previous_key=ReturnKey.of(rows[0]) if rows and after is not None else None,
    )


def return_by_number(*, membership: Membership, number: str) -> ReturnRequest | None:
    """The return of the ticket numbered ``number``, with its lines, or None if this staff member
    may not see it (another merchant's, a technician, no such number)."""
    lines = ReturnLine.objects.select_related("order_line__product", "inspection", "exchange_product").order_by("id")
    return (
        returns_visible_to(membership)
        .select_related("ticket", "customer", "order", "order__store", "reason")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .filter(ticket__number=number.strip().upper())
        .first()
    )


def returns_numbered(*, membership: Membership, ids: list[int]) -> dict[int, str]:
    """The ticket numbers of the returns among ``ids`` this staff member may see, by return id."""
    return dict(returns_visible_to(membership).filter(pk__in=ids).values_list("pk", "ticket__number"))
