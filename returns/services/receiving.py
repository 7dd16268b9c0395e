"""The parcel at the warehouse: receiving it (by return or by tracking number) and inspecting
what came back. Counters of the order lines change with ``F()`` under the lines' locks, taken in
id order; their CHECK constraints are the last guard.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import Membership, Merchant, OrderLine, User
from returns import timers
from returns.locks import (
    inbound_shipment_lock,
    return_lines_lock,
    return_request_lock,
)
from returns.models import (
    CarrierClaim,
    ClaimState,
    Disposition,
    ItemGrade,
    Resolution,
    ReturnLine,
    ReturnLineInspection,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
    ShippingMethod,
)
from returns.roles import (
    SUPERVISOR_ROLES,
    require_staff,
)
from returns.services._transitions import order_lines_write_off, return_move, units_count_in
from returns.services.rules import policy_for
from returns.services.settlement import settlement_start
from returns.services.shipping import normalize_tracking
from returns.timeline import ReturnVerb
from tickets.models import TicketStatus
from tickets.notify import notify_customer, notify_staff
from tickets.services import ticket_follow_workflow, ticket_note
from tickets.timeline import event_append


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


def return_request_receive(
    *, return_request: ReturnRequest, actor: User, quantities: Mapping[int, int] | None = None, note: str = ""
) -> ReturnRequest:
    """The parcel arrived: count what is in it, per return line (all requested units by default).

    From in transit, or straight from awaiting shipment when it was handed in at a store. The
    received counters of the return line and the order line rise together; neither may pass
    what was requested.
    """
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        require_staff(actor, return_request.merchant_id)
        shipment = inbound_shipment_lock(return_request)
        if shipment is not None and shipment.lost_at is not None:
            raise _declared_lost(return_request)
        if return_request.status == ReturnStatus.AWAITING_SHIPMENT and (
            shipment is None or shipment.method != ShippingMethod.IN_STORE
        ):
            raise TransitionNotAllowed(
                _("This parcel has not been sent yet; add its tracking number first."), code="not_shipped"
            )
        return_move(return_request, ReturnStatus.RECEIVED)
        lines = return_lines_lock(return_request)
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
        units_count_in(lines, counted)
        if shipment is not None:
            shipment.received_at, shipment.received_by = now, actor
            shipment.save(update_fields=["received_at", "received_by", "updated_at"])
        ticket = return_request.ticket
        timers.meet(ticket, timers.CUSTOMER_SHIP, at=now)  # handed in at a store
        timers.start_confirm_receipt(return_request, policy_for(return_request.merchant_id), at=now)
        data: dict[str, Any] = {"lines": {str(pk): quantity for pk, quantity in counted.items()}}
        if note.strip():
            data["note"] = note.strip()
        event_append(ticket, ReturnVerb.RECEIVED, actor_user=actor, data=data, public=True)
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


@dataclass(frozen=True)
class LineInspection:
    """What the inspector found for one return line."""

    return_line_id: int
    accepted: int
    rejected: int
    grade: str
    disposition: str = ""
    notes: str = ""
    files: Sequence["UploadedFile[bytes]"] = field(default_factory=tuple)


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
    for checked in lines:
        _check_inspection(checked)
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        require_staff(actor, return_request.merchant_id)
        return_move(return_request, ReturnStatus.INSPECTED)
        return_lines = return_lines_lock(return_request)
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
            inbound = inbound_shipment_lock(return_request)
            ReturnShipment.objects.create(
                merchant_id=return_request.merchant_id,
                return_request=return_request,
                direction=ShipmentDirection.TO_CUSTOMER,
                pickup_address=inbound.pickup_address if inbound else "",
            )
        timers.meet(ticket, timers.CONFIRM_RECEIPT, at=now)
        event_append(ticket, ReturnVerb.INSPECTED, actor_user=actor, data={"lines": summary}, public=True)
        event_append(ticket, ReturnVerb.INSPECTION_DETAILS, actor_user=actor, data={"lines": details})
        if return_request.quick_refund_at is not None and rejected:
            return_request.review_reasons = [
                *return_request.review_reasons,
                {"code": "quick_refund_rejected_units", "units": rejected},
            ]
            return_request.save(update_fields=["review_reasons", "updated_at"])
            event_append(ticket, ReturnVerb.QUICK_REFUND_FLAGGED, actor_user=actor, data={"rejected": rejected})
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
