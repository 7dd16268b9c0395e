"""What a repair cost the merchant under warranty: parts at cost, labour and travel at their rate."""

from decimal import Decimal

from repairs.models import LineCoverage, LineKind, QuoteStatus, RepairLine, RepairOrder

MERCHANT_BORNE = (LineCoverage.WARRANTY, LineCoverage.SUPPLIER)


def line_warranty_cost(line: RepairLine) -> Decimal:
    return line.cost if line.kind == LineKind.PART else line.amount


def warranty_cost(repair_order: RepairOrder) -> Decimal:
    """The cost of one claim: every warranty (or supplier-recoverable) line, parts at cost."""
    return sum(
        (line_warranty_cost(line) for line in repair_order.lines.all() if line.coverage in MERCHANT_BORNE),
        Decimal("0.00"),
    )


def customer_total(repair_order: RepairOrder) -> Decimal:
    return sum(
        (line.amount for line in repair_order.lines.all() if line.coverage == LineCoverage.CUSTOMER), Decimal("0.00")
    )


def customer_pays(repair_order: RepairOrder) -> Decimal:
    """What the customer owes, tax included: the totals of the quotes they approved (a quote's
    lines carry its tax) and any customer line on no quote. A quote still waiting counts nothing."""
    approved = sum(
        (quote.total for quote in repair_order.quotes.all() if quote.status == QuoteStatus.APPROVED), Decimal("0.00")
    )
    unquoted = sum(
        (
            line.amount
            for line in repair_order.lines.all()
            if line.coverage == LineCoverage.CUSTOMER and line.quote_id is None
        ),
        Decimal("0.00"),
    )
    return approved + unquoted
