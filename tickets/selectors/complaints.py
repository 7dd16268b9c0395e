"""Every read of complaint handling that pages, the API and the report share; each starts from a
merchant or from a ticket already read through one."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, Prefetch, QuerySet
from django.db.models.functions import Coalesce

from aftersales.models import Merchant, Order, Store
from tickets.models import (
    Compensation,
    Complaint,
    ComplaintCategory,
    ComplaintEscalation,
    RegulatorCase,
    Ticket,
    TicketKind,
)


def complaint_of_ticket(ticket: Ticket) -> Complaint | None:
    """The complaint behind the ticket with its offers, escalations and regulator cases (four
    queries), or None; no query for a ticket of another kind."""
    if ticket.kind != TicketKind.COMPLAINT:
        return None
    return (
        Complaint.objects.filter(ticket_id=ticket.pk, merchant_id=ticket.merchant_id)
        .select_related("responsibility_decided_by")
        .prefetch_related(
            Prefetch(
                "compensations",
                queryset=Compensation.objects.select_related("proposed_by", "approved_by").order_by("created_at", "id"),
            ),
            Prefetch("regulator_cases", queryset=RegulatorCase.objects.order_by("created_at", "id")),
            Prefetch("escalations", queryset=ComplaintEscalation.objects.order_by("created_at", "id")),
        )
        .first()
    )


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
