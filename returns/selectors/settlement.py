"""What a return's settlement shows staff: the ledger of refunds, store credit and replacements,
the defaults of the settle form, the exchange with its price difference.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    Prefetch,
    Q,
    Sum,
)

from returns.ledger import ExchangeSurplus, exchange_surplus_of, settleable_units
from returns.models import (
    Refund,
    RefundExecution,
    RefundLine,
    RefundState,
    ReplacementShipment,
    ReplacementState,
    Resolution,
    Responsibility,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from returns.selectors.detail import ReturnLineShown
from returns.variants import difference_totals, paid_per_unit, variant_label

# Statuses in which a refund, a credit or a replacement may exist (a quick refund is paid in transit).
LEDGER_STATUSES = (
    ReturnStatus.AWAITING_SHIPMENT,
    ReturnStatus.IN_TRANSIT,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
    ReturnStatus.SETTLING,
    ReturnStatus.ACTION_REQUIRED,
    ReturnStatus.COMPLETED,
)


@dataclass(frozen=True)
class ReturnLedger:
    refunds: list[Refund]  # each with its lines and its execution (None for store credit)
    replacements: list[ReplacementShipment]

    def settled_units(self) -> dict[int, int]:
        """Units of each return line already refunded or replaced, as ``settled_units`` counts them."""
        settled: dict[int, int] = {}
        for refund in self.refunds:
            if refund.state == RefundState.VOIDED:
                continue
            for line in refund.lines.all():
                if line.return_line_id is not None:  # always, on a return's own refund
                    settled[line.return_line_id] = settled.get(line.return_line_id, 0) + line.quantity
        for replacement in self.replacements:
            if replacement.state != ReplacementState.LOST:
                settled[replacement.return_line_id] = settled.get(replacement.return_line_id, 0) + replacement.quantity
        return settled


def _execution_or_none(refund: Refund) -> RefundExecution | None:
    try:
        return refund.execution
    except RefundExecution.DoesNotExist:
        return None


def return_ledger(*, return_request: ReturnRequest) -> ReturnLedger:
    """The return's refunds (decision, allocations, payment call) and replacement parcels."""
    if (
        return_request.status not in LEDGER_STATUSES
        and return_request.quick_refund_at is None
        # An exchange paid for and then expired has the refund of that payment.
        and return_request.exchange_difference_paid_at is None
    ):
        return ReturnLedger(refunds=[], replacements=[])
    refunds = list(
        Refund.objects.filter(merchant_id=return_request.merchant_id, return_request_id=return_request.pk)
        .select_related("execution", "granted_by", "voided_by")
        .prefetch_related(Prefetch("lines", queryset=RefundLine.objects.order_by("order_line_id")))
        .order_by("id")
    )
    for refund in refunds:
        refund.execution_shown = _execution_or_none(refund)
    replacements = list(
        ReplacementShipment.objects.filter(
            merchant_id=return_request.merchant_id, return_request_id=return_request.pk
        ).order_by("id")
    )
    return ReturnLedger(refunds=refunds, replacements=replacements)


@dataclass(frozen=True)
class SettleLineDefault:
    """What settling one line would pay by default: the units it still holds at its refund per unit."""

    line: ReturnLine
    units: int
    amount: Decimal
    restocking_fee_percent: Decimal


@dataclass(frozen=True)
class SettleDefaults:
    lines: list[SettleLineDefault]
    shipping_refundable: Decimal  # the order's shipping not yet refunded on any of its returns
    shipping_default: Decimal  # refunded by policy: the merchant's fault refunds the shipping too

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00")) + self.shipping_default

    @property
    def units(self) -> int:
        return sum(line.units for line in self.lines)


def settle_defaults(
    *, return_request: ReturnRequest, lines: list[ReturnLineShown], ledger: ReturnLedger
) -> SettleDefaults:
    """The amounts the settle form starts from, as ``return_request_settle`` would compute them."""
    settled = ledger.settled_units()
    shown = []
    for line_shown in lines:
        line = line_shown.line
        units = max(settleable_units(line) - settled.get(line.pk, 0), 0)
        fee = line_shown.terms.restocking_fee_percent if line_shown.terms else Decimal("0")
        shown.append(
            SettleLineDefault(
                line=line, units=units, amount=line.unit_refund_amount * units, restocking_fee_percent=fee
            )
        )
    order = return_request.order
    shipping_left = Decimal("0.00")
    if order.shipping_amount > 0:
        refunded = Refund.objects.filter(
            Q(return_request__order_id=order.pk) | Q(order_id=order.pk), merchant_id=order.merchant_id
        ).exclude(state=RefundState.VOIDED).aggregate(total=Sum("shipping_amount"))["total"] or Decimal("0.00")
        shipping_left = max(order.shipping_amount - refunded, Decimal("0.00"))
    merchants_fault = return_request.reason.responsibility == Responsibility.MERCHANT
    return SettleDefaults(
        lines=shown,
        shipping_refundable=shipping_left,
        shipping_default=shipping_left if merchants_fault else Decimal("0.00"),
    )


@dataclass(frozen=True)
class ExchangeLineShown:
    """What the customer asked to receive for one line, and its price difference."""

    line: ReturnLine
    variant_label: str  # "" for the same item again
    paid_per_unit: Decimal

    @property
    def difference(self) -> Decimal:
        return self.line.price_difference


@dataclass(frozen=True)
class ExchangeShown:
    lines: list[ExchangeLineShown]
    due: Decimal  # owed by the customer for dearer variants, paid before the replacement ships
    refunded: Decimal  # what cheaper variants give back, refunded as their replacements ship
    paid_at: datetime | None
    reference: str
    # What was paid for dearer variants whose replacements are not sent, refunded once known.
    surplus: ExchangeSurplus | None = None

    @property
    def unpaid(self) -> bool:
        return self.due > 0 and self.paid_at is None


def exchange_shown(
    *, return_request: ReturnRequest, lines: list[ReturnLineShown], ledger: ReturnLedger | None = None
) -> ExchangeShown | None:
    """The exchange's wishes (lines prefetched with their variant by ``return_by_number``), or None
    for a return that is not an exchange; with the ``ledger``, the surplus of its paid difference."""
    if return_request.resolution != Resolution.EXCHANGE:
        return None
    shown = [
        ExchangeLineShown(
            line=item.line,
            variant_label=variant_label(item.line.exchange_product) if item.line.exchange_product else "",
            paid_per_unit=paid_per_unit(item.line.order_line),
        )
        for item in lines
    ]
    _due, refunded = difference_totals(item.difference for item in shown)
    return ExchangeShown(
        lines=shown,
        due=return_request.exchange_difference_due,
        refunded=refunded,
        paid_at=return_request.exchange_difference_paid_at,
        reference=return_request.exchange_difference_reference,
        surplus=exchange_surplus_of(return_request, [item.line for item in lines], ledger.refunds)
        if ledger is not None
        else None,
    )
