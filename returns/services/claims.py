"""Parcels lost by the carrier and the claims on it: staff declare the parcel lost (the return is
settled without it and a claim opened), then the claim is decided once — paid (with what came
back), rejected by the carrier, or withdrawn because the parcel turned up after all.

The customer's settlement never waits on the claim: by the time a claim is open the return is
already being settled. A claim only records what the merchant gets back from the carrier.

Lock order, as everywhere in returns: the return request first, then the claim. Each decision
checks ``CLAIM_TRANSITIONS``, writes, and appends its (internal) ticket event in one transaction;
a refusal changes nothing.
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from aftersales.models import User
from returns.ledger import (
    money,
)
from returns.locks import (
    carrier_claim_lock,
    inbound_shipment_lock,
    order_lines_lock,
    return_lines_lock,
    return_request_lock,
    return_shipment_lock,
)
from returns.models import (
    CarrierClaim,
    ClaimState,
    Resolution,
    Responsibility,
    ReturnLine,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
)
from returns.roles import (
    require_claim_role,
)
from returns.services._settling import refund_agent_limit_check, shipping_refundable
from returns.services._transitions import (
    order_lines_write_off,
    return_move,
    settled_units,
    units_accept_unjudged,
    units_count_in,
)
from returns.services.settlement import settlement_start
from returns.timeline import ReturnVerb
from tickets.models import TicketStatus
from tickets.notify import notify_customer
from tickets.services import ticket_follow_workflow
from tickets.timeline import event_append

CENT = Decimal("0.01")


REFERENCE_MAX_LENGTH = 100


def paid_value(lines: Sequence[ReturnLine]) -> Decimal:
    """What the customer paid for every unit of the return lines (the line's discount spread over
    its units): the value a lost parcel is claimed for."""
    total = Decimal("0")
    for line in lines:
        order_line = line.order_line
        total += order_line.paid_amount * line.quantity / order_line.quantity
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def carrier_claim_open(
    *,
    return_request: ReturnRequest,
    shipment: ReturnShipment,
    lines: Sequence[ReturnLine],
    units_lost: dict[int, int],
    actor: User | None,
    note: str = "",
) -> CarrierClaim:
    """Open the claim for a parcel just declared lost, inside the caller's transaction (which
    holds the return's lock). One open claim per return; the database says so too."""
    try:
        with transaction.atomic():
            claim = CarrierClaim.objects.create(
                merchant_id=return_request.merchant_id,
                return_request=return_request,
                shipment=shipment,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                amount_claimed=paid_value(lines),
                units_lost={str(order_line_id): units for order_line_id, units in units_lost.items() if units},
                currency=return_request.order.currency,
                notes=note,
                opened_by=actor,
                opened_at=timezone.now(),
            )
    except IntegrityError as exc:
        raise Conflict(_("This return already has an open carrier claim."), code="claim_already_open") from exc
    event_append(
        return_request.ticket,
        ReturnVerb.CARRIER_CLAIM_OPENED,
        actor_user=actor,
        data={
            "claim": claim.pk,
            "carrier": claim.carrier,
            "tracking_number": claim.tracking_number,
            "amount": str(claim.amount_claimed),
            "currency": claim.currency,
            "note": note,
        },
    )
    return claim


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
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        membership = require_claim_role(actor, return_request.merchant_id)
        shipment = inbound_shipment_lock(return_request)
        if return_request.status != ReturnStatus.IN_TRANSIT or shipment is None or not shipment.tracking_number:
            # The table lets a received return settle too; this rule is for a parcel on its way.
            raise TransitionNotAllowed(
                _("Only a parcel in transit, with its tracking number, can be declared lost."),
                code="not_in_transit",
                extra={"from": return_request.status, "to": ReturnStatus.SETTLING},
            )
        lines = return_lines_lock(return_request)
        if return_request.resolution != Resolution.EXCHANGE:
            # What the settlement that follows will pay, as ``refund_decide`` counts it: the units still
            # unsettled and, when the reason is the merchant's fault, the order's shipping.
            settled = settled_units(return_request)
            amount = sum(
                (line.unit_refund_amount * max(line.quantity - settled.get(line.pk, 0), 0) for line in lines),
                Decimal("0"),
            )
            if return_request.reason.responsibility == Responsibility.MERCHANT and return_request.order.shipping_amount:
                amount += shipping_refundable(return_request.order)
            refund_agent_limit_check(membership, return_request, amount)
        return_move(return_request, ReturnStatus.SETTLING)
        return_request.save(update_fields=["status", "updated_at"])
        now = timezone.now()
        shipment.lost_at = now
        shipment.save(update_fields=["lost_at", "updated_at"])
        lost = {line.order_line_id: line.quantity - line.quantity_received for line in lines}
        units_count_in(lines, {line.pk: line.quantity - line.quantity_received for line in lines})
        accepted = units_accept_unjudged(lines)
        order_lines_write_off(lost)
        ticket = return_request.ticket
        event_append(
            ticket,
            ReturnVerb.PARCEL_LOST,
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


def _lock_claim(claim: CarrierClaim) -> tuple[ReturnRequest, CarrierClaim]:
    return_request = return_request_lock(claim.return_request_id, with_ticket=True)
    return return_request, carrier_claim_lock(claim.pk)


def _decide(claim: CarrierClaim, state: str, actor: User) -> None:
    """Move the (locked) claim to ``state`` by the table, or refuse."""
    if not claim.can_transition_to(state):
        raise TransitionNotAllowed(
            _("A claim that is %(current)s cannot become %(target)s.")
            % {"current": claim.get_state_display(), "target": ClaimState(state).label},
            code="claim_already_decided",
            extra={"from": claim.state, "to": state},
        )
    claim.state = state
    claim.decided_by = actor
    claim.decided_at = timezone.now()


def carrier_claim_settle(
    *, claim: CarrierClaim, actor: User, amount_recovered: Decimal | str | int, reference: str
) -> CarrierClaim:
    """The carrier paid the claim: how much came back (up to what was claimed) and its reference.
    The same answer again (an API retry) returns the claim unchanged."""
    amount = money(amount_recovered, "amount_recovered")
    reference = (reference or "").strip()
    if amount <= 0:
        raise InvalidInput(
            _("Enter the amount the carrier paid; a claim paid nothing is rejected."),
            code="amount_not_positive",
            extra={"field": "amount_recovered"},
        )
    if not reference:
        raise InvalidInput(
            _("Enter the carrier's reference for the payment."),
            code="reference_required",
            extra={"field": "reference"},
        )
    with transaction.atomic():
        return_request, claim = _lock_claim(claim)
        require_claim_role(actor, claim.merchant_id)
        if (
            claim.state == ClaimState.PAID
            and claim.amount_recovered == amount
            and claim.carrier_reference == reference[:REFERENCE_MAX_LENGTH]
        ):
            return claim
        if amount > claim.amount_claimed:
            raise InvalidInput(
                _("At most %(amount)s %(currency)s was claimed.")
                % {"amount": claim.amount_claimed, "currency": claim.currency},
                code="amount_exceeds_claim",
                extra={"field": "amount_recovered", "claimed": str(claim.amount_claimed)},
            )
        _decide(claim, ClaimState.PAID, actor)
        claim.amount_recovered = amount
        claim.carrier_reference = reference[:REFERENCE_MAX_LENGTH]
        claim.save(
            update_fields=[
                "state",
                "decided_by",
                "decided_at",
                "amount_recovered",
                "carrier_reference",
                "updated_at",
            ]
        )
        event_append(
            return_request.ticket,
            ReturnVerb.CARRIER_CLAIM_PAID,
            actor_user=actor,
            data={
                "claim": claim.pk,
                "amount": str(amount),
                "claimed": str(claim.amount_claimed),
                "currency": claim.currency,
                "reference": claim.carrier_reference,
            },
        )
    return claim


def carrier_claim_reject(*, claim: CarrierClaim, actor: User, reason: str) -> CarrierClaim:
    """The carrier refused to pay; the merchant bears the loss. The reason is kept for the record."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Say why the carrier rejected the claim."), code="reason_required", extra={"field": "reason"}
        )
    with transaction.atomic():
        return_request, claim = _lock_claim(claim)
        require_claim_role(actor, claim.merchant_id)
        _decide(claim, ClaimState.REJECTED, actor)
        claim.decision_note = reason
        claim.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"])
        event_append(
            return_request.ticket,
            ReturnVerb.CARRIER_CLAIM_REJECTED,
            actor_user=actor,
            data={"claim": claim.pk, "reason": reason},
        )
    return claim


def carrier_claim_withdraw(*, claim: CarrierClaim, actor: User, note: str = "") -> CarrierClaim:
    """The parcel turned up after all: the claim is withdrawn and the parcel recorded as received.

    Its units were counted in and settled when it was declared lost, so nothing is counted again;
    the warehouse puts the items away as they are.
    """
    note = (note or "").strip()
    with transaction.atomic():
        return_request, claim = _lock_claim(claim)
        require_claim_role(actor, claim.merchant_id)
        _decide(claim, ClaimState.WITHDRAWN, actor)
        claim.decision_note = note
        claim.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"])
        # The units are back in the warehouse: no longer written off (the order lines are locked
        # after the return, in id order, as every return service does).
        found = {int(order_line_id): -units for order_line_id, units in claim.units_lost.items()}
        order_lines_lock(found)
        order_lines_write_off(found)
        shipment = return_shipment_lock(claim.shipment_id)
        if shipment.received_at is None:
            shipment.received_at, shipment.received_by = claim.decided_at, actor
            shipment.save(update_fields=["received_at", "received_by", "updated_at"])
        event_append(
            return_request.ticket,
            ReturnVerb.CARRIER_CLAIM_WITHDRAWN,
            actor_user=actor,
            data={"claim": claim.pk, "note": note},
        )
    return claim
