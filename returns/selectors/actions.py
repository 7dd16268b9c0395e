"""Which actions a staff member may take on a return now: the rules behind the buttons of the
return's page, read once so the page (and anything else that asks) shows the same answer."""

from dataclasses import dataclass, field

from aftersales.models import Membership
from returns.ledger import settleable_units
from returns.models import (
    DIFFERENCE_NOT_PAYABLE_STATUSES,
    SETTLE_ON_APPROVAL,
    Resolution,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
    ShippingMethod,
)
from returns.roles import CLAIM_ROLES, REFUND_ROLES, SUPERVISOR_ROLES
from returns.selectors.detail import ReturnLineShown
from returns.selectors.settlement import ExchangeShown, ReturnLedger, SettleDefaults, exchange_shown, settle_defaults

# Where the settle forms are offered: the items are back (or stay with the customer), or a
# settlement is under way and units are left.
SETTLE_STATUSES = (ReturnStatus.RECEIVED, ReturnStatus.INSPECTED, ReturnStatus.SETTLING)


@dataclass(frozen=True)
class ReturnActions:
    """What the staff member may do with the return now, and the figures those actions start from."""

    may_refund: bool
    may_claim: bool
    can_track: bool
    can_book_pickup: bool
    can_receive: bool
    can_inspect: bool
    can_send_back: bool
    can_refund: bool
    can_store_credit: bool
    can_exchange: bool
    can_confirm_difference: bool
    difference_needs_role: bool
    refunds_need_role: bool
    can_decide_escalation: bool
    can_declare_lost: bool
    lost_needs_role: bool
    settle: SettleDefaults | None  # the settle form's defaults; None when it is not offered
    exchange: ExchangeShown | None
    units_left: dict[int, int] = field(default_factory=dict)  # per return line id, for the exchange form


def return_actions(
    *,
    membership: Membership,
    return_request: ReturnRequest,
    lines: list[ReturnLineShown],
    shipments: list[ReturnShipment],
    ledger: ReturnLedger,
) -> ReturnActions:
    """The actions open to ``membership`` on the return, from what its page has already read."""
    status, resolution, role = return_request.status, return_request.resolution, membership.role
    inbound = next((s for s in shipments if s.direction == ShipmentDirection.TO_MERCHANT), None)
    in_store = inbound is not None and inbound.method == ShippingMethod.IN_STORE
    may_refund = role in REFUND_ROLES
    settle_open = status in SETTLE_STATUSES or (status == ReturnStatus.APPROVED and resolution in SETTLE_ON_APPROVAL)
    defaults = None
    if settle_open and resolution != Resolution.EXCHANGE and may_refund:
        defaults = settle_defaults(return_request=return_request, lines=lines, ledger=ledger)
        if not defaults.units and not defaults.shipping_refundable:
            defaults = None  # every unit is settled already
    exchange_open = settle_open and resolution == Resolution.EXCHANGE
    units_left = {}
    if exchange_open:
        settled = ledger.settled_units()
        units_left = {
            shown.line.pk: max(settleable_units(shown.line) - settled.get(shown.line.pk, 0), 0) for shown in lines
        }
        exchange_open = any(units_left.values())
    exchange = exchange_shown(return_request=return_request, lines=lines, ledger=ledger)
    difference_open = exchange is not None and exchange.unpaid and status not in DIFFERENCE_NOT_PAYABLE_STATUSES
    receivable = any(shown.line.quantity > shown.line.quantity_received for shown in lines)
    may_claim = role in CLAIM_ROLES
    may_be_lost = status == ReturnStatus.IN_TRANSIT and inbound is not None and bool(inbound.tracking_number)
    # Opened by the inspection that rejected units; sent once, by any staff who work returns.
    rejected_parcel = next((s for s in shipments if s.direction == ShipmentDirection.TO_CUSTOMER), None)
    return ReturnActions(
        may_refund=may_refund,
        may_claim=may_claim,
        can_track=return_request.can_transition_to(ReturnStatus.IN_TRANSIT) and not in_store,
        can_book_pickup=status == ReturnStatus.AWAITING_SHIPMENT
        and inbound is not None
        and inbound.method == ShippingMethod.PICKUP,
        can_receive=(status == ReturnStatus.IN_TRANSIT or (status == ReturnStatus.AWAITING_SHIPMENT and in_store))
        and receivable,
        can_inspect=return_request.can_transition_to(ReturnStatus.INSPECTED),
        can_send_back=rejected_parcel is not None and rejected_parcel.shipped_at is None,
        can_refund=defaults is not None and resolution not in (Resolution.STORE_CREDIT, Resolution.EXCHANGE),
        can_store_credit=defaults is not None,
        can_exchange=exchange_open,
        can_confirm_difference=difference_open and may_refund,
        difference_needs_role=difference_open and not may_refund,
        refunds_need_role=settle_open and not may_refund and resolution != Resolution.EXCHANGE,
        can_decide_escalation=status == ReturnStatus.ESCALATED and role in SUPERVISOR_ROLES,
        can_declare_lost=may_be_lost and may_claim,
        lost_needs_role=may_be_lost and not may_claim,
        settle=defaults,
        exchange=exchange,
        units_left=units_left,
    )
