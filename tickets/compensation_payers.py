"""Who pays a compensation, by kind. The hub imports no workflow app: an app that keeps a ledger
(returns: store credit, refunds) registers its payer here in its ``AppConfig.ready``, as it
registers its boxes in ``tickets.panels``. The hub registers its own coupon payer.

A payer is called inside the paying service's transaction, with the compensation row locked and
not yet paid; it must write its ledger in that transaction, use ``reference`` (unique per
compensation) as its idempotency key, and return its payment reference. A refusal is an
``ApplicationError``, which rolls the whole payment back.

A payer that pays through a gateway (a refund: the payment call is made after commit) registers
``settles_later``: paying it only grants the offer, and its ledger reports the payment's outcome
with ``tickets.services.compensation_payment_recorded`` (paid, or failed with the reason; paid
again under the same reference when the offer is paid again). A payer without it has paid when it
returns (a coupon, store credit).

A payer whose ledger bounds what it may pay (a refund: the order's refundable remainder) also
registers ``available``: given the case, the most an offer of that kind may be now (None: the
kind does not apply to this case, e.g. a refund for a case without an order). The offer is
checked against it and the form shows it; the payer checks again under its locks.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

    from aftersales.models import User
    from tickets.models import Compensation, Ticket

# (compensation=..., actor=..., reference=...) -> the payment's reference
Payer = Callable[..., str]
# (ticket) -> the most an offer of the kind may be for the case, None when it does not apply
Available = Callable[["Ticket"], "Decimal | None"]

_payers: dict[str, Payer] = {}
_available: dict[str, Available] = {}
_settles_later: set[str] = set()


def register_compensation_payer(
    kind: str, payer: Payer, *, available: Available | None = None, settles_later: bool = False
) -> None:
    if kind in _payers and _payers[kind] is not payer:
        raise ValueError(f"a payer for {kind!r} is already registered")
    _payers[kind] = payer
    if available is not None:
        _available[kind] = available
    if settles_later:
        _settles_later.add(kind)


def settles_later(kind: str) -> bool:
    """Whether the kind's payment is made after the paying transaction (through a gateway), so
    that paying grants the offer and the ledger reports whether it was paid."""
    return kind in _settles_later


def is_bounded(kind: str) -> bool:
    """Whether the kind's payer bounds what it may pay (``compensation_available``)."""
    return kind in _available


def compensation_available(kind: str, ticket: "Ticket") -> "Decimal | None":
    """The most an offer of ``kind`` may be for ``ticket`` now; None when the kind does not apply
    (only asked of a bounded kind, ``is_bounded``)."""
    return _available[kind](ticket)


def compensation_payer(kind: str) -> Payer | None:
    return _payers.get(kind)


def registered_compensation_kinds() -> list[str]:
    return sorted(_payers)


def pay(kind: str, *, compensation: "Compensation", actor: "User | None", reference: str) -> str:
    payer = _payers[kind]
    return payer(compensation=compensation, actor=actor, reference=reference)
