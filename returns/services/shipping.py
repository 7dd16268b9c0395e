"""How the parcel goes back and comes home: the customer's choice of shipping, the pickup staff
book, the tracking number that puts it in transit, and the parcel taking rejected units back to
the customer.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from aftersales.models import Customer, Deadline, User
from returns import timers
from returns.ledger import (
    settleable_units,
)
from returns.locks import (
    inbound_shipment_lock,
    rejected_units_parcel_lock,
    return_request_lock,
)
from returns.models import (
    RefundState,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
    ShippingMethod,
)
from returns.roles import (
    require_party,
    require_staff,
)
from returns.services._settling import return_complete_if_settled
from returns.services._transitions import return_move, return_settling_enter
from returns.services.refunds import quick_refund_start
from returns.services.rules import policy_for, quick_refund_eligible
from returns.timeline import ReturnVerb
from tickets.models import TicketStatus
from tickets.notify import notify_customer
from tickets.services import ticket_follow_workflow
from tickets.timeline import event_append

MAX_TRACKING_LENGTH = 64


MAX_STORE_LENGTH = 200


def normalize_tracking(tracking_number: str) -> str:
    return "".join((tracking_number or "").split()).upper()


def parcel_reference(carrier: str | None, tracking_number: str | None) -> tuple[str, str]:
    """The carrier and tracking number of a parcel as typed, tidied, or the refusal that names the
    field: what every parcel a return records (to the shop or back to the customer) needs."""
    carrier = (carrier or "").strip()[:50]
    tracking_number = normalize_tracking(tracking_number or "")
    if not carrier:
        raise InvalidInput(_("Name the carrier."), code="carrier_required", extra={"field": "carrier"})
    if not tracking_number or len(tracking_number) > MAX_TRACKING_LENGTH:
        raise InvalidInput(
            _("Enter the tracking number."), code="tracking_required", extra={"field": "tracking_number"}
        )
    return carrier, tracking_number


def return_shipping_choose(
    *,
    return_request: ReturnRequest,
    method: str,
    customer: Customer | None = None,
    actor: User | None = None,
    pickup_address: str = "",
    pickup_slot_start: datetime | None = None,
    pickup_slot_end: datetime | None = None,
    store_location: str = "",
) -> ReturnShipment:
    """The customer (or staff for them) picks how the parcel goes back: a drop-off to the
    merchant's return address, a home pickup in a time slot, or handing it in at a store."""
    if method not in ShippingMethod.values:
        raise InvalidInput(_("Pick how the parcel goes back."), code="invalid_method", extra={"field": "method"})
    pickup_address = (pickup_address or "").strip()
    store_location = (store_location or "").strip()
    if method == ShippingMethod.PICKUP:
        if not pickup_address:
            raise InvalidInput(
                _("Give the address to pick the parcel up from."),
                code="pickup_address_required",
                extra={"field": "pickup_address"},
            )
        if pickup_slot_start is None or pickup_slot_end is None or pickup_slot_end <= pickup_slot_start:
            raise InvalidInput(_("Pick a pickup time slot."), code="invalid_slot", extra={"field": "pickup_slot"})
        if pickup_slot_start <= timezone.now():
            raise InvalidInput(
                _("Pick a pickup time slot in the future."), code="slot_in_past", extra={"field": "pickup_slot"}
            )
    else:
        pickup_address, pickup_slot_start, pickup_slot_end = "", None, None
    if method != ShippingMethod.IN_STORE:
        store_location = ""
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        require_party(return_request, customer=customer, actor=actor)
        return_move(return_request, ReturnStatus.AWAITING_SHIPMENT)
        policy = policy_for(return_request.merchant_id)
        return_address = policy.return_address.strip()
        if method == ShippingMethod.DROP_OFF and not return_address:
            raise InvalidInput(
                _("This shop has no return address yet; pick another way or contact the shop."),
                code="no_return_address",
                extra={"field": "method"},
            )
        return_request.save(update_fields=["status", "updated_at"])
        shipment = ReturnShipment.objects.create(
            merchant_id=return_request.merchant_id,
            return_request=return_request,
            direction=ShipmentDirection.TO_MERCHANT,
            method=method,
            return_address=return_address if method == ShippingMethod.DROP_OFF else "",
            pickup_address=pickup_address,
            pickup_slot_start=pickup_slot_start,
            pickup_slot_end=pickup_slot_end,
            store_location=store_location,
        )
        ticket = return_request.ticket
        event_append(
            ticket,
            ReturnVerb.SHIPPING_CHOSEN,
            actor_user=actor,
            actor_customer=customer,
            data={
                "method": method,
                "return_address": shipment.return_address,
                "pickup_slot": [pickup_slot_start.isoformat(), pickup_slot_end.isoformat()]
                if pickup_slot_start and pickup_slot_end
                else None,
                "store": store_location,
            },
            public=True,
        )
        ticket_follow_workflow(
            ticket=ticket, status=TicketStatus.WAITING_CUSTOMER, actor_user=actor, actor_customer=customer
        )
        notify_customer(
            ticket,
            "return_ship_instructions",
            {
                "method": method,
                "return_address": shipment.return_address,
                "pickup_address": pickup_address,
                "pickup_from": timers.local_time(ticket, pickup_slot_start) if pickup_slot_start else "",
                "pickup_until": timers.local_time(ticket, pickup_slot_end) if pickup_slot_end else "",
                "store": store_location,
            },
        )
    return shipment


def return_pickup_book(
    *, return_request: ReturnRequest, actor: User, carrier: str, reference: str = ""
) -> ReturnShipment:
    """Staff (or an integration acting as them) booked the carrier's pickup for the chosen slot."""
    carrier = (carrier or "").strip()
    if not carrier:
        raise InvalidInput(_("Name the carrier."), code="carrier_required", extra={"field": "carrier"})
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        require_staff(actor, return_request.merchant_id)
        shipment = inbound_shipment_lock(return_request)
        if (
            return_request.status != ReturnStatus.AWAITING_SHIPMENT
            or shipment is None
            or shipment.method != ShippingMethod.PICKUP
        ):
            raise TransitionNotAllowed(
                _("A pickup can be booked only for a return awaiting a home pickup."), code="no_pickup_to_book"
            )
        shipment.carrier = carrier[:50]
        shipment.pickup_reference = (reference or "").strip()[:64]
        shipment.pickup_booked_at = timezone.now()
        shipment.save(update_fields=["carrier", "pickup_reference", "pickup_booked_at", "updated_at"])
        event_append(
            return_request.ticket,
            ReturnVerb.PICKUP_BOOKED,
            actor_user=actor,
            data={"carrier": shipment.carrier, "reference": shipment.pickup_reference},
            public=True,
        )
        ticket = return_request.ticket
        notify_customer(
            ticket,
            "return_pickup_booked",
            {
                "carrier": shipment.carrier,
                "pickup_address": shipment.pickup_address,
                "pickup_from": timers.local_time(ticket, shipment.pickup_slot_start)
                if shipment.pickup_slot_start
                else "",
                "pickup_until": timers.local_time(ticket, shipment.pickup_slot_end) if shipment.pickup_slot_end else "",
            },
        )
    return shipment


def return_tracking_add(
    *,
    return_request: ReturnRequest,
    carrier: str,
    tracking_number: str,
    customer: Customer | None = None,
    actor: User | None = None,
) -> ReturnRequest:
    """The parcel is on its way: the customer adds the tracking number (or staff, or a carrier scan).

    It meets the ship-by deadline, hands the wait to the carrier, and, for a trusted customer
    under the merchant's limit, starts the quick refund.
    """
    carrier, tracking_number = parcel_reference(carrier, tracking_number)
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        require_party(return_request, customer=customer, actor=actor)
        shipment = inbound_shipment_lock(return_request)
        if shipment is not None and shipment.method == ShippingMethod.IN_STORE:
            raise TransitionNotAllowed(
                _("This parcel is handed in at a store; it needs no tracking number."), code="in_store_no_tracking"
            )
        return_move(return_request, ReturnStatus.IN_TRANSIT)
        return_request.save(update_fields=["status", "updated_at"])
        now = timezone.now()
        if shipment is None:  # a carrier scan before any choice was recorded
            shipment = ReturnShipment(
                merchant_id=return_request.merchant_id,
                return_request=return_request,
                direction=ShipmentDirection.TO_MERCHANT,
            )
        shipment.carrier, shipment.tracking_number, shipment.shipped_at = carrier, tracking_number, now
        try:
            with transaction.atomic():
                shipment.save()
        except IntegrityError as exc:
            raise Conflict(
                _("This tracking number is already on another return."),
                code="tracking_in_use",
                extra={"field": "tracking_number"},
            ) from exc
        ticket = return_request.ticket
        timers.meet(ticket, timers.CUSTOMER_SHIP, at=now)
        event_append(
            ticket,
            ReturnVerb.IN_TRANSIT,
            actor_user=actor,
            actor_customer=customer,
            data={"carrier": carrier, "tracking_number": tracking_number},
            public=True,
        )
        ticket_follow_workflow(
            ticket=ticket, status=TicketStatus.WAITING_THIRD_PARTY, actor_user=actor, actor_customer=customer
        )
        if quick_refund_eligible(return_request):
            quick_refund_start(return_request)
    return return_request


def return_rejected_units_send(
    *,
    return_request: ReturnRequest,
    actor: User,
    carrier: str = "",
    tracking_number: str = "",
    collected_in_store: bool = False,
    store_location: str = "",
    note: str = "",
) -> ReturnShipment:
    """The units inspection rejected leave the shop: with a carrier (carrier and tracking number,
    unique as the customer's own parcel's), or ready for the customer to collect at a store.

    Once, for the parcel inspection opened. The customer is told how and where; then the return
    completes if that was all it waited for. A return whose every unit was rejected, with no
    money moved on it, has nothing to refund or replace: it moves from inspected through
    settling to completed here. One on which money did move (a quick refund paid for units that
    were then rejected, say) is left to staff to settle.
    """
    note = (note or "").strip()
    if collected_in_store:
        carrier, tracking_number = "", ""
        store_location = (store_location or "").strip()[:MAX_STORE_LENGTH]
        if not store_location:
            raise InvalidInput(
                _("Name the store where the customer collects the items."),
                code="store_required",
                extra={"field": "store_location"},
            )
    else:
        store_location = ""
        carrier, tracking_number = parcel_reference(carrier, tracking_number)
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        require_staff(actor, return_request.merchant_id)
        shipment = rejected_units_parcel_lock(return_request)
        if shipment is None:
            raise TransitionNotAllowed(
                _("Inspection rejected no unit of this return; there is nothing to send back."),
                code="nothing_to_send_back",
            )
        if shipment.shipped_at is not None:
            raise Conflict(
                _("The items that were not accepted have already been sent back."),
                code="rejected_units_already_sent",
            )
        now = timezone.now()
        shipment.method = ShippingMethod.IN_STORE if collected_in_store else ShippingMethod.DROP_OFF
        shipment.carrier, shipment.tracking_number = carrier, tracking_number
        shipment.store_location, shipment.shipped_at = store_location, now
        try:
            with transaction.atomic():
                shipment.save(
                    update_fields=["method", "carrier", "tracking_number", "store_location", "shipped_at", "updated_at"]
                )
        except IntegrityError as exc:
            raise Conflict(
                _("This tracking number is already on another return."),
                code="tracking_in_use",
                extra={"field": "tracking_number"},
            ) from exc
        lines = list(return_request.lines.select_related("order_line").order_by("pk"))
        units = {str(line.pk): line.quantity_rejected for line in lines if line.quantity_rejected}
        ticket = return_request.ticket
        data = {
            "method": shipment.method,
            "carrier": carrier,
            "tracking_number": tracking_number,
            "store": store_location,
            "lines": units,
        }
        if note:
            data["note"] = note
        event_append(ticket, ReturnVerb.REJECTED_UNITS_SENT, actor_user=actor, data=data, public=True)
        notify_customer(
            ticket,
            "return_rejected_units_sent",
            {
                "units": sum(units.values()),
                "carrier": carrier,
                "tracking_number": tracking_number,
                "store": store_location,
            },
        )
        if (
            return_request.status == ReturnStatus.INSPECTED
            and not any(settleable_units(line) for line in lines)
            and not return_request.refunds.exclude(state=RefundState.VOIDED).exists()
        ):
            # Every unit rejected and no money moved: nothing is left to settle but this parcel.
            # (An exchange whose dearer difference was paid gets it back as it settles.)
            return_settling_enter(return_request, actor)
        return_complete_if_settled(return_request, actor)
    return shipment


def return_ship_remind(*, return_request: ReturnRequest, deadline: Deadline) -> None:
    """The ship-by deadline warns: remind the customer to send the parcel (the sweep calls this in
    its transaction, with the deadline's ticket and merchant loaded)."""
    ticket = deadline.ticket  # the sweep brought it, with its merchant
    event_append(ticket, ReturnVerb.SHIP_REMINDER, data={"ship_by": deadline.due_at.isoformat()}, public=True)
    notify_customer(ticket, "return_ship_reminder", {"ship_by": timers.local_time(ticket, deadline.due_at)})
