"""The repairs a page, the API or a task may read, always starting from the request's merchant: a
technician sees only the repairs assigned to them."""

from collections.abc import Mapping, Sequence

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from aftersales.models import Customer, Membership, Merchant, OrderLine, User
from repairs.models import (
    DiagnosisCode,
    Part,
    PartReservation,
    PartStock,
    RepairLine,
    RepairOrder,
    RepairQuote,
    ServiceCentre,
    Visit,
    VisitPhoto,
    VisitStatus,
    WarrantyRegistration,
)
from tickets.models import Ticket


def repairs_visible_to(membership: Membership) -> QuerySet[RepairOrder]:
    repairs = RepairOrder.objects.filter(merchant_id=membership.merchant_id)
    if membership.role == Membership.Role.TECHNICIAN:
        repairs = repairs.filter(ticket__assignee_id=membership.user_id)
    return repairs


def visit_signature_of(membership: Membership, visit_id: int) -> Visit | None:
    """The visit whose customer's signature the member may see: a visit of a repair visible to
    them (their merchant's; a technician's own) that has a signature; otherwise None."""
    return (
        Visit.objects.filter(merchant_id=membership.merchant_id, pk=visit_id, repair__in=repairs_visible_to(membership))
        .exclude(signature="")
        .first()
    )


def repairs_for_api(*, merchant: Merchant | None, membership: Membership | None = None) -> QuerySet[RepairOrder]:
    """Every repair of an API key's merchant, or what the staff member of the session may see."""
    if merchant is None:
        return RepairOrder.objects.none()
    if membership is None:
        repairs = RepairOrder.objects.filter(merchant=merchant)
    elif membership.merchant_id == merchant.pk:
        repairs = repairs_visible_to(membership)
    else:
        return RepairOrder.objects.none()
    return repairs.select_related("ticket", "customer", "product", "service_centre", "diagnosis_code")


def repair_for_api(*, merchant: Merchant | None, membership: Membership | None, number: str) -> RepairOrder | None:
    """One repair by its case number, with its lines, quotes and parts, in a fixed number of queries."""
    return (
        repairs_for_api(merchant=merchant, membership=membership)
        .prefetch_related(
            Prefetch("lines", queryset=RepairLine.objects.select_related("part").order_by("id")),
            Prefetch("quotes", queryset=RepairQuote.objects.order_by("id")),
            Prefetch(
                "part_reservations",
                queryset=PartReservation.objects.select_related("stock__part", "stock__location").order_by("id"),
            ),
        )
        .filter(ticket__number=number.strip().upper())
        .first()
    )


def repair_of_ticket(*, merchant_id: int, ticket_id: int) -> RepairOrder | None:
    return (
        RepairOrder.objects.filter(merchant_id=merchant_id, ticket_id=ticket_id)
        .select_related("product", "service_centre", "diagnosis_code", "registration", "settlement_return__ticket")
        .prefetch_related(
            Prefetch("lines", queryset=RepairLine.objects.select_related("part").order_by("id")),
            Prefetch("quotes", queryset=RepairQuote.objects.order_by("id")),
            Prefetch(
                "part_reservations",
                queryset=PartReservation.objects.select_related("stock__part", "stock__location").order_by("id"),
            ),
            Prefetch(
                "visits",
                queryset=Visit.objects.select_related("technician__user")
                .prefetch_related(
                    Prefetch(
                        "photos", queryset=VisitPhoto.objects.select_related("attachment").order_by("-phase", "pk")
                    )
                )
                .order_by("window_start", "pk"),
            ),
        )
        .first()
    )


def service_centres_of(merchant: Merchant) -> QuerySet[ServiceCentre]:
    return ServiceCentre.objects.filter(merchant=merchant, is_active=True).order_by("name")


def order_line_of(merchant: Merchant, order_line_id: int | None) -> OrderLine | None:
    if order_line_id is None:
        return None
    return (
        OrderLine.objects.filter(merchant=merchant, pk=order_line_id)
        .select_related("order", "order__customer", "product")
        .first()
    )


def registration_by_serial(merchant: Merchant, serial_number: str) -> WarrantyRegistration | None:
    serial = (serial_number or "").strip()
    if not serial:
        return None
    return (
        WarrantyRegistration.objects.filter(merchant=merchant, serial_number=serial)
        .select_related("product", "customer", "order_line__order")
        .first()
    )


def service_centre_of(merchant: Merchant, centre_id: int | None) -> ServiceCentre | None:
    if centre_id is None:
        return None
    return service_centres_of(merchant).filter(pk=centre_id).first()


def diagnosis_code_by_code(merchant: Merchant, code: str) -> DiagnosisCode | None:
    return DiagnosisCode.objects.filter(merchant=merchant, code=code.strip(), is_active=True).first()


def diagnosis_codes_for(repair_order: RepairOrder) -> QuerySet[DiagnosisCode]:
    return DiagnosisCode.objects.filter(
        Q(category="") | Q(category=repair_order.product.category), merchant_id=repair_order.merchant_id, is_active=True
    ).order_by("code")


def part_of(merchant: Merchant, part_id: int | None) -> Part | None:
    if part_id is None:
        return None
    return Part.objects.filter(merchant=merchant, pk=part_id, is_active=True).first()


PART_SEARCH_LIMIT = 20


def parts_for_quote(*, merchant_id: int, product_id: int, query: str = "") -> QuerySet[Part]:
    """The merchant's active parts a quote may list, those fitting the repair's product first
    (``fits``), matching ``query`` in the part number or name; at most ``PART_SEARCH_LIMIT``, so a
    catalogue of ten thousand parts answers with one short list."""
    fits = Part.compatible_products.through.objects.filter(part_id=OuterRef("pk"), product_id=product_id)
    parts = Part.objects.filter(merchant_id=merchant_id, is_active=True).annotate(fits=Exists(fits))
    query = query.strip()
    if query:
        parts = parts.filter(Q(part_number__icontains=query) | Q(name__icontains=query))
    return parts.order_by("-fits", "part_number")[:PART_SEARCH_LIMIT]


def part_by_number(*, merchant_id: int, part_number: str) -> Part | None:
    return Part.objects.filter(merchant_id=merchant_id, part_number=part_number.strip(), is_active=True).first()


def registrations_of_customer(customer: Customer) -> QuerySet[WarrantyRegistration]:
    return (
        WarrantyRegistration.objects.filter(merchant_id=customer.merchant_id, customer=customer)
        .select_related("product")
        .order_by("-created_at", "-pk")
    )


def quote_for_link(*, merchant: Merchant, quote_id: int) -> RepairQuote | None:
    """The quote a signed link names, of the request's merchant, with its repair and customer."""
    return (
        RepairQuote.objects.filter(merchant=merchant, pk=quote_id)
        .select_related("repair_order__customer", "repair_order__ticket", "repair_order__product")
        .first()
    )


def part_stock_of(merchant: Merchant, stock_id: int) -> PartStock | None:
    return PartStock.objects.filter(merchant=merchant, pk=stock_id).select_related("part", "location").first()


def served_by_repair(ticket: Ticket) -> Mapping[str, User | None]:
    """Who served the case on repairs' side: the technician of its latest completed on-site visit
    (the one the customer saw last), or nobody for a case without one. Read when the case resolves
    (feedback attributes its survey, and asks after the technician, to this person)."""
    visit = (
        Visit.objects.filter(
            merchant_id=ticket.merchant_id,
            repair__ticket_id=ticket.pk,
            status=VisitStatus.COMPLETED,
            technician__isnull=False,
        )
        .select_related("technician__user")
        .order_by(F("checked_out_at").desc(nulls_last=True), "-pk")
        .first()
    )
    if visit is None or visit.technician is None:
        return {}
    return {"technician": visit.technician.user}


def visit_photos_of(merchant: Merchant, visit_ids: Sequence[int]) -> dict[int, list[VisitPhoto]]:
    """The photos of these visits, by visit, before ones first."""
    photos: dict[int, list[VisitPhoto]] = {}
    if not visit_ids:
        return photos
    for photo in VisitPhoto.objects.filter(merchant=merchant, visit_id__in=list(visit_ids)).order_by(
        "visit_id", "-phase", "pk"
    ):
        photos.setdefault(photo.visit_id, []).append(photo)
    return photos
