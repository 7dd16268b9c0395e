"""Who pays a compensation, by kind. The hub imports no workflow app: an app that keeps a ledger
(returns: store credit, refunds) registers its payer here in its ``AppConfig.ready``, as it
registers its boxes in ``tickets.panels``. The hub registers its own coupon payer.

A payer is called inside the paying service's transaction, with the compensation row locked and
not yet paid; it must write its ledger in that transaction, use ``reference`` (unique per
compensation) as its idempotency key, and return its payment reference. A refusal is an
``ApplicationError``, which rolls the whole payment back.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aftersales.models import User
    from tickets.models import Compensation

# (compensation=..., actor=..., reference=...) -> the payment's reference
Payer = Callable[..., str]

_payers: dict[str, Payer] = {}


def register_compensation_payer(kind: str, payer: Payer) -> None:
    if kind in _payers and _payers[kind] is not payer:
        raise ValueError(f"a payer for {kind!r} is already registered")
    _payers[kind] = payer


def compensation_payer(kind: str) -> Payer | None:
    return _payers.get(kind)


def registered_compensation_kinds() -> list[str]:
    return sorted(_payers)


def pay(kind: str, *, compensation: "Compensation", actor: "User | None", reference: str) -> str:
    payer = _payers[kind]
    return payer(compensation=compensation, actor=actor, reference=reference)
