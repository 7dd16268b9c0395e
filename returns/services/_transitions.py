"""What the services of returns share inside their transactions: the one move of a return along
``RETURN_TRANSITIONS`` (with its webhook), entering settling, and the units counted on the
(locked) return and order lines. Public to the sibling modules of ``returns.services``; pages
call the use cases, never these."""

from collections.abc import Mapping, Sequence

from django.db.models import F, Sum
from django.utils.translation import gettext as _

from aftersales.exceptions import TransitionNotAllowed
from aftersales.models import OrderLine, User
from returns.models import (
    SETTLE_ON_APPROVAL,
    RefundLine,
    RefundState,
    ReplacementShipment,
    ReplacementState,
    ReturnLine,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
)
from returns.services.webhooks import return_status_changed
from tickets.models import TicketStatus
from tickets.services import ticket_follow_workflow
from tickets.timeline import event_append


def return_move(return_request: ReturnRequest, status: str) -> None:
    """Move the (locked) return to ``status`` as ``RETURN_TRANSITIONS`` allows, or refuse; queues
    the status webhook. The caller saves the row and appends its event. The one move of returns."""
    if not return_request.can_transition_to(status):
        raise TransitionNotAllowed(
            _("A return that is %(current)s cannot become %(target)s.")
            % {"current": return_request.get_status_display(), "target": ReturnStatus(status).label},
            extra={"from": return_request.status, "to": status},
        )
    previous, return_request.status = return_request.status, status
    return_status_changed(return_request, previous=previous)


def return_settling_enter(return_request: ReturnRequest, actor: User | None) -> None:
    """Move the (locked) return to settling, as the table allows, if it is not there already."""
    if return_request.status == ReturnStatus.SETTLING:
        return
    if (
        return_request.status == ReturnStatus.APPROVED and return_request.resolution not in SETTLE_ON_APPROVAL
    ) or return_request.status == ReturnStatus.IN_TRANSIT:
        # A parcel on its way settles once it arrives, or once staff declare it lost.
        raise TransitionNotAllowed(
            _("This return is settled once the items are back."),
            code="items_not_back",
            extra={"from": return_request.status, "to": ReturnStatus.SETTLING},
        )
    previous = return_request.status
    return_move(return_request, ReturnStatus.SETTLING)
    return_request.save(update_fields=["status", "updated_at"])
    event_append(return_request.ticket, "return_settling", actor_user=actor, data={"from": previous}, public=True)
    ticket_follow_workflow(ticket=return_request.ticket, status=TicketStatus.OPEN, actor_user=actor)


def settled_units(return_request: ReturnRequest) -> dict[int, int]:
    """Units of each return line already refunded or replaced (read under the return's lock)."""
    settled: dict[int, int] = {}
    refunded = (
        RefundLine.objects.filter(refund__return_request=return_request)
        .exclude(refund__state=RefundState.VOIDED)
        .values("return_line_id")
        .annotate(units=Sum("quantity"))
    )
    replaced = (
        ReplacementShipment.objects.filter(return_request=return_request)
        .exclude(state=ReplacementState.LOST)
        .values("return_line_id")
        .annotate(units=Sum("quantity"))
    )
    for row in [*refunded, *replaced]:
        settled[row["return_line_id"]] = settled.get(row["return_line_id"], 0) + row["units"]
    return settled


def rejected_units_to_send_back(return_request: ReturnRequest) -> bool:
    """Whether units inspection rejected still wait for their parcel back to the customer."""
    return ReturnShipment.objects.filter(
        return_request=return_request, direction=ShipmentDirection.TO_CUSTOMER, shipped_at__isnull=True
    ).exists()


def order_lines_write_off(units: dict[int, int]) -> None:
    """Count units as written off (scrapped, or lost by a carrier) on their (locked) order lines; a
    negative count takes them back (a lost parcel that turned up)."""
    for order_line_id, count in sorted(units.items()):
        if count:
            OrderLine.objects.filter(pk=order_line_id).update(quantity_written_off=F("quantity_written_off") + count)


def units_count_in(lines: Sequence[ReturnLine], counted: Mapping[int, int]) -> None:
    """Raise the received counters of the (locked) return lines and their order lines together, by
    ``counted`` units per return line id; the lines in memory follow."""
    for line in lines:
        units = counted.get(line.pk, 0)
        if units:
            ReturnLine.objects.filter(pk=line.pk).update(quantity_received=F("quantity_received") + units)
            OrderLine.objects.filter(pk=line.order_line_id).update(quantity_received=F("quantity_received") + units)
            line.quantity_received += units


def units_accept_unjudged(lines: Sequence[ReturnLine]) -> dict[str, int]:
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
