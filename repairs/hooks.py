"""Listeners other apps plug into a repair's life, called by repairs' own services.

repairs imports no other workflow app: an app that follows repairs (feedback: the follow-up call
after a repair) registers a callback in its ``AppConfig.ready`` and repairs calls it where the
change happens, inside that change's transaction, so what the listener writes commits with the
change or not at all.

- ``register_repair_done_listener(name, callback)``: ``callback(repair_order=...)`` once the
  (locked) repair first reaches a done status (``DONE_STATUSES``), after the ticket moved with it.
- ``register_technician_scores(name, provider)``: ``provider(merchant_id=..., user_ids=[...])``
  returns, per technician's user id, a short line the dispatch board shows under their name (the
  scores customers gave them); a read, in a fixed number of queries whatever the technicians.
"""

from collections.abc import Callable, Mapping, Sequence

from repairs.models import RepairOrder, RepairStatus

# The work is over for the customer: given back, replaced, refunded, or closed. A repair that is
# returned and later closed is done once (the first of these it reaches).
DONE_STATUSES = (RepairStatus.RETURNED, RepairStatus.REPLACED, RepairStatus.REFUNDED, RepairStatus.CLOSED)

RepairDoneListener = Callable[..., object]

_done_listeners: dict[str, RepairDoneListener] = {}


def register_repair_done_listener(name: str, callback: RepairDoneListener) -> None:
    if name in _done_listeners and _done_listeners[name] is not callback:
        raise ValueError(f"repair-done listener {name!r} is already registered")
    _done_listeners[name] = callback


def unregister_repair_done_listener(name: str) -> None:
    _done_listeners.pop(name, None)


def repair_done(repair_order: RepairOrder) -> None:
    """Call every registered listener, in the order they were registered."""
    for callback in _done_listeners.values():
        callback(repair_order=repair_order)


TechnicianScores = Callable[..., Mapping[int, str]]

_score_providers: dict[str, TechnicianScores] = {}


def register_technician_scores(name: str, provider: TechnicianScores) -> None:
    _score_providers[name] = provider


def unregister_technician_scores(name: str) -> None:
    _score_providers.pop(name, None)


def technician_scores(*, merchant_id: int, user_ids: Sequence[int]) -> dict[int, list[str]]:
    """What every provider says of each technician, in the order they were registered."""
    scores: dict[int, list[str]] = {}
    for provider in _score_providers.values():
        for user_id, line in provider(merchant_id=merchant_id, user_ids=list(user_ids)).items():
            scores.setdefault(user_id, []).append(line)
    return scores
