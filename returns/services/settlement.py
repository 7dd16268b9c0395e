"""Settling a return the way the customer asked, by staff or on its own: the settlement a rule
or a deadline starts, the one staff start from the return's page, and a parcel accepted as
requested when inspection did not happen in time.
"""

import logging
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.enqueue import enqueue_on_commit
from aftersales.exceptions import ApplicationError, TransitionNotAllowed
from aftersales.models import OrderLine, User
from returns.ledger import (
    settleable_units,
)
from returns.locks import (
    return_lines_lock,
    return_request_lock,
)
from returns.models import (
    RefundMethod,
    RefundState,
    Resolution,
    ReturnRequest,
    ReturnStatus,
)
from returns.roles import (
    REFUND_ROLES,
    require_staff_or_system,
)
from returns.services._settling import refund_decide, return_complete_if_settled
from returns.services._transitions import return_move, return_settling_enter, settled_units, units_accept_unjudged
from returns.services.refunds import refund_execute
from returns.services.store_credit import store_credit_pay
from returns.timeline import ReturnVerb
from tickets.timeline import event_append

logger = logging.getLogger(__name__)


def _settled_already(return_request: ReturnRequest, actor: User | None) -> bool:
    """For a (locked) return just moved to settling: whether what was settled before — a quick
    refund paid in transit, an earlier partial settlement — already covers every unit it holds.
    If so, complete it (or, when such a refund failed, ask staff to act) instead of granting more."""
    settled = settled_units(return_request)
    if not settled or any(settleable_units(line) > settled.get(line.pk, 0) for line in return_request.lines.all()):
        return False
    if return_complete_if_settled(return_request, actor):
        return True
    failed = list(return_request.refunds.filter(state=RefundState.FAILED).values_list("pk", flat=True))
    if failed:
        return_move(return_request, ReturnStatus.ACTION_REQUIRED)
        return_request.save(update_fields=["status", "updated_at"])
        event_append(
            return_request.ticket, ReturnVerb.REFUND_FAILED, data={"refunds": failed, "status": return_request.status}
        )
    return True


def return_request_settle(
    *,
    return_request: ReturnRequest,
    actor: User | None,
    lines: Sequence[tuple[OrderLine, int, Decimal]] | None = None,
    reason: str = "",
    shipping_amount: Decimal | None = None,
    grant_key: str = "",
) -> ReturnRequest:
    """Settle a return the way the customer asked: a refund (granted, then paid through the
    merchant's adapter), store credit, or — for an exchange — start settling; the replacement is
    recorded with ``exchange_ship``, and a price difference paid for replacements that will not be
    sent is refunded once that is known (``exchange_surplus_grant``). Moves the return to
    settling by the table: from approved for refund-only and keep-the-item, from received or
    inspected otherwise. Units already settled (a quick refund paid while the parcel travelled)
    are not settled twice.

    Moving to settling and the grant are one transaction, so a refused grant changes nothing.
    Call it outside a transaction: the payment call is made after that transaction has committed.
    """
    resolution = return_request.resolution
    to_pay = None
    with transaction.atomic(durable=True):
        locked = return_request_lock(return_request.pk)
        require_staff_or_system(actor, locked.merchant_id, None if resolution == Resolution.EXCHANGE else REFUND_ROLES)
        return_settling_enter(locked, actor)
        if resolution == Resolution.EXCHANGE:
            # Nothing left to send (every unit rejected, say): the difference paid for them is
            # refunded and the exchange completes once it is paid. A second run finds it granted.
            return_complete_if_settled(locked, actor)
        elif not _settled_already(locked, actor):
            store_credit = resolution == Resolution.STORE_CREDIT
            locked, refund, created = refund_decide(
                return_request=locked,
                actor=actor,
                method=RefundMethod.STORE_CREDIT if store_credit else RefundMethod.ORIGINAL_PAYMENT,
                lines=lines,
                reason=reason,
                shipping_amount=shipping_amount,
                grant_key=grant_key,
                quick=False,
            )
            if not store_credit:
                to_pay = refund
            elif created:
                store_credit_pay(locked, refund, actor)
    if to_pay is not None:
        refund_execute(refund=to_pay)
    return ReturnRequest.objects.select_related("ticket").get(pk=return_request.pk)


def return_request_settle_uninspected(*, return_request: ReturnRequest) -> ReturnRequest:
    """The confirm-receipt deadline passed in silence: every unit received is accepted as the
    customer requested, and the settlement starts."""
    with transaction.atomic():
        return_request = return_request_lock(return_request.pk, with_ticket=True)
        if return_request.status != ReturnStatus.RECEIVED:
            # The table lets other states settle too (refund-only, inspected); this rule is for parcels.
            raise TransitionNotAllowed(
                _("Only a received, uninspected return is settled as requested."),
                code="not_received",
                extra={"from": return_request.status, "to": ReturnStatus.SETTLING},
            )
        return_move(return_request, ReturnStatus.SETTLING)
        return_request.save(update_fields=["status", "updated_at"])
        accepted = units_accept_unjudged(return_lines_lock(return_request))
        event_append(
            return_request.ticket,
            ReturnVerb.ACCEPTED_UNINSPECTED,
            data={"lines": accepted},
            public=True,
        )
        settlement_start(return_request, reason="confirm_receipt_deadline")
    return return_request


def settlement_start(return_request: ReturnRequest, *, reason: str) -> None:
    """Hand a (locked) request that has just become settling to the ledger, after commit."""
    from returns.tasks import return_settle

    pk = return_request.pk
    enqueue_on_commit(return_settle, pk, reason)


def settlement_run(*, return_request_id: int, reason: str) -> None:
    """Settle a return that a rule moved to settling (a task, after the deciding commit)."""
    return_request = ReturnRequest.objects.select_related("ticket").get(pk=return_request_id)
    try:
        return_request_settle(return_request=return_request, actor=None, reason=reason)
    except ApplicationError as refusal:
        logger.warning("ledger refused to settle return %s: %s", return_request_id, refusal.code)
