"""Inserts gathered and written together.

Inside ``bulk_inserts()`` a row given to ``insert`` is kept and written with one ``bulk_create``
per model when the block ends; outside it, ``insert`` saves at once. The sweep uses it so that
a batch of timers writes its timeline events and outbox rows in two statements rather than two
per timer. Code that needs a row's primary key straight away must not go through here.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)

_pending: ContextVar[dict[type[models.Model], list[models.Model]] | None] = ContextVar("bulk_pending", default=None)


def insert(instance: M) -> M:
    pending = _pending.get()
    if pending is None:
        instance.save(force_insert=True)
    else:
        pending.setdefault(type(instance), []).append(instance)
    return instance


def gathering() -> bool:
    """Whether inserts are being gathered (inside ``bulk_inserts()``): code that writes a row by
    raw SQL instead of ``insert`` uses ``insert`` then, so the block's rows keep their order."""
    return _pending.get() is not None


def insert_many(instances: list[M]) -> list[M]:
    """Rows of one model: kept for the block's ``bulk_create`` inside ``bulk_inserts()``, written
    with one ``bulk_create`` (one statement) outside it."""
    if not instances:
        return instances
    pending = _pending.get()
    if pending is None:
        type(instances[0])._default_manager.bulk_create(instances)
    else:
        pending.setdefault(type(instances[0]), []).extend(instances)
    return instances


@contextmanager
def bulk_inserts() -> Iterator[None]:
    """Gather inserts; write them when the block ends normally, drop them if it raises."""
    pending: dict[type[models.Model], list[models.Model]] = {}
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    for model, instances in pending.items():
        model._default_manager.bulk_create(instances)
