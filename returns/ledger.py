"""The arithmetic of a return's money and units, with no database write and no query of its own:
what a unit refunds, which units can still be settled, and the price difference owed back on an
exchange. Services decide with it under their locks; selectors show the same numbers."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput
from aftersales.models import OrderLine
from returns.models import Refund, RefundState, ReplacementShipment, Resolution, ReturnLine, ReturnRequest, ReturnStatus

CENT = Decimal("0.01")
ZERO = Decimal("0")


def money(value: Decimal | float | str, field: str) -> Decimal:
    """An amount typed or sent, to the cent; refused when it is not a finite number."""
    try:
        amount = Decimal(value).quantize(CENT)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(_("Enter an amount."), code="invalid_amount", extra={"field": field}) from None
    if not amount.is_finite():
        raise InvalidInput(_("Enter an amount."), code="invalid_amount", extra={"field": field})
    return amount


def unit_refund(line: OrderLine, fee_percent: Decimal) -> Decimal:
    """What one unit of the order line refunds: its share of what was paid, less the restocking fee."""
    unit_paid = line.paid_amount / line.quantity
    return (unit_paid * (Decimal("100") - fee_percent) / Decimal("100")).quantize(CENT, rounding=ROUND_HALF_UP)


def settleable_units(line: ReturnLine) -> int:
    """Units of a return line that can be refunded or exchanged: what inspection accepted once the
    line was inspected, otherwise every unit of it (refund-only, keep-the-item, a quick refund,
    or a parcel refunded as requested when inspection did not happen in time)."""
    if line.quantity_accepted or line.quantity_rejected:
        return line.quantity_accepted
    return line.quantity


def difference_grant_key(shipment: ReplacementShipment) -> str:
    """The refund of the price difference of one replacement parcel: one per parcel, however often
    the parcel is recorded again."""
    return f"exchange-difference:{shipment.pk}"


def exchange_surplus_grant_key(return_request_id: int) -> str:
    """The refund of the price difference paid for replacements that are not sent: one per return,
    however often the settlement runs and whichever worker runs it."""
    return f"exchange-surplus:{return_request_id}"


@dataclass(frozen=True)
class SurplusLine:
    """The price difference paid for the replacements of one line that are not sent."""

    return_line: ReturnLine
    units: int
    amount: Decimal


def exchange_surplus_lines(
    return_request: ReturnRequest, lines: Iterable[ReturnLine], covered: Mapping[int, int]
) -> list[SurplusLine]:
    """What the customer paid on top for dearer variants and gets back: for each line of a dearer
    variant, the difference per unit fixed at submission × the units asked for that no replacement
    covers (``covered``: units replaced, or still to be, per return line id). Nothing unless the
    difference was confirmed paid. Reads no row: callers pass what they have loaded."""
    if return_request.resolution != Resolution.EXCHANGE or return_request.exchange_difference_paid_at is None:
        return []
    owed = []
    for line in lines:
        per_unit = line.price_difference_per_unit
        if per_unit is None or per_unit <= 0:
            continue
        units = line.quantity - max(covered.get(line.pk, 0), 0)
        if units > 0:
            owed.append(SurplusLine(return_line=line, units=units, amount=per_unit * units))
    return owed


@dataclass(frozen=True)
class ExchangeSurplus:
    """For pages and the API: the price difference paid for replacements that are not sent."""

    units: int
    amount: Decimal
    refund: Refund | None  # None: not granted yet; it is once the exchange settles


def exchange_surplus_of(
    return_request: ReturnRequest, lines: Iterable[ReturnLine], refunds: Iterable[Refund]
) -> ExchangeSurplus | None:
    """The surplus of an exchange as it stands, from rows the caller loaded (``refunds`` with
    their lines): the refund once granted, else what is owed so far — the units inspection did
    not accept or that were refunded instead (every unit of a return that expired) — or None.
    A unit still to be replaced is not counted; one refunded instead counts unless its refund is
    voided, as ``exchange_surplus_grant`` will count them."""
    if return_request.resolution != Resolution.EXCHANGE or return_request.exchange_difference_paid_at is None:
        return None
    lines, refunds = list(lines), list(refunds)
    grant_key = exchange_surplus_grant_key(return_request.pk)
    refund = next((refund for refund in refunds if refund.grant_key == grant_key), None)
    refunded: dict[int, int] = {}
    for other in refunds:
        if other.state != RefundState.VOIDED:
            for line in other.lines.all():
                if line.return_line_id is not None:  # always, on a return's own refund
                    refunded[line.return_line_id] = refunded.get(line.return_line_id, 0) + line.quantity
    expired = return_request.status == ReturnStatus.EXPIRED
    covered = {line.pk: 0 if expired else settleable_units(line) - refunded.get(line.pk, 0) for line in lines}
    owed = exchange_surplus_lines(return_request, lines, covered)
    if refund is None and not owed:
        return None
    return ExchangeSurplus(
        units=sum(item.units for item in owed),
        amount=refund.amount if refund is not None else sum((item.amount for item in owed), ZERO),
        refund=refund,
    )
