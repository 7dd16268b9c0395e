"""Filters a workflow app adds to the one queue (repairs: mode, repair status, technician, who
pays, waiting for parts), registered from its ``AppConfig.ready()`` so the hub never imports it.

Each filter is a GET parameter of the queue (kept by saved views too), shown once the queue is
filtered to its ticket kind; its choices are read for the request's merchant only then (the
plain queue reads nothing more), and a chosen value becomes one condition on the tickets the
member already sees. A value that is not one of the choices matches nothing."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from tickets.models import SAVED_VIEW_FIELDS

Choices = Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class QueueFilter:
    name: str
    label: Any
    kind: str  # shown when the queue shows this kind of ticket
    choices: Callable[[Any], Choices]  # the merchant → (value, label) pairs
    condition: Callable[[str], Q]  # a chosen value → a condition on Ticket


_FILTERS: dict[str, QueueFilter] = {}


def register_queue_filter(queue_filter: QueueFilter) -> None:
    if queue_filter.name in SAVED_VIEW_FIELDS:
        raise ValueError(f"{queue_filter.name} is one of the queue's own filters")
    _FILTERS[queue_filter.name] = queue_filter


def queue_filters() -> tuple[QueueFilter, ...]:
    return tuple(_FILTERS.values())


def saved_view_fields() -> tuple[str, ...]:
    """The queue's own filters and every registered one: what a saved view keeps."""
    return (*SAVED_VIEW_FIELDS, *_FILTERS)


def extra_filters(values: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The registered filters chosen in ``values`` (a form's data or a saved view's)."""
    return tuple((name, str(values[name])[:100]) for name in _FILTERS if values.get(name) not in (None, ""))


def extra_condition(extra: tuple[tuple[str, str], ...]) -> Q:
    condition = Q()
    for name, value in extra:
        queue_filter = _FILTERS.get(name)
        if queue_filter is not None:
            condition &= queue_filter.condition(value)
    return condition
