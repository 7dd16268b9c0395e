"""A return's journey after approval: how the parcel goes back, tracking, receipt, inspection,
the customer's revision or escalation after a rejection, what the deadlines do on their own,
and the bulk actions of a busy warehouse day.

Each transition locks the return, checks ``RETURN_TRANSITIONS``, writes, appends its ticket
event, moves the ticket's generic status and starts, meets or cancels its timers, in one
transaction. Counters of the order lines change with ``F()`` under the lines' locks, taken in
id order; their CHECK constraints are the last guard.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError, Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Customer, Membership, Merchant, OrderLine, User
from returns import timers
from returns.models import (
    CarrierClaim,
    ClaimState,
    Disposition,
    ItemGrade,
    RefundState,
    Resolution,
    Responsibility,
    ReturnLine,
    ReturnLineInspection,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
    ShippingMethod,
)
from returns.services.claims import carrier_claim_open, claim_staff_required
from returns.services.refunds import (
    _check_agent_limit,
    _complete_if_settled,
    _enter_settling,
    _exchange_surplus_grant,
    _settled_units,
    _shipping_refundable,
    settleable_units,
)
from returns.services.requests import (
    SUPERVISOR_ROLES,
    _lock,
    _move,
    _require_staff,
    _route_submitted,
    order_lines_write_off,
    return_request_approve,
)
from returns.services.rules import policy_for, quick_refund_eligible, quick_refund_start, settlement_start
from tickets.models import TicketStatus
from tickets.notify import notify_customer, notify_staff
from tickets.services import ticket_customer_message, ticket_follow_workflow, ticket_note
from tickets.timeline import event_append

MAX_TRACKING_LENGTH = 64
MAX_STORE_LENGTH = 200


# --- helpers ------------------------------------------------------------------------------------


def _check_party(return_request: ReturnRequest, *, customer: Customer | None, actor: User | None) -> None:
    """The customer the return belongs to, or a staff member of its merchant; exactly one of them."""
    if (customer is None) == (actor is None):
        raise ValueError("give either the customer or the staff actor")
    if customer is not None and customer.pk != return_request.customer_id:
        raise PermissionRefused(_("This request belongs to another customer."))
    if actor is not None:
        _require_staff(actor, return_request.merchant_id)


def _lock_order_lines(return_request: ReturnRequest) -> list[ReturnLine]:
    """The request's lines, with their order lines locked in id order (as every service locks them)."""
    lines = list(return_request.lines.select_for_update().select_related("order_line").order_by("order_line_id"))
    list(OrderLine.objects.select_for_update().filter(pk__in=[line.order_line_id for line in lines]).order_by("pk"))
    return lines


def _count_in(lines: Sequence[ReturnLine], counted: Mapping[int, int]) -> None:
    """Raise the received counters of the (locked) return lines and their order lines together, by
    ``counted`` units per return line id; the lines in memory follow."""
    for line in lines:
        units = counted.get(line.pk, 0)
        if units:
            ReturnLine.objects.filter(pk=line.pk).update(quantity_received=F("quantity_received") + units)
            OrderLine.objects.filter(pk=line.order_line_id).update(quantity_received=F("quantity_received") + units)
            line.quantity_received += units


def _accept_unjudged(lines: Sequence[ReturnLine]) -> dict[str, int]:
    """Accept every unit of the (locked) lines that was counted in and not yet judged, on the
    return line and its order line alike: the return is settled as the customer requested.
    Returns the units accepted per return line id, for the event."""
    accepted = {}
    for line in lines:
        units = line.quantity_received - line.quantity_accepted - line.quantity_rejected
        if units:
            ReturnLine.objects.filter(pk=line.pk).update(quantity_accepted=F("quantity_accepted") + units)
            OrderLine.objects.filter(pk=line.order_line_id).update(quantity_accepted=F("quantity_accepted") + units)
            line.quantity_accepted += units
        accepted[str(line.pk)] = units
    return accepted


def _declared_lost(return_request: ReturnRequest) -> TransitionNotAllowed:
    """The refusal for a parcel declared lost that is scanned in after all: its units were counted
    when it was declared lost, so counting them again would pay or restock them twice."""
    if CarrierClaim.objects.filter(return_request=return_request, state=ClaimState.OPEN).exists():
        message = _(
            "This parcel was declared lost and the return settled without it. If it has turned up, "
            "withdraw the carrier claim first: that records it as found; its units are already counted."
        )
    else:
        message = _("This parcel was declared lost and its units are already counted; there is nothing to receive.")
    return TransitionNotAllowed(message, code="parcel_declared_lost")


def _inbound(return_request: ReturnRequest) -> ReturnShipment | None:
    return (
        ReturnShipment.objects.select_for_update()
        .filter(return_request=return_request, direction=ShipmentDirection.TO_MERCHANT)
        .first()
    )


def normalize_tracking(tracking_number: str) -> str:
    return "".join((tracking_number or "").split()).upper()


# --- how the parcel goes back -------------------------------------------------------------------


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
        return_request = _lock(return_request)
        _check_party(return_request, customer=customer, actor=actor)
        _move(return_request, ReturnStatus.AWAITING_SHIPMENT)
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
            "return_shipping_chosen",
            actor_user=actor,
            actor_customer=customer,
            data={
                "method": method,
                "return_address": shipment.return_address,
                "pickup_slot": [pickup_slot_start.isoformat(), pickup_slot_end.isoformat()]
                if pickup_slot_start
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
        return_request = _lock(return_request)
        _require_staff(actor, return_request.merchant_id)
        shipment = _inbound(return_request)
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
            "return_pickup_booked",
            actor_user=actor,
            data={"carrier": shipment.carrier, "reference": shipment.pickup_reference},
            public=True,
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
    carrier = (carrier or "").strip()[:50]
    tracking_number = normalize_tracking(tracking_number)
    if not carrier:
        raise InvalidInput(_("Name the carrier."), code="carrier_required", extra={"field": "carrier"})
    if not tracking_number or len(tracking_number) > MAX_TRACKING_LENGTH:
        raise InvalidInput(
            _("Enter the tracking number."), code="tracking_required", extra={"field": "tracking_number"}
        )
    with transaction.atomic():
        return_request = _lock(return_request)
        _check_party(return_request, customer=customer, actor=actor)
        shipment = _inbound(return_request)
        if shipment is not None and shipment.method == ShippingMethod.IN_STORE:
            raise TransitionNotAllowed(
                _("This parcel is handed in at a store; it needs no tracking number."), code="in_store_no_tracking"
            )
        _move(return_request, ReturnStatus.IN_TRANSIT)
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
            "return_in_transit",
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


# --- receipt ------------------------------------------------------------------------------------


def return_request_receive(
    *, return_request: ReturnRequest, actor: User, quantities: Mapping[int, int] | None = None, note: str = ""
) -> ReturnRequest:
    """The parcel arrived: count what is in it, per return line (all requested units by default).

    From in transit, or straight from awaiting shipment when it was handed in at a store. The
    received counters of the return line and the order line rise together; neither may pass
    what was requested.
    """
    with transaction.atomic():
        return_request = _lock(return_request)
        _require_staff(actor, return_request.merchant_id)
        shipment = _inbound(return_request)
        if shipment is not None and shipment.lost_at is not None:
            raise _declared_lost(return_request)
        if return_request.status == ReturnStatus.AWAITING_SHIPMENT and (
            shipment is None or shipment.method != ShippingMethod.IN_STORE
        ):
            raise TransitionNotAllowed(
                _("This parcel has not been sent yet; add its tracking number first."), code="not_shipped"
            )
        _move(return_request, ReturnStatus.RECEIVED)
        lines = _lock_order_lines(return_request)
        by_id = {line.pk: line for line in lines}
        counted = {line.pk: line.quantity - line.quantity_received for line in lines}
        if quantities is not None:
            unknown = set(quantities) - set(by_id)
            if unknown:
                raise InvalidInput(
                    _("That item is not on this return."), code="line_not_on_return", extra={"lines": sorted(unknown)}
                )
            counted = {pk: int(quantities.get(pk, 0)) for pk in by_id}
        for pk, quantity in counted.items():
            line = by_id[pk]
            if quantity < 0 or quantity > line.quantity - line.quantity_received:
                raise InvalidInput(
                    _("%(item)s: at most %(count)s units were requested.")
                    % {"item": line.order_line.name, "count": line.quantity - line.quantity_received},
                    code="quantity_exceeds_requested",
                    extra={"line": pk},
                )
        if not any(counted.values()):
            raise InvalidInput(_("Count at least one unit in."), code="nothing_received", extra={"field": "lines"})
        now = timezone.now()
        return_request.save(update_fields=["status", "updated_at"])
        _count_in(lines, counted)
        if shipment is not None:
            shipment.received_at, shipment.received_by = now, actor
            shipment.save(update_fields=["received_at", "received_by", "updated_at"])
        ticket = return_request.ticket
        timers.meet(ticket, timers.CUSTOMER_SHIP, at=now)  # handed in at a store
        timers.start_confirm_receipt(return_request, policy_for(return_request.merchant_id), at=now)
        data = {"lines": {str(pk): quantity for pk, quantity in counted.items()}}
        if note.strip():
            data["note"] = note.strip()
        event_append(ticket, "return_received", actor_user=actor, data=data, public=True)
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN, actor_user=actor)
        notify_customer(ticket, "return_received", {"units": sum(counted.values())})
    return return_request


def return_request_receive_by_tracking(*, merchant: Merchant, tracking_number: str, actor: User) -> ReturnRequest:
    """A scan at the warehouse door: the return whose parcel carries this number, received in full."""
    tracking_number = normalize_tracking(tracking_number)
    shipment = (
        ReturnShipment.objects.filter(
            merchant=merchant, direction=ShipmentDirection.TO_MERCHANT, tracking_number=tracking_number
        )
        .select_related("return_request")
        .first()
        if tracking_number
        else None
    )
    if shipment is None:
        raise InvalidInput(
            _("No return carries this tracking number."),
            code="unknown_tracking",
            extra={"field": "tracking_number"},
        )
    return return_request_receive(return_request=shipment.return_request, actor=actor)


# --- inspection ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInspection:
    """What the inspector found for one return line."""

    return_line_id: int
    accepted: int
    rejected: int
    grade: str
    disposition: str = ""
    notes: str = ""
    files: Sequence[UploadedFile] = field(default_factory=tuple)


def _check_inspection(result: LineInspection) -> None:
    if result.accepted < 0 or result.rejected < 0:
        raise InvalidInput(
            _("Quantities cannot be negative."), code="invalid_quantity", extra={"line": result.return_line_id}
        )
    if result.grade not in ItemGrade.values:
        raise InvalidInput(_("Pick a grade."), code="invalid_grade", extra={"line": result.return_line_id})
    if result.accepted and result.disposition not in Disposition.values:
        raise InvalidInput(
            _("Pick what happens to the accepted units."),
            code="disposition_required",
            extra={"line": result.return_line_id},
        )
    if not result.accepted and result.disposition:
        raise InvalidInput(
            _("No unit is accepted, so there is nothing to restock or scrap."),
            code="disposition_without_units",
            extra={"line": result.return_line_id},
        )


def return_request_inspect(
    *, return_request: ReturnRequest, actor: User, lines: Sequence[LineInspection]
) -> ReturnRequest:
    """Judge every received unit: accepted (with a grade and what happens to it) or rejected.

    Rejected units go back to the customer: a parcel to them is opened. Units accepted count on
    the order line. A quick refund already paid and units rejected now flags the return for a
    supervisor.
    """
    for result in lines:
        _check_inspection(result)
    with transaction.atomic():
        return_request = _lock(return_request)
        _require_staff(actor, return_request.merchant_id)
        _move(return_request, ReturnStatus.INSPECTED)
        return_lines = _lock_order_lines(return_request)
        by_id = {line.pk: line for line in return_lines}
        results = {result.return_line_id: result for result in lines}
        if len(results) != len(lines) or set(results) - set(by_id):
            raise InvalidInput(_("Inspect each item of this return once."), code="invalid_lines")
        for line in return_lines:
            result = results.get(line.pk)
            judged = (result.accepted + result.rejected) if result else 0
            if judged != line.quantity_received:
                raise InvalidInput(
                    _("%(item)s: accept or reject each of the %(count)s units received.")
                    % {"item": line.order_line.name, "count": line.quantity_received},
                    code="units_not_judged",
                    extra={"line": line.pk, "received": line.quantity_received},
                )
        now = timezone.now()
        return_request.save(update_fields=["status", "updated_at"])
        ticket = return_request.ticket
        summary, details = {}, {}
        for line in return_lines:
            result = results.get(line.pk)
            if result is None:
                continue
            ReturnLine.objects.filter(pk=line.pk).update(
                quantity_accepted=F("quantity_accepted") + result.accepted,
                quantity_rejected=F("quantity_rejected") + result.rejected,
            )
            if result.accepted:
                OrderLine.objects.filter(pk=line.order_line_id).update(
                    quantity_accepted=F("quantity_accepted") + result.accepted
                )
                if result.disposition == Disposition.SCRAP:
                    order_lines_write_off({line.order_line_id: result.accepted})
            inspection = ReturnLineInspection.objects.create(
                merchant_id=return_request.merchant_id,
                return_line=line,
                grade=result.grade,
                disposition=result.disposition,
                notes=result.notes.strip(),
                inspected_by=actor,
                inspected_at=now,
            )
            if result.files:
                note = ticket_note(
                    ticket=ticket,
                    actor=actor,
                    body=_("Inspection photos: %(item)s") % {"item": line.order_line.name},
                    files=result.files,
                )
                inspection.photos.set(note.attachments.all())
            summary[str(line.pk)] = {"accepted": result.accepted, "rejected": result.rejected}
            details[str(line.pk)] = {
                "grade": result.grade,
                "disposition": result.disposition,
                "notes": inspection.notes,
            }
        rejected = sum(result.rejected for result in results.values())
        accepted = sum(result.accepted for result in results.values())
        if rejected:
            inbound = _inbound(return_request)
            ReturnShipment.objects.create(
                merchant_id=return_request.merchant_id,
                return_request=return_request,
                direction=ShipmentDirection.TO_CUSTOMER,
                pickup_address=inbound.pickup_address if inbound else "",
            )
        timers.meet(ticket, timers.CONFIRM_RECEIPT, at=now)
        event_append(ticket, "return_inspected", actor_user=actor, data={"lines": summary}, public=True)
        event_append(ticket, "return_inspection_details", actor_user=actor, data={"lines": details})
        if return_request.quick_refund_at is not None and rejected:
            return_request.review_reasons = [
                *return_request.review_reasons,
                {"code": "quick_refund_rejected_units", "units": rejected},
            ]
            return_request.save(update_fields=["review_reasons", "updated_at"])
            event_append(ticket, "return_quick_refund_flagged", actor_user=actor, data={"rejected": rejected})
            for membership in Membership.objects.filter(
                merchant_id=return_request.merchant_id, is_active=True, role__in=SUPERVISOR_ROLES
            ).select_related("user"):
                notify_staff(ticket, membership.user, "return_quick_refund_flagged", {"rejected": rejected})
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN, actor_user=actor)
        notify_customer(ticket, "return_inspected", {"accepted": accepted, "rejected": rejected})
        if (
            return_request.resolution == Resolution.EXCHANGE
            and return_request.exchange_difference_paid_at is not None
            and not accepted
        ):
            # No replacement will be sent, and the customer paid the difference for them: the
            # settlement refunds it. After commit, as a task: the grant locks the order after the
            # return, and this transaction already holds the order lines.
            settlement_start(return_request, reason="nothing_to_replace")
    return return_request


# --- the units inspection rejected, back to the customer ----------------------------------------


def _rejected_units_parcel(return_request: ReturnRequest) -> ReturnShipment | None:
    return (
        ReturnShipment.objects.select_for_update()
        .filter(return_request=return_request, direction=ShipmentDirection.TO_CUSTOMER)
        .first()
    )


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
        carrier = (carrier or "").strip()[:50]
        tracking_number = normalize_tracking(tracking_number)
        if not carrier:
            raise InvalidInput(_("Name the carrier."), code="carrier_required", extra={"field": "carrier"})
        if not tracking_number or len(tracking_number) > MAX_TRACKING_LENGTH:
            raise InvalidInput(
                _("Enter the tracking number."), code="tracking_required", extra={"field": "tracking_number"}
            )
    with transaction.atomic():
        return_request = _lock(return_request)
        _require_staff(actor, return_request.merchant_id)
        shipment = _rejected_units_parcel(return_request)
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
        event_append(ticket, "return_rejected_units_sent", actor_user=actor, data=data, public=True)
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
            _enter_settling(return_request, actor)
        _complete_if_settled(return_request, actor)
    return shipment


# --- after a rejection: the customer's moves ----------------------------------------------------


def _require_revise_window(return_request: ReturnRequest) -> None:
    if return_request.escalated_at is not None:
        raise TransitionNotAllowed(
            _("A supervisor has already decided this return; the decision is final."), code="decision_final"
        )
    if not timers.is_open(return_request.ticket, timers.REVISE):
        raise TransitionNotAllowed(_("The time to revise this return has passed."), code="revise_window_closed")


def return_request_revise(
    *,
    return_request: ReturnRequest,
    customer: Customer,
    note: str,
    files: Sequence[UploadedFile] = (),
    resolution: str | None = None,
) -> ReturnRequest:
    """After a rejection and before the revise deadline, the customer answers (a message, more
    photos, perhaps another resolution the terms allow) and the request is submitted again."""
    with transaction.atomic():
        return_request = _lock(return_request)
        _check_party(return_request, customer=customer, actor=None)
        if return_request.status == ReturnStatus.REJECTED:
            _require_revise_window(return_request)
        _move(return_request, ReturnStatus.SUBMITTED)
        changed = ["status", "decided_at", "rejection_reason", "updated_at"]
        if resolution is not None and resolution != return_request.resolution:
            allowed = [set(term.get("allowed_resolutions", [])) for term in return_request.terms.values()]
            if resolution not in Resolution.values or not all(resolution in terms for terms in allowed):
                raise InvalidInput(
                    _("This return cannot be resolved that way."),
                    code="resolution_not_allowed",
                    extra={"field": "resolution"},
                )
            return_request.resolution = resolution
            changed.append("resolution")
        ticket = return_request.ticket
        # The message (and its photos) first: the risk rules read the photos.
        ticket_customer_message(ticket=ticket, customer=customer, body=note, files=files)
        now = timezone.now()
        return_request.decided_at = None
        return_request.rejection_reason = ""
        return_request.save(update_fields=changed)
        timers.meet(ticket, timers.REVISE, at=now)
        event_append(
            ticket,
            "return_revised",
            actor_customer=customer,
            data={"resolution": return_request.resolution},
            public=True,
        )
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN, actor_customer=customer)
        return_request = _route_submitted(return_request)
    return return_request


def return_request_escalate(*, return_request: ReturnRequest, customer: Customer, note: str) -> ReturnRequest:
    """After a rejection and before the revise deadline, the customer asks a supervisor to decide.
    Once: the supervisor's decision is final."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Tell us why the decision is wrong."), code="note_required", extra={"field": "note"})
    with transaction.atomic():
        return_request = _lock(return_request)
        _check_party(return_request, customer=customer, actor=None)
        if return_request.status == ReturnStatus.REJECTED:
            _require_revise_window(return_request)
        _move(return_request, ReturnStatus.ESCALATED)
        now = timezone.now()
        return_request.escalated_at = now
        return_request.save(update_fields=["status", "escalated_at", "updated_at"])
        ticket = return_request.ticket
        timers.meet(ticket, timers.REVISE, at=now)
        event_append(ticket, "return_escalated", actor_customer=customer, data={"note": note}, public=True)
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN, actor_customer=customer)
        for membership in Membership.objects.filter(
            merchant_id=return_request.merchant_id, is_active=True, role__in=SUPERVISOR_ROLES
        ).select_related("user"):
            notify_staff(ticket, membership.user, "return_escalated", {"note": note})
    return return_request


# --- what the deadlines do ----------------------------------------------------------------------


def return_request_expire(*, return_request: ReturnRequest) -> ReturnRequest:
    """The ship-by deadline passed with no parcel: the return expires and its units are free again."""
    with transaction.atomic():
        return_request = _lock(return_request)
        _move(return_request, ReturnStatus.EXPIRED)
        return_request.save(update_fields=["status", "updated_at"])
        # A dearer exchange paid for and never sent back: no replacement will go out, so the
        # difference goes back in full. Before the lines are locked below, so that the grant
        # takes its locks in the ledger's order (the order, then its lines).
        _exchange_surplus_grant(return_request)
        for line in _lock_order_lines(return_request):
            OrderLine.objects.filter(pk=line.order_line_id).update(
                quantity_requested=F("quantity_requested") - line.quantity
            )
        # The ship-by deadline firing this is the only return timer open now; the sweep marks it.
        ticket = return_request.ticket
        event_append(ticket, "return_expired", public=True)
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.CANCELLED)
        notify_customer(ticket, "return_expired")
    return return_request


def return_request_settle_uninspected(*, return_request: ReturnRequest) -> ReturnRequest:
    """The confirm-receipt deadline passed in silence: every unit received is accepted as the
    customer requested, and the settlement starts."""
    with transaction.atomic():
        return_request = _lock(return_request)
        if return_request.status != ReturnStatus.RECEIVED:
            # The table lets other states settle too (refund-only, inspected); this rule is for parcels.
            raise TransitionNotAllowed(
                _("Only a received, uninspected return is settled as requested."),
                code="not_received",
                extra={"from": return_request.status, "to": ReturnStatus.SETTLING},
            )
        _move(return_request, ReturnStatus.SETTLING)
        return_request.save(update_fields=["status", "updated_at"])
        accepted = _accept_unjudged(_lock_order_lines(return_request))
        event_append(
            return_request.ticket,
            "return_accepted_uninspected",
            data={"lines": accepted},
            public=True,
        )
        settlement_start(return_request, reason="confirm_receipt_deadline")
    return return_request


def return_parcel_declare_lost(*, return_request: ReturnRequest, actor: User, note: str = "") -> ReturnRequest:
    """The carrier lost the parcel on its way back: settle the return as if it had arrived, and
    claim the paid value of its units from the carrier.

    Every unit still expected counts as received and accepted, as when the confirm-receipt
    deadline settles a return uninspected; the return moves to settling and the usual
    settlement (refund, store credit, or a replacement for an exchange) follows after commit.
    An agent may do it within the refund limit of their role, as for any refund.
    """
    note = (note or "").strip()
    with transaction.atomic():
        return_request = _lock(return_request)
        membership = claim_staff_required(actor, return_request.merchant_id)
        shipment = _inbound(return_request)
        if return_request.status != ReturnStatus.IN_TRANSIT or shipment is None or not shipment.tracking_number:
            # The table lets a received return settle too; this rule is for a parcel on its way.
            raise TransitionNotAllowed(
                _("Only a parcel in transit, with its tracking number, can be declared lost."),
                code="not_in_transit",
                extra={"from": return_request.status, "to": ReturnStatus.SETTLING},
            )
        lines = _lock_order_lines(return_request)
        if return_request.resolution != Resolution.EXCHANGE:
            # What the settlement that follows will pay, as ``_grant`` counts it: the units still
            # unsettled and, when the reason is the merchant's fault, the order's shipping.
            settled = _settled_units(return_request)
            amount = sum(
                (line.unit_refund_amount * max(line.quantity - settled.get(line.pk, 0), 0) for line in lines),
                Decimal("0"),
            )
            if return_request.reason.responsibility == Responsibility.MERCHANT and return_request.order.shipping_amount:
                amount += _shipping_refundable(return_request.order)
            _check_agent_limit(membership, return_request, amount)
        _move(return_request, ReturnStatus.SETTLING)
        return_request.save(update_fields=["status", "updated_at"])
        now = timezone.now()
        shipment.lost_at = now
        shipment.save(update_fields=["lost_at", "updated_at"])
        lost = {line.order_line_id: line.quantity - line.quantity_received for line in lines}
        _count_in(lines, {line.pk: line.quantity - line.quantity_received for line in lines})
        accepted = _accept_unjudged(lines)
        order_lines_write_off(lost)
        ticket = return_request.ticket
        event_append(
            ticket,
            "return_parcel_lost",
            actor_user=actor,
            data={"carrier": shipment.carrier, "tracking_number": shipment.tracking_number, "lines": accepted},
            public=True,
        )
        carrier_claim_open(
            return_request=return_request, shipment=shipment, lines=lines, units_lost=lost, actor=actor, note=note
        )
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.OPEN, actor_user=actor)
        notify_customer(
            ticket,
            "return_parcel_lost",
            {"carrier": shipment.carrier, "tracking_number": shipment.tracking_number},
        )
        settlement_start(return_request, reason="parcel_lost")
    return return_request


def return_request_rejection_final(*, return_request: ReturnRequest) -> ReturnRequest:
    """The revise deadline passed with no revision nor escalation: the rejection stands."""
    with transaction.atomic():
        return_request = _lock(return_request)
        if return_request.status != ReturnStatus.REJECTED:
            raise TransitionNotAllowed(_("Only a rejected return can become final."), code="not_rejected")
        ticket = return_request.ticket
        event_append(ticket, "return_rejection_final", public=True)
        ticket_follow_workflow(ticket=ticket, status=TicketStatus.RESOLVED)
    return return_request


# --- bulk actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one id of a bulk action."""

    id: int
    ok: bool
    status: str = ""  # the return's status afterwards; empty when not found
    code: str = ""  # the refusal's code
    message: str = ""


def _bulk(merchant: Merchant, ids: Iterable[int], action) -> list[BulkOutcome]:
    """Run ``action`` on each return of the merchant, each in its own transaction, in the order given."""
    wanted = list(dict.fromkeys(int(pk) for pk in ids))
    found = ReturnRequest.objects.filter(merchant=merchant, pk__in=wanted).in_bulk()
    outcomes = []
    for pk in wanted:
        return_request = found.get(pk)
        if return_request is None:
            outcomes.append(BulkOutcome(id=pk, ok=False, code="not_found", message=_("No such return.")))
            continue
        try:
            done = action(return_request)
        except ApplicationError as refusal:
            current = ReturnRequest.objects.filter(pk=pk).values_list("status", flat=True).first() or ""
            outcomes.append(
                BulkOutcome(id=pk, ok=False, status=current, code=refusal.code, message=str(refusal.message))
            )
            continue
        outcomes.append(BulkOutcome(id=pk, ok=True, status=done.status))
    return outcomes


def return_requests_bulk_approve(*, merchant: Merchant, ids: Iterable[int], actor: User) -> list[BulkOutcome]:
    """Approve many returns at once; one refusal never holds back the others."""
    return _bulk(
        merchant, ids, lambda return_request: return_request_approve(return_request=return_request, actor=actor)
    )


def return_requests_bulk_receive(*, merchant: Merchant, ids: Iterable[int], actor: User) -> list[BulkOutcome]:
    """Receive many parcels at once, each in full."""
    return _bulk(
        merchant, ids, lambda return_request: return_request_receive(return_request=return_request, actor=actor)
    )
