"""Claims on the carrier for a return parcel it lost: opened when staff declare the parcel lost
(``return_parcel_declare_lost``), then decided once — paid (with what came back), rejected by the
carrier, or withdrawn because the parcel turned up after all.

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

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership, OrderLine, User
from aftersales.services.staff import staff_membership_required
from returns.models import CarrierClaim, ClaimState, ReturnLine, ReturnRequest, ReturnShipment
from returns.services.refunds import REFUND_ROLES, _money
from returns.services.requests import _lock, order_lines_write_off
from tickets.timeline import event_append

CENT = Decimal("0.01")
# Who may declare a parcel lost and decide its claim: those who may refund, since a lost parcel
# is paid for without the goods coming back.
CLAIM_ROLES = REFUND_ROLES
REFERENCE_MAX_LENGTH = 100


def claim_staff_required(actor: User | None, merchant_id: int) -> Membership:
    """The actor's membership at the merchant, with a role that may work carrier claims."""
    if actor is None:
        raise PermissionRefused(_("You are not a member of this merchant's staff."))
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role not in CLAIM_ROLES:
        raise PermissionRefused(
            _("Your role does not allow lost parcels and carrier claims."), code="role_cannot_claim"
        )
    return membership


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
        "carrier_claim_opened",
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


def _lock_claim(claim: CarrierClaim) -> tuple[ReturnRequest, CarrierClaim]:
    return_request = _lock(ReturnRequest(pk=claim.return_request_id))
    return return_request, CarrierClaim.objects.select_for_update().get(pk=claim.pk)


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


def carrier_claim_settle(*, claim: CarrierClaim, actor: User, amount_recovered, reference: str) -> CarrierClaim:
    """The carrier paid the claim: how much came back (up to what was claimed) and its reference.
    The same answer again (an API retry) returns the claim unchanged."""
    amount = _money(amount_recovered, "amount_recovered")
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
        claim_staff_required(actor, claim.merchant_id)
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
            "carrier_claim_paid",
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
        claim_staff_required(actor, claim.merchant_id)
        _decide(claim, ClaimState.REJECTED, actor)
        claim.decision_note = reason
        claim.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"])
        event_append(
            return_request.ticket,
            "carrier_claim_rejected",
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
        claim_staff_required(actor, claim.merchant_id)
        _decide(claim, ClaimState.WITHDRAWN, actor)
        claim.decision_note = note
        claim.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"])
        # The units are back in the warehouse: no longer written off (the order lines are locked
        # after the return, in id order, as every return service does).
        found = {int(order_line_id): -units for order_line_id, units in claim.units_lost.items()}
        list(OrderLine.objects.select_for_update().filter(pk__in=found).order_by("pk").values_list("pk", flat=True))
        order_lines_write_off(found)
        shipment = ReturnShipment.objects.select_for_update().get(pk=claim.shipment_id)
        if shipment.received_at is None:
            shipment.received_at, shipment.received_by = claim.decided_at, actor
            shipment.save(update_fields=["received_at", "received_by", "updated_at"])
        event_append(
            return_request.ticket,
            "carrier_claim_withdrawn",
            actor_user=actor,
            data={"claim": claim.pk, "note": note},
        )
    return claim
