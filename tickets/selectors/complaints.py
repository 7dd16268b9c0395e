"""Every read of complaint handling that pages, the API and the report share; each starts from a
merchant or from a ticket already read through one."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, QuerySet, Sum
from django.db.models.functions import Coalesce

from aftersales.models import Merchant, Order, Store, User
from tickets.models import (
    Compensation,
    CompensationStatus,
    Complaint,
    ComplaintCategory,
    ComplaintEscalation,
    RegulatorCase,
    Ticket,
    TicketKind,
)
from tickets.selectors.rows import instances, prefetched, rows_array

# The people an offer names (proposed by, approved by), as the box and the API show them.
_PERSON_COLUMNS = ("id", "username", "first_name", "last_name")
_OFFER_PEOPLE = {"proposed_by": (User, _PERSON_COLUMNS), "approved_by": (User, _PERSON_COLUMNS)}


def complaint_of_ticket(ticket: Ticket) -> Complaint | None:
    """The complaint behind the ticket with its offers (and who proposed and approved them),
    escalations and regulator cases, in one query (the lists come as JSON rows beside it, read
    back as the instances ``prefetch_related`` would give), or None; no query for a ticket of
    another kind."""
    if ticket.kind != TicketKind.COMPLAINT:
        return None
    complaint = (
        Complaint.objects.filter(ticket_id=ticket.pk, merchant_id=ticket.merchant_id)
        .select_related("responsibility_decided_by")
        .annotate(
            page_compensations=rows_array(
                Compensation.objects.filter(complaint_id=OuterRef("pk")).order_by("created_at", "id"),
                related=_OFFER_PEOPLE,
            ),
            page_regulator_cases=rows_array(
                RegulatorCase.objects.filter(complaint_id=OuterRef("pk")).order_by("created_at", "id")
            ),
            page_escalations=rows_array(
                ComplaintEscalation.objects.filter(complaint_id=OuterRef("pk")).order_by("created_at", "id")
            ),
        )
        .first()
    )
    if complaint is None:
        return None
    page: Any = complaint  # the columns annotated above
    prefetched(complaint, "compensations", instances(Compensation, page.page_compensations, related=_OFFER_PEOPLE))
    prefetched(complaint, "regulator_cases", instances(RegulatorCase, page.page_regulator_cases))
    prefetched(complaint, "escalations", instances(ComplaintEscalation, page.page_escalations))
    return complaint


def compensation_of(merchant: Merchant, pk: int) -> Compensation | None:
    return Compensation.objects.filter(merchant=merchant, pk=pk).select_related("complaint__ticket").first()


def compensation_for_customer(*, ticket: Ticket, pk: int) -> Compensation | None:
    return Compensation.objects.filter(merchant_id=ticket.merchant_id, complaint__ticket=ticket, pk=pk).first()


def regulator_case_of(merchant: Merchant, pk: int) -> RegulatorCase | None:
    return RegulatorCase.objects.filter(merchant=merchant, pk=pk).select_related("complaint__ticket").first()


@dataclass(frozen=True)
class ComplaintRateRow:
    store_id: int | None
    store_name: str
    category: str  # "" while the complaint is not classified
    category_label: str
    complaints: int
    orders: int

    @property
    def per_thousand_orders(self) -> Decimal | None:
        if not self.orders:
            return None
        return (Decimal(self.complaints) * 1000 / self.orders).quantize(Decimal("0.01"))


def complaint_rate(*, merchant: Merchant, start: datetime, end: datetime) -> list[ComplaintRateRow]:
    """Complaints opened in [start, end) per 1,000 orders placed in it, by store and category:
    two grouped queries, whatever the number of complaints."""
    complaints: QuerySet[Ticket] = Ticket.objects.filter(
        merchant=merchant, kind=TicketKind.COMPLAINT, created_at__gte=start, created_at__lt=end
    )
    counted = (
        complaints.annotate(store_key=Coalesce("store_id", "order__store_id"), category_key=F("complaint__category"))
        .values("store_key", "category_key")
        .annotate(n=Count("pk"))
        .order_by()
    )
    orders = dict(
        Order.objects.filter(merchant=merchant, placed_at__gte=start, placed_at__lt=end)
        .values("store_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("store_id", "n")
    )
    names = dict(Store.objects.filter(merchant=merchant).values_list("pk", "name"))
    labels = dict(ComplaintCategory.choices)
    rows = [
        ComplaintRateRow(
            store_id=row["store_key"],
            store_name=names.get(row["store_key"], ""),
            category=row["category_key"] or "",
            category_label=str(labels.get(row["category_key"], "")),
            complaints=row["n"],
            orders=orders.get(row["store_key"], 0),
        )
        for row in counted
    ]
    return sorted(rows, key=lambda r: (r.store_name, r.store_id or 0, -(r.per_thousand_orders or 0), r.category))


def complaint_totals_by_store(rows: list[ComplaintRateRow]) -> list[ComplaintRateRow]:
    """The rows summed per store (all categories)."""
    by_store: dict[int | None, ComplaintRateRow] = {}
    for row in rows:
        seen = by_store.get(row.store_id)
        by_store[row.store_id] = ComplaintRateRow(
            store_id=row.store_id,
            store_name=row.store_name,
            category="",
            category_label="",
            complaints=row.complaints + (seen.complaints if seen else 0),
            orders=row.orders,
        )
    return sorted(by_store.values(), key=lambda r: (r.store_name, r.store_id or 0))


@dataclass(frozen=True)
class CompensationTotal:
    """Compensation granted in a period that stands at ``status`` (paid, payment under way or
    payment failed), in one currency."""

    status: str
    status_label: str
    currency: str
    count: int
    amount: Decimal


# What the report shows, in this order: paid apart from what is granted but not (yet) paid.
COMPENSATION_REPORTED = (
    CompensationStatus.PAID,
    CompensationStatus.GRANTED,
    CompensationStatus.PAYMENT_FAILED,
)


def compensation_totals(*, merchant: Merchant, start: datetime, end: datetime) -> list[CompensationTotal]:
    """Compensation granted in [start, end), counted and summed by where its payment stands and
    currency: paid apart from granted-but-unpaid (under way, failed); one grouped query. An offer
    only counts once it is granted: offered, accepted or withdrawn ones are not money owed."""
    grouped = (
        Compensation.objects.filter(
            merchant=merchant, granted_at__gte=start, granted_at__lt=end, status__in=COMPENSATION_REPORTED
        )
        .values("status", "currency")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    order: dict[str, int] = {status: position for position, status in enumerate(COMPENSATION_REPORTED)}
    rows = [
        CompensationTotal(
            status=row["status"],
            status_label=str(CompensationStatus(row["status"]).label),
            currency=row["currency"],
            count=row["n"],
            amount=row["total"],
        )
        for row in grouped
    ]
    return sorted(rows, key=lambda row: (order[row.status], row.currency))
