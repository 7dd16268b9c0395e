"""Listeners a workflow app plugs into the case hub, called by the hub's own services.

The hub imports no workflow app. A workflow app (feedback: a survey after a case resolves)
registers a callback in its ``AppConfig.ready`` and the hub calls it where the change happens,
inside that change's transaction: whatever the listener writes commits with the change, or not
at all, and a listener that raises refuses the change.

- ``register_status_listener(name, callback)``: ``callback(ticket=..., previous=..., status=...)``
  after the (locked) ticket's status field moved and its event was appended, before it is saved.
- ``register_merge_listener(name, callback)``: ``callback(source=..., target=...)`` once the
  (locked) source ticket is merged into the target, closed and its deadlines cancelled.
"""

from collections.abc import Callable

from tickets.models import Ticket

StatusListener = Callable[..., None]

_status_listeners: dict[str, StatusListener] = {}


def register_status_listener(name: str, callback: StatusListener) -> None:
    if name in _status_listeners and _status_listeners[name] is not callback:
        raise ValueError(f"status listener {name!r} is already registered")
    _status_listeners[name] = callback


def unregister_status_listener(name: str) -> None:
    _status_listeners.pop(name, None)


def status_changed(ticket: Ticket, previous: str, status: str) -> None:
    """Call every registered listener, in the order they were registered."""
    for callback in _status_listeners.values():
        callback(ticket=ticket, previous=previous, status=status)


def registered_status_listeners() -> list[str]:
    return list(_status_listeners)


MergeListener = Callable[..., object]

_merge_listeners: dict[str, MergeListener] = {}


def register_merge_listener(name: str, callback: MergeListener) -> None:
    if name in _merge_listeners and _merge_listeners[name] is not callback:
        raise ValueError(f"merge listener {name!r} is already registered")
    _merge_listeners[name] = callback


def unregister_merge_listener(name: str) -> None:
    _merge_listeners.pop(name, None)


def ticket_merged(source: Ticket, target: Ticket) -> None:
    """Call every registered merge listener, in the order they were registered."""
    for callback in _merge_listeners.values():
        callback(source=source, target=target)
