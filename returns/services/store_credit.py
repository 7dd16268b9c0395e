"""Store credit: a return settled into the customer's credit ledger, and credit spent on an order.
A grant is a refund decision (the same caps) paid at once into the ledger, in one transaction.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput
from aftersales.models import Customer, OrderLine, User
from returns.ledger import (
    money,
)
from returns.locks import store_credit_account_lock
from returns.models import (
    Refund,
    RefundMethod,
    RefundState,
    ReturnRequest,
    StoreCreditAccount,
    StoreCreditEntry,
)
from returns.roles import (
    require_staff_or_system,
)
from returns.services._settling import refund_decide, return_complete_if_settled
from returns.timeline import ReturnVerb
from tickets.notify import notify_customer
from tickets.timeline import event_append

if TYPE_CHECKING:
    from tickets.models import Compensation


def _credit_account(customer: Customer, currency: str) -> StoreCreditAccount:
    StoreCreditAccount.objects.get_or_create(
        customer=customer, defaults={"merchant_id": customer.merchant_id, "currency": currency}
    )
    account = store_credit_account_lock(customer)
    if account is None:  # created above in this transaction: it cannot be missing
        raise RuntimeError(f"The store-credit account of customer {customer.pk} vanished.")
    if account.currency != currency:
        raise InvalidInput(
            _("This customer's store credit is kept in %(currency)s.") % {"currency": account.currency},
            code="currency_mismatch",
        )
    return account


def _ledger_append(
    account: StoreCreditAccount,
    amount: Decimal,
    *,
    reason: str,
    reference: str = "",
    actor: User | None = None,
    return_request: ReturnRequest | None = None,
    refund: Refund | None = None,
) -> StoreCreditEntry:
    """Move the (locked) account's balance and write the entry that says why."""
    account.balance += amount
    if account.balance < 0:
        raise Conflict(
            _("Not enough store credit: %(balance)s %(currency)s left.")
            % {"balance": account.balance - amount, "currency": account.currency},
            code="insufficient_store_credit",
        )
    account.save(update_fields=["balance", "updated_at"])
    return StoreCreditEntry.objects.create(
        merchant_id=account.merchant_id,
        account=account,
        customer_id=account.customer_id,
        amount=amount,
        balance_after=account.balance,
        reason=reason,
        reference=reference,
        return_request=return_request,
        refund=refund,
        actor=actor,
    )


def store_credit_grant(
    *,
    return_request: ReturnRequest,
    actor: User | None,
    lines: Sequence[tuple[OrderLine, int, Decimal]] | None = None,
    reason: str = "",
    shipping_amount: Decimal | None = None,
    grant_key: str = "",
) -> StoreCreditEntry:
    """Settle (part of) a return as store credit: a refund decision paid at once into the
    customer's ledger. The same caps as a refund apply — it is money back for the same units."""
    with transaction.atomic():
        return_request, refund, created = refund_decide(
            return_request=return_request,
            actor=actor,
            method=RefundMethod.STORE_CREDIT,
            lines=lines,
            reason=reason,
            shipping_amount=shipping_amount,
            grant_key=grant_key,
            quick=False,
        )
        if not created:
            return refund.store_credit_entry
        return store_credit_pay(return_request, refund, actor)


def store_credit_pay(return_request: ReturnRequest, refund: Refund, actor: User | None) -> StoreCreditEntry:
    """Pay a store-credit refund into the customer's ledger, in the caller's transaction."""
    account = _credit_account(return_request.customer, refund.currency)
    entry = _ledger_append(
        account,
        refund.amount,
        reason=refund.reason or _("Return %(number)s") % {"number": return_request.ticket.number},
        actor=actor,
        return_request=return_request,
        refund=refund,
    )
    refund.state = RefundState.PAID
    refund.paid_at = timezone.now()
    refund.save(update_fields=["state", "paid_at", "updated_at"])
    event_append(
        return_request.ticket,
        ReturnVerb.STORE_CREDIT_GRANTED,
        actor_user=actor,
        data={"refund": refund.pk, "amount": str(refund.amount), "currency": refund.currency},
        public=True,
    )
    notify_customer(
        return_request.ticket,
        "return_store_credit_issued",
        {"amount": str(refund.amount), "currency": refund.currency},
    )
    return_complete_if_settled(return_request, actor)
    return entry


def store_credit_compensation_pay(*, compensation: "Compensation", actor: User | None, reference: str) -> str:
    """The store-credit payer of complaint compensation (registered with the case hub's
    ``tickets.compensation_payers``): the amount into the customer's ledger, in the caller's
    transaction. ``reference`` is unique per compensation, and per merchant in the ledger, so a
    replay finds its entry and pays nothing twice."""
    ticket = compensation.complaint.ticket
    if StoreCreditEntry.objects.filter(merchant_id=compensation.merchant_id, reference=reference).exists():
        return reference
    account = _credit_account(ticket.customer, compensation.currency)
    _ledger_append(
        account,
        compensation.amount,
        reason=_("Compensation for complaint %(number)s") % {"number": ticket.number},
        reference=reference,
        actor=actor,
    )
    return reference


def store_credit_spend(
    *, customer: Customer, amount: Decimal, reference: str, reason: str = "", actor: User | None = None
) -> StoreCreditEntry:
    """Take store credit off a customer's balance (an order paid with it). ``reference`` (the
    order) makes a replay return the first entry; spending below zero is refused."""
    amount = money(amount, "amount")
    reference = (reference or "").strip()
    if amount <= 0:
        raise InvalidInput(_("A refund must be more than zero."), code="amount_not_positive")
    if not reference:
        raise InvalidInput(_("Give the order the credit pays for."), code="reference_required")
    require_staff_or_system(actor, customer.merchant_id)
    with transaction.atomic():
        account = store_credit_account_lock(customer)
        if account is None:
            raise Conflict(_("This customer has no store credit."), code="insufficient_store_credit")
        existing = StoreCreditEntry.objects.filter(merchant_id=customer.merchant_id, reference=reference).first()
        if existing is not None:
            if existing.customer_id != customer.pk or existing.amount != -amount:
                raise Conflict(_("That reference was used for another entry."), code="reference_reused")
            return existing
        return _ledger_append(account, -amount, reason=reason, reference=reference, actor=actor)
