"""A unit that cannot be repaired, or the 三包 repeat-failure rule met: replaced or refunded
through the returns ledgers (an exchange or a refund on the same order line's counters), never a
money path of repairs' own.

The return is opened, approved and counted in (the device is already in the merchant's hands) in
the repair's transaction; the settlement itself (the refund's grant and payment, the replacement
parcel) runs after it commits, as returns' durable services require.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import User
from repairs.locks import repair_order_lock
from repairs.models import Remedy, RepairOrder, RepairStatus
from repairs.roles import require_decider
from repairs.sanbao import SanbaoFloor
from repairs.services._transitions import repair_move, transition_check
from repairs.services.registrations import registration_swap
from repairs.timeline import RepairVerb
from returns.models import Resolution, ReturnReason, ReturnRequest, ReturnStatus, ShippingMethod
from returns.services import (
    exchange_ship,
    return_request_approve,
    return_request_create,
    return_request_receive,
    return_request_settle,
    return_shipping_choose,
)
from tickets.models import TicketChannel
from tickets.notify import notify_customer
from tickets.timeline import event_append

REASON_CODE = "repair_remedy"


def _reason(merchant_id: int) -> ReturnReason:
    # The merchant's own reason for returns that settle a repair: merchant-responsible, so no
    # restocking fee and the merchant pays the postage. Made once per merchant.
    reason, _created = ReturnReason.objects.get_or_create(
        merchant_id=merchant_id,
        code=REASON_CODE,
        defaults={"name": _("Repair: unrepairable or 三包 remedy"), "responsibility": "merchant"},
    )
    return reason


def _open_return(repair_order: RepairOrder, actor: User, resolution: str) -> ReturnRequest:
    line = repair_order.order_line
    if line is None:
        raise TransitionNotAllowed(
            _("This unit was not bought through an order here: there is no order line to settle it on."),
            code="no_order_line",
        )
    return_request = return_request_create(
        order=line.order,
        customer=repair_order.customer,
        lines=[(line, 1)],
        reason=_reason(repair_order.merchant_id),
        resolution=resolution,
        note=_("Settles repair %(number)s.") % {"number": repair_order.ticket.number},
        channel=TicketChannel.STAFF,
        created_by=actor,
        legal_remedy=True,
    )
    if return_request.status in (ReturnStatus.SUBMITTED, ReturnStatus.NEEDS_REVIEW):
        return_request = return_request_approve(return_request=return_request, actor=actor, note=_("A repair remedy."))
    # The device is already with the merchant: handed in, counted in.
    return_shipping_choose(
        return_request=return_request,
        method=ShippingMethod.IN_STORE,
        actor=actor,
        store_location=repair_order.service_centre.name if repair_order.service_centre else _("Repair workshop"),
    )
    return return_request_receive(return_request=return_request, actor=actor)


def repair_settle(
    *,
    repair_order: RepairOrder,
    actor: User,
    remedy: str,
    unrepairable: bool = False,
    carrier: str = "",
    tracking_number: str = "",
    new_serial_number: str = "",
) -> RepairOrder:
    """Replace (``remedy`` exchange) or refund (``remedy`` return) the unit: when staff find it
    cannot be repaired, or when the 三包 floor in force gives the customer that remedy.

    An exchange records the replacement parcel (carrier and tracking) and, given its serial, swaps
    the registration so the remaining warranty carries over."""
    if remedy not in (Remedy.EXCHANGE, Remedy.RETURN):
        raise InvalidInput(_("Pick an exchange or a refund."), code="invalid_remedy", extra={"field": "remedy"})
    if remedy == Remedy.EXCHANGE and not (carrier.strip() and tracking_number.strip()):
        raise InvalidInput(_("Enter the carrier and the tracking number of the replacement."), code="tracking_required")
    target = RepairStatus.REPLACED if remedy == Remedy.EXCHANGE else RepairStatus.REFUNDED
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_decider(actor, repair_order.merchant_id)
        transition_check(repair_order, target)
        floor = SanbaoFloor.from_snapshot(repair_order.legal_floor)
        if not unrepairable and not floor.allows(remedy):
            raise TransitionNotAllowed(
                _("Only a unit that cannot be repaired, or a remedy the 三包 rules give, is replaced or refunded."),
                code="remedy_not_owed",
            )
        return_request = _open_return(
            repair_order, actor, Resolution.EXCHANGE if remedy == Remedy.EXCHANGE else Resolution.REFUND
        )
        repair_order.settlement_return = return_request
        repair_move(repair_order, target, actor=actor, fields=["settlement_return"])
        event_append(
            repair_order.ticket,
            RepairVerb.REPLACED if remedy == Remedy.EXCHANGE else RepairVerb.REFUNDED,
            actor_user=actor,
            data={
                "return": return_request.ticket.number,
                "unrepairable": unrepairable,
                "legal_floor": floor.rule,
            },
            public=True,
        )
        if remedy == Remedy.EXCHANGE and new_serial_number.strip() and repair_order.registration is not None:
            registration_swap(registration=repair_order.registration, new_serial_number=new_serial_number, actor=actor)
        notify_customer(
            repair_order.ticket,
            "repair_resolved",
            {"remedy": str(Remedy(remedy).label), "return_number": return_request.ticket.number},
        )
    # After commit: returns' ledger settles (durable transactions of its own).
    return_request_settle(return_request=return_request, actor=actor)
    if remedy == Remedy.EXCHANGE:
        exchange_ship(
            return_request=return_request,
            actor=actor,
            carrier=carrier.strip(),
            tracking_number=tracking_number.strip(),
        )
    return RepairOrder.objects.select_related("ticket").get(pk=repair_order.pk)
