"""The querysets that lock repairs' rows, so every service takes its locks the same way.

The lock order, the same in every service: the repair order (with its ticket when it moves), then
its open quote, then part stock rows in id order, then a registration. Dispatch: the repair, then
the technicians (in id order), then the visits (in id order). Every lock is taken on the
named table only (``of=("self",)``)."""

from collections.abc import Iterable

from repairs.models import (
    Part,
    PartStock,
    RepairOrder,
    RepairQuote,
    SupplierClaim,
    TechnicianProfile,
    Visit,
    WarrantyRegistration,
)


def repair_order_lock(repair_order_id: int, *, with_ticket: bool = False) -> RepairOrder:
    """The repair, locked, with its ticket, customer and product read beside it; ``with_ticket``
    locks the ticket in the same statement (the moves change its generic status)."""
    return (
        RepairOrder.objects.select_for_update(of=("self", "ticket") if with_ticket else ("self",))
        .select_related("ticket", "ticket__merchant", "customer", "product", "merchant")
        .get(pk=repair_order_id)
    )


def open_quote_lock(repair_order: RepairOrder) -> RepairQuote | None:
    """The quote waiting for the customer, locked, if there is one (after its repair)."""
    return RepairQuote.objects.select_for_update(of=("self",)).filter(repair_order=repair_order, status="sent").first()


def part_stocks_lock(stock_ids: Iterable[int]) -> list[PartStock]:
    """Stock rows, locked in id order: two technicians taking the last part queue here."""
    return list(
        PartStock.objects.select_for_update(of=("self",))
        .select_related("part", "location")
        .filter(pk__in=list(stock_ids))
        .order_by("pk")
    )


def registration_lock(registration_id: int) -> WarrantyRegistration:
    return WarrantyRegistration.objects.select_for_update(of=("self",)).get(pk=registration_id)


def supplier_claim_lock(claim_id: int) -> SupplierClaim:
    return SupplierClaim.objects.select_for_update(of=("self",)).select_related("repair_order__ticket").get(pk=claim_id)


def technicians_lock(technician_ids: Iterable[int]) -> list[TechnicianProfile]:
    """Booking holds the qualified technicians of a window while it counts their visits, so two
    customers racing for the last place are served one after the other."""
    return list(
        TechnicianProfile.objects.filter(pk__in=list(technician_ids)).order_by("pk").select_for_update(of=("self",))
    )


def visit_lock(visit_id: int) -> Visit:
    return (
        Visit.objects.select_related("repair", "repair__ticket", "repair__customer", "merchant", "technician")
        .select_for_update(of=("self",))
        .get(pk=visit_id)
    )


def visits_lock(visit_ids: Iterable[int]) -> list[Visit]:
    return list(
        Visit.objects.filter(pk__in=list(visit_ids))
        .select_related("repair", "repair__ticket", "repair__customer", "merchant")
        .order_by("pk")
        .select_for_update(of=("self",))
    )


def part_lock(part_id: int) -> Part:
    return Part.objects.select_for_update(of=("self",)).get(pk=part_id)
