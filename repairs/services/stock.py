"""Stock kept by those who manage it: a transfer between locations (warehouse, service centre, a
technician's van) and a count that sets what is on hand. Each locks the stock rows it moves (in id
order, as every stock move does), writes a ``StockMovement`` per row changed, and leaves the CHECK
constraints (never negative, never less than reserved) as the last guard. Received stock is
``parts.part_stock_receive``."""

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput
from aftersales.models import User
from repairs.locks import part_stocks_lock
from repairs.models import MovementKind, PartStock, StockLocation
from repairs.roles import require_stock_keeper
from repairs.services.parts import stock_movement_record


def part_stock_transfer(
    *, stock: PartStock, to_location: StockLocation, quantity: int, actor: User, note: str = ""
) -> PartStock:
    """Move parts that are not promised to a repair from one location to another (a van
    restocked from the warehouse). Returns the destination's stock row."""
    if quantity < 1:
        raise InvalidInput(_("Transfer at least one."), code="invalid_quantity", extra={"field": "quantity"})
    if to_location.merchant_id != stock.merchant_id or not to_location.is_active:
        raise InvalidInput(_("Pick where the parts go."), code="unknown_location", extra={"field": "to_location"})
    if to_location.pk == stock.location_id:
        raise InvalidInput(_("Pick another location."), code="same_location", extra={"field": "to_location"})
    require_stock_keeper(actor, stock.merchant_id)
    with transaction.atomic():
        target, _created = PartStock.objects.get_or_create(
            merchant_id=stock.merchant_id, location=to_location, part_id=stock.part_id
        )
        rows = {row.pk: row for row in part_stocks_lock([stock.pk, target.pk])}
        source = rows[stock.pk]
        if source.available < quantity:
            raise Conflict(
                _("Only %(available)s of %(part)s can be moved from %(location)s (the rest is reserved or missing).")
                % {"available": source.available, "part": source.part, "location": source.location},
                code="not_enough_stock",
            )
        PartStock.objects.filter(pk=source.pk).update(on_hand=F("on_hand") - quantity)
        PartStock.objects.filter(pk=target.pk).update(on_hand=F("on_hand") + quantity)
        stock_movement_record(
            source, MovementKind.TRANSFERRED_OUT, -quantity, actor=actor, counterpart=to_location, note=note
        )
        stock_movement_record(
            rows[target.pk], MovementKind.TRANSFERRED_IN, quantity, actor=actor, counterpart=source.location, note=note
        )
        target.refresh_from_db()
    return target


def part_stock_adjust(*, stock: PartStock, counted: int, actor: User, reason: str) -> PartStock:
    """A count: what is on the shelf becomes what is on hand, with the reason (damaged, lost,
    found). Never below what is reserved for repairs."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the count differs."), code="reason_required", extra={"field": "reason"})
    if counted < 0:
        raise InvalidInput(_("A count is not negative."), code="invalid_quantity", extra={"field": "counted"})
    require_stock_keeper(actor, stock.merchant_id)
    with transaction.atomic():
        (locked,) = part_stocks_lock([stock.pk])
        if counted < locked.reserved:
            raise Conflict(
                _("%(reserved)s are reserved for repairs: release them before counting fewer.")
                % {"reserved": locked.reserved},
                code="below_reserved",
            )
        change = counted - locked.on_hand
        if change == 0:
            raise InvalidInput(_("The count is what the stock already says."), code="no_change")
        PartStock.objects.filter(pk=locked.pk).update(on_hand=counted)
        stock_movement_record(locked, MovementKind.ADJUSTED, change, actor=actor, note=reason)
        locked.refresh_from_db()
    return locked
