"""The querysets that lock repairs' rows, so every service takes its locks the same way.

Dispatch's lock order: the repair, then the technicians (in id order), then the visits (in id
order). Every lock is taken on the named table only (``of=("self",)``); rows read beside it
through ``select_related`` are not locked.
"""

from collections.abc import Iterable

from repairs.models import RepairOrder, TechnicianProfile, Visit


def repair_lock(repair_id: int) -> RepairOrder:
    return (
        RepairOrder.objects.select_related("ticket", "merchant", "product", "customer")
        .select_for_update(of=("self",))
        .get(pk=repair_id)
    )


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
