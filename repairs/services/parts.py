"""Spare parts: stock received into a location, reserved for a repair, used or put back.

Stock moves under a lock of its rows (``part_stocks_lock``, in id order) and the CHECK constraints
(never negative, never more reserved than on hand) are the last guard: two technicians taking the
last part get one part and one clear refusal."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from aftersales.models import User
from repairs.locks import part_stocks_lock, repair_order_lock
from repairs.models import (
    FINAL_STATUSES,
    LineCoverage,
    LineKind,
    MovementKind,
    Part,
    PartReservation,
    PartStock,
    QuoteStatus,
    RepairLine,
    RepairOrder,
    ReservationState,
    StockLocation,
    StockMovement,
)
from repairs.roles import require_workshop
from repairs.timeline import RepairVerb
from repairs.warranty import warranty_covers
from tickets.timeline import event_append


def stock_movement_record(
    stock: PartStock,
    kind: str,
    quantity: int,
    *,
    actor: User | None,
    counterpart: StockLocation | None = None,
    note: str = "",
) -> StockMovement:
    """The movement of a locked stock row, after its change (in the caller's transaction)."""
    on_hand = PartStock.objects.values_list("on_hand", flat=True).get(pk=stock.pk)
    return StockMovement.objects.create(
        merchant_id=stock.merchant_id,
        stock=stock,
        kind=kind,
        quantity=quantity,
        on_hand_after=on_hand,
        counterpart=counterpart,
        actor=actor,
        note=note[:300],
    )


def part_stock_receive(*, location: StockLocation, part: Part, quantity: int, actor: User, note: str = "") -> PartStock:
    """Parts counted into a location (a delivery from the supplier, a van restocked)."""
    if quantity < 1:
        raise InvalidInput(_("Receive at least one."), code="invalid_quantity", extra={"field": "quantity"})
    if location.merchant_id != part.merchant_id:
        raise InvalidInput(_("Unknown part."), code="unknown_part")
    require_workshop(actor, location.merchant_id)
    with transaction.atomic():
        stock, _created = PartStock.objects.get_or_create(
            merchant_id=location.merchant_id, location=location, part=part
        )
        (stock,) = part_stocks_lock([stock.pk])
        PartStock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + quantity)
        stock_movement_record(stock, MovementKind.RECEIVED, quantity, actor=actor, note=note)
        stock.refresh_from_db()
    return stock


def _check_open(repair_order: RepairOrder) -> None:
    if repair_order.status in FINAL_STATUSES:
        raise TransitionNotAllowed(_("This repair is already over."), code="repair_over")


def _short(stock: PartStock, quantity: int) -> Conflict:
    return Conflict(
        _("Only %(available)s of %(part)s left at %(location)s.")
        % {"available": stock.available, "part": stock.part, "location": stock.location},
        code="out_of_stock",
        extra={"available": stock.available},
    )


def part_reserve(*, repair_order: RepairOrder, stock: PartStock, quantity: int, actor: User) -> PartReservation:
    """Set parts aside for a planned repair: they stay on hand but nobody else can take them."""
    if quantity < 1:
        raise InvalidInput(_("Reserve at least one."), code="invalid_quantity", extra={"field": "quantity"})
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk)
        require_workshop(actor, repair_order.merchant_id)
        _check_open(repair_order)
        if stock.merchant_id != repair_order.merchant_id:
            raise InvalidInput(_("Unknown stock."), code="unknown_stock")
        (locked,) = part_stocks_lock([stock.pk])
        if locked.available < quantity:
            raise _short(locked, quantity)
        PartStock.objects.filter(pk=locked.pk).update(reserved=F("reserved") + quantity)
        reservation = PartReservation.objects.create(
            merchant_id=repair_order.merchant_id, repair_order=repair_order, stock=locked, quantity=quantity
        )
        event_append(
            repair_order.ticket,
            RepairVerb.PARTS_RESERVED,
            actor_user=actor,
            data={"part": locked.part.part_number, "quantity": quantity, "location": locked.location.name},
        )
    return reservation


def _part_line(repair_order: RepairOrder, part: Part, quantity: int, coverage: str) -> RepairLine:
    return RepairLine.objects.create(
        merchant_id=repair_order.merchant_id,
        repair_order=repair_order,
        kind=LineKind.PART,
        part=part,
        description=str(part),
        quantity=quantity,
        unit_price=part.price,
        unit_cost=part.cost,
        coverage=coverage,
    )


def part_reservation_consume(
    *,
    reservation: PartReservation,
    actor: User,
    coverage: str = LineCoverage.WARRANTY,
    serial_numbers: Iterable[str] = (),
) -> RepairLine:
    """The reserved parts were fitted: they leave the stock and become a line of the repair."""
    if coverage not in LineCoverage.values:
        raise InvalidInput(_("Pick who pays for the part."), code="invalid_coverage")
    with transaction.atomic():
        repair_order = repair_order_lock(reservation.repair_order_id)
        require_workshop(actor, repair_order.merchant_id)
        reservation = PartReservation.objects.select_for_update(of=("self",)).get(pk=reservation.pk)
        if reservation.state != ReservationState.RESERVED:
            raise TransitionNotAllowed(_("These parts were already used or put back."), code="reservation_closed")
        (stock,) = part_stocks_lock([reservation.stock_id])
        # The same rule as a part fitted from the van: what the warranty does not pay goes on the
        # customer's approved quote, or is refused before any stock moves.
        quoted = _quoted_if_not_covered(repair_order, stock.part, reservation.quantity, coverage)
        PartStock.objects.filter(pk=stock.pk).update(
            on_hand=F("on_hand") - reservation.quantity, reserved=F("reserved") - reservation.quantity
        )
        stock_movement_record(
            stock, MovementKind.USED, -reservation.quantity, actor=actor, note=repair_order.ticket.number
        )
        reservation.state = ReservationState.CONSUMED
        reservation.consumed_by = actor
        reservation.serial_numbers = [s.strip() for s in serial_numbers if s.strip()]
        reservation.save(update_fields=["state", "consumed_by", "serial_numbers", "updated_at"])
        line = quoted if quoted is not None else _part_line(repair_order, stock.part, reservation.quantity, coverage)
        event_append(
            repair_order.ticket,
            RepairVerb.PARTS_USED,
            actor_user=actor,
            data={"part": stock.part.part_number, "quantity": reservation.quantity},
        )
    return line


def part_use(
    *, repair_order: RepairOrder, stock: PartStock, quantity: int, actor: User, coverage: str = LineCoverage.WARRANTY
) -> RepairLine:
    """Parts taken and fitted at once (from a technician's van): out of stock, onto the repair."""
    if quantity < 1:
        raise InvalidInput(_("Use at least one."), code="invalid_quantity", extra={"field": "quantity"})
    if coverage not in LineCoverage.values:
        raise InvalidInput(_("Pick who pays for the part."), code="invalid_coverage")
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk)
        require_workshop(actor, repair_order.merchant_id)
        _check_open(repair_order)
        if stock.merchant_id != repair_order.merchant_id:
            raise InvalidInput(_("Unknown stock."), code="unknown_stock")
        (locked,) = part_stocks_lock([stock.pk])
        quoted = _quoted_if_not_covered(repair_order, locked.part, quantity, coverage)
        if locked.available < quantity:
            raise _short(locked, quantity)
        PartStock.objects.filter(pk=locked.pk).update(on_hand=F("on_hand") - quantity)
        stock_movement_record(locked, MovementKind.USED, -quantity, actor=actor, note=repair_order.ticket.number)
        line = quoted if quoted is not None else _part_line(repair_order, locked.part, quantity, coverage)
        event_append(
            repair_order.ticket,
            RepairVerb.PARTS_USED,
            actor_user=actor,
            data={
                "part": locked.part.part_number,
                "quantity": quantity,
                "location": locked.location.name,
                "coverage": line.coverage,
            },
        )
    return line


def _quoted_if_not_covered(repair_order: RepairOrder, part: Part, quantity: int, coverage: str) -> RepairLine | None:
    """The approved quote's line a fitted part goes on when the warranty does not pay for it, None
    when it does (or another payer was picked); refused when no approved quote lists it.

    A repair with no eligibility snapshot (made before triage recorded one) keeps the warranty
    line; one whose snapshot says the warranty does not pay needs the quote, and that quote's line
    is the line (fitting the part adds no second one)."""
    snapshot = repair_order.eligibility or {}
    if (
        coverage == LineCoverage.WARRANTY
        and (snapshot.get("coverages") or snapshot.get("voided_by_diagnosis"))
        and not warranty_covers(snapshot, repair_order.legal_floor or {}, LineKind.PART, part.component)
    ):
        return _quoted_part_line(repair_order, part, quantity)
    return None


def _quoted_part_line(repair_order: RepairOrder, part: Part, quantity: int) -> RepairLine:
    line = (
        RepairLine.objects.filter(
            repair_order=repair_order,
            part=part,
            coverage=LineCoverage.CUSTOMER,
            quote__status=QuoteStatus.APPROVED,
            quantity__gte=quantity,
        )
        .order_by("pk")
        .first()
    )
    if line is None:
        raise TransitionNotAllowed(
            _("The warranty does not cover this part: it goes on a quote the customer approves first."),
            code="part_not_covered",
        )
    return line


def reservations_release(reservations: "QuerySet[PartReservation]") -> int:
    """Put reserved parts back (inside the caller's transaction, after its repair lock)."""
    locked = list(reservations.select_for_update(of=("self",)).filter(state=ReservationState.RESERVED).order_by("pk"))
    part_stocks_lock({r.stock_id for r in locked})
    for reservation in locked:
        PartStock.objects.filter(pk=reservation.stock_id).update(reserved=F("reserved") - reservation.quantity)
    PartReservation.objects.filter(pk__in=[r.pk for r in locked]).update(state=ReservationState.RELEASED)
    return len(locked)


def part_reservation_release(*, reservation: PartReservation, actor: User) -> PartReservation:
    """Parts that were not needed go back to stock."""
    with transaction.atomic():
        repair_order = repair_order_lock(reservation.repair_order_id)
        require_workshop(actor, repair_order.merchant_id)
        released = reservations_release(PartReservation.objects.filter(pk=reservation.pk))
        if not released:
            raise TransitionNotAllowed(_("These parts were already used or put back."), code="reservation_closed")
        event_append(
            repair_order.ticket, RepairVerb.PARTS_RELEASED, actor_user=actor, data={"reservation": reservation.pk}
        )
        reservation.refresh_from_db()
    return reservation
