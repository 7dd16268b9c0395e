"""Quotes for work the customer pays: sent (lines, tax, validity), approved or declined by the
customer (portal or signed link) or staff for them, expired by the timers sweep."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import Customer, User
from repairs import timers
from repairs.locks import open_quote_lock, repair_order_lock
from repairs.models import (
    LineCoverage,
    LineKind,
    Part,
    QuoteStatus,
    RepairLine,
    RepairMode,
    RepairOrder,
    RepairQuote,
    RepairStatus,
)
from repairs.roles import require_decider, require_party
from repairs.sanbao import SanbaoFloor
from repairs.selectors.eligibility import repair_policy_for
from repairs.services._transitions import repair_move, transition_check
from repairs.timeline import RepairVerb
from tickets.notify import notify_customer
from tickets.timeline import event_append

CENT = Decimal("0.01")


@dataclass(frozen=True)
class LineInput:
    kind: str
    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")
    unit_cost: Decimal = Decimal("0")
    part: Part | None = None


def _check_line(line: LineInput, merchant_id: int) -> None:
    if line.kind not in LineKind.values:
        raise InvalidInput(_("Pick the kind of each line."), code="invalid_line_kind")
    if not line.description.strip():
        raise InvalidInput(_("Describe each line."), code="line_description_required")
    if line.quantity <= 0 or line.unit_price < 0 or line.unit_cost < 0:
        raise InvalidInput(_("Quantities are positive and prices not negative."), code="invalid_line_amount")
    if (line.kind == LineKind.PART) != (line.part is not None):
        raise InvalidInput(_("A part line names its part."), code="part_required")
    if line.part is not None and line.part.merchant_id != merchant_id:
        raise InvalidInput(_("Unknown part."), code="unknown_part")


def device_in_hand(repair_order: RepairOrder) -> bool:
    return repair_order.device_received_at is not None


def repair_quote_send(
    *, repair_order: RepairOrder, actor: User, lines: Sequence[LineInput], note: str = ""
) -> RepairQuote:
    """Ask the customer to approve paid work: the lines are the customer's to pay, taxed at the
    policy's rate, valid for the policy's days (a timer expires it)."""
    if not lines:
        raise InvalidInput(_("A quote needs at least one line."), code="quote_empty")
    for line in lines:
        _check_line(line, repair_order.merchant_id)
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_decider(actor, repair_order.merchant_id)
        transition_check(repair_order, RepairStatus.QUOTED)
        floor = SanbaoFloor.from_snapshot(repair_order.legal_floor)
        diagnosis = repair_order.diagnosis_code
        if (
            floor.free_repair
            and not (diagnosis and diagnosis.voids_warranty)
            and not repair_order.eligibility.get("exclusions")
        ):
            raise TransitionNotAllowed(
                _("The 三包 rules make this repair free: it cannot be quoted."), code="legal_floor_free_repair"
            )
        policy = repair_policy_for(repair_order.merchant_id)
        now = timezone.now()
        subtotal = sum(((line.unit_price * line.quantity).quantize(CENT) for line in lines), Decimal("0.00"))
        tax = (subtotal * policy.tax_rate).quantize(CENT, rounding=ROUND_HALF_UP)
        quote = RepairQuote.objects.create(
            merchant_id=repair_order.merchant_id,
            repair_order=repair_order,
            tax_rate=policy.tax_rate,
            subtotal=subtotal,
            tax_amount=tax,
            total=subtotal + tax,
            valid_until=now + timedelta(days=policy.quote_validity_days),
            note=note.strip(),
        )
        RepairLine.objects.bulk_create(
            RepairLine(
                merchant_id=repair_order.merchant_id,
                repair_order=repair_order,
                quote=quote,
                kind=line.kind,
                part=line.part,
                description=line.description.strip(),
                quantity=line.quantity,
                unit_price=line.unit_price,
                unit_cost=line.unit_cost,
                coverage=LineCoverage.CUSTOMER,
            )
            for line in lines
        )
        repair_move(repair_order, RepairStatus.QUOTED, actor=actor)
        timers.start_quote_expiry(repair_order, quote, at=now)
        event_append(
            repair_order.ticket,
            RepairVerb.QUOTE_SENT,
            actor_user=actor,
            data={"quote": quote.pk, "total": str(quote.total), "valid_until": quote.valid_until.isoformat()},
            public=True,
        )
        notify_customer(
            repair_order.ticket,
            "repair_quote",
            {"total": str(quote.total), "currency": repair_order.merchant.currency},
        )
    return quote


def _open_quote(repair_order: RepairOrder) -> RepairQuote:
    quote = open_quote_lock(repair_order)
    if quote is None or repair_order.status != RepairStatus.QUOTED:
        raise TransitionNotAllowed(_("There is no quote waiting for an answer."), code="no_open_quote")
    return quote


def repair_quote_approve(
    *, repair_order: RepairOrder, customer: Customer | None = None, actor: User | None = None
) -> RepairOrder:
    """The customer agrees to pay: the work goes on from where it stopped (device in hand: the
    repair; on site: a visit to book; otherwise the device is sent or brought in)."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_party(repair_order, customer=customer, actor=actor)
        quote = _open_quote(repair_order)
        now = timezone.now()
        if now >= quote.valid_until:
            raise TransitionNotAllowed(_("This quote has expired."), code="quote_expired")
        quote.status, quote.decided_at = QuoteStatus.APPROVED, now
        quote.save(update_fields=["status", "decided_at", "updated_at"])
        timers.meet(repair_order, timers.QUOTE_EXPIRY, at=now)
        repair_move(repair_order, RepairStatus.QUOTE_APPROVED, actor=actor, customer=customer)
        event_append(
            repair_order.ticket,
            RepairVerb.QUOTE_APPROVED,
            actor_user=actor,
            actor_customer=customer,
            data={"quote": quote.pk, "total": str(quote.total)},
            public=True,
        )
        if device_in_hand(repair_order) or repair_order.diagnosed_at is not None:
            repair_move(repair_order, RepairStatus.IN_REPAIR, actor=actor, customer=customer)
        elif repair_order.mode != RepairMode.ON_SITE:
            repair_move(repair_order, RepairStatus.AWAITING_DEVICE, actor=actor, customer=customer)
            event_append(repair_order.ticket, RepairVerb.AWAITING_DEVICE, public=True)
            notify_customer(
                repair_order.ticket,
                "repair_send_device",
                {
                    "product_name": repair_order.product.name,
                    "centre": repair_order.service_centre.name if repair_order.service_centre else "",
                    "centre_address": repair_order.service_centre.address if repair_order.service_centre else "",
                },
            )
    return repair_order


def _unrepaired(repair_order: RepairOrder, status: str, *, actor: User | None, customer: Customer | None) -> None:
    """After a declined or expired quote: a device in hand goes back unrepaired (with the policy's
    inspection fee); without it the repair closes."""
    if device_in_hand(repair_order):
        fee = repair_policy_for(repair_order.merchant_id).inspection_fee
        if fee > 0:
            RepairLine.objects.create(
                merchant_id=repair_order.merchant_id,
                repair_order=repair_order,
                kind=LineKind.FEE,
                description=_("Inspection fee"),
                unit_price=fee,
                coverage=LineCoverage.CUSTOMER,
            )
        repair_move(repair_order, RepairStatus.READY, actor=actor, customer=customer)
        notify_customer(repair_order.ticket, "repair_ready", {"unrepaired": True, "fee": str(fee) if fee else ""})
    else:
        repair_order.closed_at = timezone.now()
        repair_move(repair_order, RepairStatus.CLOSED, actor=actor, customer=customer, fields=["closed_at"])


def repair_quote_decline(
    *, repair_order: RepairOrder, customer: Customer | None = None, actor: User | None = None, reason: str = ""
) -> RepairOrder:
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        require_party(repair_order, customer=customer, actor=actor)
        quote = _open_quote(repair_order)
        now = timezone.now()
        quote.status, quote.decided_at, quote.decline_reason = QuoteStatus.DECLINED, now, reason.strip()
        quote.save(update_fields=["status", "decided_at", "decline_reason", "updated_at"])
        timers.meet(repair_order, timers.QUOTE_EXPIRY, at=now)
        repair_move(repair_order, RepairStatus.DECLINED, actor=actor, customer=customer)
        event_append(
            repair_order.ticket,
            RepairVerb.QUOTE_DECLINED,
            actor_user=actor,
            actor_customer=customer,
            data={"quote": quote.pk, **({"reason": reason.strip()} if reason.strip() else {})},
            public=True,
        )
        _unrepaired(repair_order, RepairStatus.DECLINED, actor=actor, customer=customer)
    return repair_order


def repair_quote_expire(*, repair_order: RepairOrder) -> RepairOrder:
    """The validity passed in silence (the sweep): as declined."""
    with transaction.atomic():
        repair_order = repair_order_lock(repair_order.pk, with_ticket=True)
        quote = _open_quote(repair_order)
        now = timezone.now()
        if now < quote.valid_until:
            return repair_order
        quote.status, quote.decided_at = QuoteStatus.EXPIRED, now
        quote.save(update_fields=["status", "decided_at", "updated_at"])
        repair_move(repair_order, RepairStatus.EXPIRED)
        event_append(repair_order.ticket, RepairVerb.QUOTE_EXPIRED, data={"quote": quote.pk}, public=True)
        _unrepaired(repair_order, RepairStatus.EXPIRED, actor=None, customer=None)
    return repair_order
