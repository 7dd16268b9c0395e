"""Supplier claims: the warranty cost of a repair claimed back from the manufacturer."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from aftersales.models import User
from repairs.locks import repair_order_lock, supplier_claim_lock
from repairs.models import SUPPLIER_CLAIM_TRANSITIONS, RepairOrder, SupplierClaim, SupplierClaimStatus
from repairs.roles import require_decider
from repairs.selectors.costs import warranty_cost
from repairs.timeline import RepairVerb
from tickets.timeline import event_append

# Every claim move appends its event to the repair's case, internal: the customer never sees it.
MOVE_VERBS: dict[str, str] = {
    SupplierClaimStatus.SENT: RepairVerb.CLAIM_SENT,
    SupplierClaimStatus.PAID: RepairVerb.CLAIM_PAID,
    SupplierClaimStatus.REJECTED: RepairVerb.CLAIM_REJECTED,
}


def supplier_claim_open(
    *, repair_order: RepairOrder, actor: User, supplier: str, amount: Decimal | None = None
) -> SupplierClaim:
    """Open a claim for the repair's warranty cost (or ``amount``, never more than it)."""
    supplier = (supplier or "").strip()
    if not supplier:
        raise InvalidInput(_("Name the supplier."), code="supplier_required", extra={"field": "supplier"})
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk)
        require_decider(actor, repair_order.merchant_id)
        cost = warranty_cost(repair_order)
        amount = cost if amount is None else amount
        if amount <= 0 or amount > cost:
            raise InvalidInput(
                _("Claim between 0 and the warranty cost, %(cost)s.") % {"cost": cost}, code="invalid_claim_amount"
            )
        claim, created = SupplierClaim.objects.get_or_create(
            repair_order=repair_order,
            defaults={"merchant_id": repair_order.merchant_id, "supplier": supplier[:200], "amount": amount},
        )
        if not created:
            raise Conflict(_("This repair already has a supplier claim."), code="claim_exists")
        event_append(
            repair_order.ticket,
            RepairVerb.CLAIM_OPENED,
            actor_user=actor,
            data={"claim": claim.pk, "supplier": claim.supplier, "amount": str(claim.amount)},
        )
    return claim


def supplier_claim_move(
    *, claim: SupplierClaim, actor: User, status: str, reference: str = "", amount_paid: Decimal | None = None
) -> SupplierClaim:
    """Sent, paid (with what was paid) or rejected, as ``SUPPLIER_CLAIM_TRANSITIONS`` allows."""
    with transaction.atomic():
        claim = supplier_claim_lock(claim.pk)
        require_decider(actor, claim.merchant_id)
        if status not in SUPPLIER_CLAIM_TRANSITIONS[claim.status]:
            raise TransitionNotAllowed(
                _("A claim that is %(current)s cannot become %(target)s.")
                % {"current": claim.get_status_display(), "target": SupplierClaimStatus(status).label},
                extra={"from": claim.status, "to": status},
            )
        fields = ["status", "updated_at"]
        if status == SupplierClaimStatus.PAID:
            paid = claim.amount if amount_paid is None else amount_paid
            if paid <= 0 or paid > claim.amount:
                raise InvalidInput(_("Paid between 0 and the amount claimed."), code="invalid_paid_amount")
            claim.amount_paid = paid
            fields.append("amount_paid")
        if reference.strip():
            claim.reference = reference.strip()[:100]
            fields.append("reference")
        claim.status = status
        claim.save(update_fields=fields)
        event_append(
            claim.repair_order.ticket,
            MOVE_VERBS[status],
            actor_user=actor,
            data={
                "claim": claim.pk,
                "reference": claim.reference,
                **({"amount_paid": str(claim.amount_paid)} if status == SupplierClaimStatus.PAID else {}),
            },
        )
    return claim
