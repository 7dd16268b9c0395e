"""Exchanges: the replacement parcel, the price difference of the variants the customer asked
for (paid by them when dearer, refunded to them when cheaper), and the refund of a difference paid
for replacements that are not sent.
"""

import logging
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError, Conflict, InvalidInput, TransitionNotAllowed
from aftersales.models import OrderLine, Product, User
from returns.ledger import (
    ZERO,
    difference_grant_key,
    exchange_surplus_grant_key,
    settleable_units,
)
from returns.locks import (
    order_lines_lock,
    order_lock,
    return_request_lock,
)
from returns.models import (
    DIFFERENCE_NOT_PAYABLE_STATUSES,
    Refund,
    RefundExecution,
    RefundMethod,
    RefundState,
    ReplacementShipment,
    Resolution,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from returns.roles import (
    require_difference_role,
    require_staff_or_system,
)
from returns.services._settling import refund_decide, return_complete_if_settled
from returns.services._transitions import return_settling_enter, settled_units
from returns.services.refunds import refund_execute
from returns.timeline import ReturnVerb
from tickets.notify import notify_customer
from tickets.timeline import event_append

logger = logging.getLogger(__name__)


def _wanted_replacements(
    return_lines: dict[int, ReturnLine],
    lines: Sequence[tuple[OrderLine, int, str]] | None,
    settled: dict[int, int],
) -> list[tuple[ReturnLine, int, str]]:
    """``[(return line, units, sku)]``: as given, or every unit still held; an empty SKU is the
    variant the customer asked for, else the SKU ordered."""
    wanted: list[tuple[ReturnLine, int, str]] = []
    if lines is None:
        wanted = [
            (line, settleable_units(line) - settled.get(line.pk, 0), line.exchange_sku or line.order_line.sku)
            for line in return_lines.values()
        ]
        return [item for item in wanted if item[1] > 0]
    seen: set[int] = set()
    for order_line, quantity, sku in lines:
        return_line = return_lines.get(order_line.pk)
        if return_line is None:
            raise InvalidInput(
                _("That item is not in this return."), code="line_not_in_return", extra={"line": order_line.pk}
            )
        if order_line.pk in seen:
            raise InvalidInput(_("Each item once, please."), code="duplicate_line")
        seen.add(order_line.pk)
        if int(quantity) != quantity or quantity < 1:
            raise InvalidInput(_("Pick at least one unit."), code="invalid_quantity", extra={"line": order_line.pk})
        default_sku = return_line.exchange_sku or return_line.order_line.sku
        wanted.append((return_line, int(quantity), (sku or "").strip() or default_sku))
    return wanted


def _products_sent(merchant_id: int, wanted: Sequence[tuple[ReturnLine, int, str]]) -> dict[str, int | None]:
    """The product of each SKU sent: the variant wished for or the item ordered, as the return
    line knows them; a SKU staff typed instead is looked up among the merchant's products."""
    known: dict[str, int | None] = {}
    for return_line, _units, sku in wanted:
        if sku == return_line.exchange_sku:
            known[sku] = return_line.exchange_product_id
        elif sku == return_line.order_line.sku:
            known[sku] = return_line.order_line.product_id
    typed = {sku for _line, _units, sku in wanted if sku not in known}
    if typed:
        found = dict(Product.objects.filter(merchant_id=merchant_id, sku__in=typed).values_list("sku", "pk"))
        known.update({sku: found.get(sku) for sku in typed})
    return known


def _grant_difference_refund(
    return_request: ReturnRequest, wanted: Sequence[tuple[ReturnLine, int, str]], shipments: list[ReplacementShipment]
) -> Refund | None:
    """In the (locked) return's transaction: the refund of what cheaper variants save the customer,
    for the units of this parcel, at the difference fixed when the return was submitted. The
    shop's side of the exchange agreed then, so it is granted by the system, not by whoever
    packs the parcel (a warehouse role may ship but not refund)."""
    if return_request.resolution != Resolution.EXCHANGE:
        return None
    allocations = [
        (return_line.order_line, 0, -return_line.price_difference_per_unit * units)
        for return_line, units, _sku in wanted
        if return_line.price_difference_per_unit is not None and return_line.price_difference_per_unit < 0
    ]
    if not allocations:
        return None
    _locked, refund, _created = refund_decide(
        return_request=return_request,
        actor=None,
        method=RefundMethod.ORIGINAL_PAYMENT,
        lines=allocations,
        reason=_("Price difference of the exchange %(number)s") % {"number": return_request.ticket.number},
        shipping_amount=ZERO,
        grant_key=difference_grant_key(shipments[0]),
        quick=False,
    )
    return refund


def exchange_ship(
    *,
    return_request: ReturnRequest,
    actor: User | None,
    lines: Sequence[tuple[OrderLine, int, str]] | None = None,
    carrier: str,
    tracking_number: str,
    pay_difference: bool = True,
) -> list[ReplacementShipment]:
    """Record a replacement parcel: ``lines`` is ``[(order_line, units, sku sent)]`` (an empty SKU
    is the variant the customer asked for, or else the SKU ordered); None sends every unit the
    return still holds that way. A replay with the same carrier and tracking number returns the
    first record.

    The price difference of the variants asked for was fixed when the return was submitted and
    follows the units shipped, whatever SKU staff send in the end. A dearer variant is paid first:
    the parcel is refused until staff confirm it (``exchange_difference_confirm_paid``). A cheaper
    one is refunded for the units of this parcel: granted in the parcel's transaction, then paid
    through the merchant's adapter once it has committed — so call this outside a transaction, or
    pass ``pay_difference=False`` and pay with ``exchange_difference_refund_pay`` after yours.
    """
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or not tracking_number:
        raise InvalidInput(
            _("Enter the carrier and the tracking number."),
            code="tracking_required",
            extra={"field": "tracking_number" if carrier else "carrier"},
        )
    # Paying the difference calls the adapter after this commits: durable, so that running it
    # inside a caller's transaction is an error rather than a payment made under its locks.
    with transaction.atomic(durable=pay_difference):
        return_request = return_request_lock(return_request.pk)
        require_staff_or_system(actor, return_request.merchant_id)
        same_parcel = list(
            ReplacementShipment.objects.filter(
                merchant_id=return_request.merchant_id, carrier=carrier, tracking_number=tracking_number
            ).order_by("pk")
        )
        if same_parcel:
            if any(shipment.return_request_id != return_request.pk for shipment in same_parcel):
                raise Conflict(_("That tracking number belongs to another return."), code="tracking_reused")
            shipments = same_parcel
        else:
            shipments = _ship(return_request, actor, lines, carrier, tracking_number)
    if pay_difference:
        exchange_difference_refund_pay(shipments=shipments)
    return shipments


def _ship(
    return_request: ReturnRequest,
    actor: User | None,
    lines: Sequence[tuple[OrderLine, int, str]] | None,
    carrier: str,
    tracking_number: str,
) -> list[ReplacementShipment]:
    """A new replacement parcel for the (locked) return, in the caller's transaction."""
    if return_request.exchange_difference_unpaid:
        raise Conflict(
            _(
                "The customer still owes a price difference of %(amount)s %(currency)s for the variants "
                "they asked for; confirm it is paid before shipping the replacement."
            )
            % {"amount": return_request.exchange_difference_due, "currency": return_request.order.currency},
            code="exchange_difference_unpaid",
            extra={"amount": str(return_request.exchange_difference_due)},
        )
    return_settling_enter(return_request, actor)
    settled = settled_units(return_request)
    return_lines = {line.order_line_id: line for line in return_request.lines.select_related("order_line")}
    wanted = _wanted_replacements(return_lines, lines, settled)
    if not wanted:
        raise Conflict(_("Every unit of this return is already settled."), code="nothing_to_exchange")
    if return_request.order.shipping_amount > 0 and any(
        (line.price_difference_per_unit or ZERO) < 0 for line, _units, _sku in wanted
    ):
        # The difference refund locks the order (its shipping cap) before the lines, as every
        # refund does; taken here first, so that this parcel keeps the same lock order.
        order_lock(return_request.order_id)
    locked = {line.pk: line for line in order_lines_lock(item[0].order_line_id for item in wanted)}
    for return_line, quantity, _sku in wanted:
        units_left = settleable_units(return_line) - settled.get(return_line.pk, 0)
        if quantity > units_left:
            line = locked[return_line.order_line_id]
            raise Conflict(
                _("%(item)s: only %(count)s more units of this return can be settled.")
                % {"item": line.name, "count": max(units_left, 0)},
                code="units_exceed_return",
                extra={"line": line.pk, "units_left": max(units_left, 0)},
            )
    products = _products_sent(return_request.merchant_id, wanted)
    now = timezone.now()
    shipments = ReplacementShipment.objects.bulk_create(
        ReplacementShipment(
            merchant_id=return_request.merchant_id,
            return_request=return_request,
            return_line=return_line,
            order_line_id=return_line.order_line_id,
            sku=sku,
            product_id=products[sku],
            quantity=quantity,
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_by=actor,
            shipped_at=now,
        )
        for return_line, quantity, sku in wanted
    )
    for return_line, quantity, _sku in wanted:
        OrderLine.objects.filter(pk=return_line.order_line_id).update(
            quantity_exchanged=F("quantity_exchanged") + quantity
        )
    refund = _grant_difference_refund(return_request, wanted, shipments)
    event_append(
        return_request.ticket,
        ReturnVerb.REPLACEMENT_SHIPPED,
        actor_user=actor,
        data={
            "carrier": carrier,
            "tracking_number": tracking_number,
            "lines": {str(return_line.order_line_id): {"units": q, "sku": sku} for return_line, q, sku in wanted},
            **({"difference_refund": refund.pk, "difference_refunded": str(refund.amount)} if refund else {}),
        },
        public=True,
    )
    notify_customer(
        return_request.ticket,
        "return_replacement_shipped",
        {"carrier": carrier, "tracking_number": tracking_number, "units": sum(q for _line, q, _sku in wanted)},
    )
    return_complete_if_settled(return_request, actor)
    return shipments


def exchange_difference_refund_pay(
    *, shipments: Sequence[ReplacementShipment], idempotency_key: str = ""
) -> RefundExecution | None:
    """Pay the price-difference refund granted with a replacement parcel, if any and not yet sent
    to the adapter; returns its execution (None: nothing to refund). Once the payment call
    exists it is the refund ledger's, retried and confirmed there, so a replayed parcel never
    pays twice. Call it outside a transaction."""
    if not shipments:
        return None
    refund = Refund.objects.filter(
        merchant_id=shipments[0].merchant_id, grant_key=difference_grant_key(shipments[0])
    ).first()
    if refund is None or refund.state == RefundState.VOIDED:
        return None
    existing = RefundExecution.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    return refund_execute(refund=refund, idempotency_key=idempotency_key or None)


def exchange_difference_confirm_paid(*, return_request: ReturnRequest, actor: User, reference: str) -> ReturnRequest:
    """Staff confirm that the customer paid the price difference of the dearer variants they asked
    for (in the shop's back office, a payment link, …), with its reference; the replacement may
    then ship. Confirming again with the same reference changes nothing. Confirmed once
    inspection rejected every unit, nothing will ship: the settlement starts and refunds it."""
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(
            _("Enter the reference of the customer's payment."), code="reference_required", extra={"field": "reference"}
        )
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk)
        require_difference_role(actor, return_request.merchant_id)
        if return_request.resolution != Resolution.EXCHANGE or return_request.exchange_difference_due <= 0:
            raise Conflict(_("Nothing is owed on this return."), code="no_difference_due")
        if return_request.exchange_difference_paid_at is not None:
            if return_request.exchange_difference_reference == reference[:200]:
                return return_request
            raise Conflict(_("This payment was already confirmed."), code="already_confirmed")
        if return_request.status in DIFFERENCE_NOT_PAYABLE_STATUSES:
            raise TransitionNotAllowed(
                _("A return that is %(current)s takes no payment.") % {"current": return_request.get_status_display()},
                code="return_closed",
            )
        return_request.exchange_difference_paid_at = timezone.now()
        return_request.exchange_difference_reference = reference[:200]
        return_request.exchange_difference_confirmed_by = actor
        return_request.save(
            update_fields=[
                "exchange_difference_paid_at",
                "exchange_difference_reference",
                "exchange_difference_confirmed_by",
                "updated_at",
            ]
        )
        amount, currency = str(return_request.exchange_difference_due), return_request.order.currency
        event_append(
            return_request.ticket,
            ReturnVerb.EXCHANGE_DIFFERENCE_PAID,
            actor_user=actor,
            data={"amount": amount, "currency": currency, "reference": return_request.exchange_difference_reference},
            public=True,
        )
        notify_customer(
            return_request.ticket, "return_exchange_difference_paid", {"amount": amount, "currency": currency}
        )
        if return_request.status == ReturnStatus.INSPECTED and not any(
            settleable_units(line) for line in return_request.lines.all()
        ):
            # Paid after inspection rejected every unit: no replacement will be sent, so the
            # settlement starts now and gives the payment back (``return_complete_if_settled``).
            return_settling_enter(return_request, actor)
        return_complete_if_settled(return_request, actor)
    return return_request


def exchange_surplus_refund_pay(*, return_request: ReturnRequest) -> RefundExecution | None:
    """Pay the refund of the price difference paid for replacements that are not sent, if one was
    granted and not yet sent to the adapter; returns its execution (None: nothing to pay). As for
    the cheaper variant's refund, once the payment call exists it is the refund ledger's, retried
    and confirmed there; its idempotency key is the grant's, so two workers make one call. Call
    it outside a transaction (a task does, after the grant commits)."""
    grant_key = exchange_surplus_grant_key(return_request.pk)
    refund = Refund.objects.filter(merchant_id=return_request.merchant_id, grant_key=grant_key).first()
    if refund is None or refund.state == RefundState.VOIDED:
        return None
    existing = RefundExecution.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    return refund_execute(refund=refund, idempotency_key=grant_key)


def exchange_surplus_run(*, return_request_id: int) -> None:
    """Pay the refund of an exchange's price difference paid for replacements that are not sent
    (a task, after the granting commit). A second run finds the payment call already made."""
    return_request = ReturnRequest.objects.get(pk=return_request_id)
    try:
        exchange_surplus_refund_pay(return_request=return_request)
    except ApplicationError as refusal:
        # Voided between the grant and this run, say: the ledger shows staff where it stands.
        logger.warning("ledger refused to pay the exchange surplus of return %s: %s", return_request_id, refusal.code)
