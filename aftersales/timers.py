"""Handlers per deadline kind. The app that owns a kind registers it in its ``AppConfig.ready``.

A handler runs inside the sweep's transaction, with the deadline row locked; whatever it writes
commits together with the row being marked, or not at all.
"""

from collections.abc import Callable
from dataclasses import dataclass

from aftersales.models import Deadline

Handler = Callable[[Deadline], None]


@dataclass(frozen=True)
class DeadlineKind:
    kind: str
    on_due: Handler
    on_warning: Handler | None = None
    # Staff-facing timers set the ticket's next deadline, which the work queue sorts by.
    staff_facing: bool = True


_registry: dict[str, DeadlineKind] = {}


def register(
    kind: str, *, on_due: Handler, on_warning: Handler | None = None, staff_facing: bool = True
) -> DeadlineKind:
    if kind in _registry and _registry[kind].on_due is not on_due:
        raise ValueError(f"deadline kind {kind!r} is already registered")
    _registry[kind] = DeadlineKind(kind=kind, on_due=on_due, on_warning=on_warning, staff_facing=staff_facing)
    return _registry[kind]


def handler_for(kind: str) -> DeadlineKind | None:
    return _registry.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_registry)


def staff_facing_kinds() -> list[str]:
    return sorted(kind for kind, registered in _registry.items() if registered.staff_facing)
