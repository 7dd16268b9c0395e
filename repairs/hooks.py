"""Listeners other apps plug into a repair's life, called by repairs' own services.

repairs imports no other workflow app: an app that follows repairs (feedback: the follow-up call
after a repair) registers a callback in its ``AppConfig.ready`` and repairs calls it where the
change happens, inside that change's transaction, so what the listener writes commits with the
change or not at all.

- ``register_repair_done_listener(name, callback)``: ``callback(repair_order=...)`` once the
  (locked) repair first reaches a done status (``DONE_STATUSES``), after the ticket moved with it.
"""

from collections.abc import Callable

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
