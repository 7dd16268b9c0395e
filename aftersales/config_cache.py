"""A merchant's configuration, read once per process and kept until it changes.

What every request of a merchant reads and almost never changes — the merchant by its slug, the
return policy and its rules, the reasons, the routing rules, the SLA policies, the webhook
endpoints, the business calendars with their hours and special days and the dispatch policy (slot
availability) — is kept in this process' memory, under the version of the merchant's configuration
that the shared cache (Redis in production, the file cache in development) holds:

- Reading: a process trusts the version it last read for ``VERSION_TRUST_SECONDS``, then reads it
  again (one cache GET per merchant per second at most); a value kept under another version is
  read again from the database. The version is read *before* the value, so a value is never
  filed under a version newer than the data it was read from.
- Writing: every write of a configuration row (a save, a delete, a queryset's update, delete or
  bulk write, a many-to-many change: see ``ConfigModel``; and the deletes Django's collector does
  itself: a configuration row deleted by a cascade, a row some configuration points at with
  SET_NULL such as a team or a user a routing rule names, a store in a rule's stores: see
  ``config_deletes_watch``) bumps the merchant's version once the
  transaction commits (``transaction.on_commit``), so every process reads it again within
  ``VERSION_TRUST_SECONDS``; this process at once.
- A rolled-back change is never cached: from its first configuration write until its transaction
  ends, a transaction neither reads nor fills the cache for that merchant (it reads its own
  writes from the database), and a rollback bumps nothing.
- Tenancy: every value is filed under its merchant's id; lookups by slug, before the merchant is
  known, are filed under the scope of all merchants, which any merchant's change bumps.

Callers get a copy of what is kept (model instances are copied), so nothing a request sets on
them reaches another request. Without a reachable cache the value is read from the database each
time, as if nothing were kept.
"""

import copy
import logging
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import models, transaction

logger = logging.getLogger("aftersales.config_cache")

# How long a process serves its values before it checks the version again: the most a change
# committed by another process can take to be seen here.
VERSION_TRUST_SECONDS = 1.0
# How long a value is kept whatever its version says: a bound on what a write that bypasses the
# hooks leaves stale (a cascade that nulls a rule's team or assignee, a raw statement, a bump the
# cache refused).
MAX_AGE_SECONDS = 60.0
# The scope of lookups made before the merchant is known (the merchant by its slug).
ALL_MERCHANTS = "merchants"
# Where a connection notes the scopes its open transaction has written.
DIRTY_ATTRIBUTE = "aftersales_config_dirty"
# ... and the transaction (its outermost atomic block) that wrote them.
DIRTY_BLOCK_ATTRIBUTE = "aftersales_config_dirty_block"

T = TypeVar("T")

# (scope, name) -> (version, value, when it was read); scope -> (version, when it was read), in
# monotonic seconds
_values: dict[tuple[str, str], tuple[int, Any, float]] = {}
_versions: dict[str, tuple[int, float]] = {}


def merchant_scope(merchant_id: int) -> str:
    return f"merchant:{merchant_id}"


def _version_key(scope: str) -> str:
    return f"aftersales:config-version:{scope}"


def _read_version(scope: str) -> int | None:
    now = time.monotonic()
    known = _versions.get(scope)
    if known is not None and now - known[1] < VERSION_TRUST_SECONDS:
        return known[0]
    key = _version_key(scope)
    try:
        version = cache.get(key)
        if version is None:
            # A version that was never set, or that the cache evicted, starts from the clock: never
            # from a number an earlier value of this process might still be filed under.
            cache.add(key, time.time_ns(), timeout=None)
            version = cache.get(key)
    except Exception:
        logger.warning("The configuration version of %s could not be read; reading the database", scope, exc_info=True)
        return None
    if version is None:
        return None
    _versions[scope] = (version, now)
    return version


def _outermost_block(connection: Any) -> object | None:
    """The transaction now open on the connection (its outermost ``atomic`` block), if any."""
    blocks = getattr(connection, "atomic_blocks", None)
    return blocks[0] if connection.in_atomic_block and blocks else None


def _dirty_scopes() -> set[str] | None:
    connection = transaction.get_connection()
    dirty = connection.__dict__.get(DIRTY_ATTRIBUTE)
    if not dirty:
        return None
    if _outermost_block(connection) is not connection.__dict__.get(DIRTY_BLOCK_ATTRIBUTE):
        # The transaction that wrote has ended: committed (its callbacks bumped the versions) or
        # rolled back (nothing to bump, and nothing of it was cached). Noticed also from inside
        # the next transaction, so that a worker whose every read is in one (a mail fetch) does
        # not read the database for ever after one write that bumped nothing (a new merchant).
        dirty.clear()
        return None
    return dirty


def _copied(value: Any) -> Any:
    if isinstance(value, models.Model):
        return copy.copy(value)
    if isinstance(value, list | tuple):
        return type(value)(_copied(each) for each in value)
    return value


def config_cached(name: str, load: Callable[[], T], *, merchant_id: int | None) -> T:
    """``load()``'s value, kept in this process under the configuration version of the merchant
    (``merchant_id`` None: of all merchants). ``name`` says what it is within that scope. A None
    value is not kept (an unknown slug must not grow the cache)."""
    scope = ALL_MERCHANTS if merchant_id is None else merchant_scope(merchant_id)
    dirty = _dirty_scopes()
    if dirty is not None and scope in dirty:
        return load()
    version = _read_version(scope)
    if version is None:
        return load()
    kept = _values.get((scope, name))
    if kept is not None and kept[0] == version and time.monotonic() - kept[2] < MAX_AGE_SECONDS:
        return _copied(kept[1])
    read_at = time.monotonic()
    value = load()
    if value is not None:
        _values[(scope, name)] = (version, value, read_at)
    return _copied(value)


def _bump(scope: str) -> None:
    key = _version_key(scope)
    try:
        try:
            version = cache.incr(key)
        except ValueError:  # never set, or evicted
            cache.add(key, time.time_ns(), timeout=None)
            version = cache.get(key)
    except Exception:
        logger.exception("The configuration version of %s could not be bumped", scope)
        version = None
    if version is None:
        _versions.pop(scope, None)
    else:
        _versions[scope] = (version, time.monotonic())
    for kept in [kept for kept in _values if kept[0] == scope]:
        _values.pop(kept, None)
    dirty = transaction.get_connection().__dict__.get(DIRTY_ATTRIBUTE)
    if dirty:
        dirty.discard(scope)


def config_changed(merchant_ids: Iterable[int], *, bump: bool = True) -> None:
    """The configuration of these merchants is being written in the current transaction: their
    versions are bumped once it commits, and until then it does not use the cache for them.
    ``bump`` False: a new merchant, of which nothing can be kept yet (no value is kept for an
    unknown slug), so its commit need not tell the other processes."""
    scopes = {merchant_scope(merchant_id) for merchant_id in merchant_ids if merchant_id is not None}
    if not scopes:
        return
    scopes.add(ALL_MERCHANTS)
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        block = _outermost_block(connection)
        if connection.__dict__.get(DIRTY_BLOCK_ATTRIBUTE) is not block:
            connection.__dict__[DIRTY_ATTRIBUTE] = set()
            connection.__dict__[DIRTY_BLOCK_ATTRIBUTE] = block
        connection.__dict__[DIRTY_ATTRIBUTE].update(scopes)
    if bump:
        for scope in sorted(scopes):
            transaction.on_commit(partial(_bump, scope))


def config_forget_process() -> None:
    """Drop what this process keeps (a test that plays a second process starts with nothing)."""
    _values.clear()
    _versions.clear()


# --- the configuration models' writes ------------------------------------------------------------


class ConfigQuerySet(models.QuerySet):
    """Bulk writes of configuration rows bump the versions of the merchants they touch."""

    def _merchant_ids(self) -> set[int]:
        field = self.model.CONFIG_MERCHANT_FIELD  # type: ignore[attr-defined]
        return set(self.order_by().values_list(field, flat=True).distinct())

    def update(self, **kwargs: Any) -> int:
        config_changed(self._merchant_ids())
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        config_changed(self._merchant_ids())
        return super().delete()

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        config_changed(each.config_merchant_id() for each in objs)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        config_changed(each.config_merchant_id() for each in objs)
        return super().bulk_update(objs, *args, **kwargs)


class ConfigModel(models.Model):
    """A row of a merchant's configuration (see the module's docstring): its writes bump the
    merchant's configuration version after commit. ``CONFIG_MERCHANT_FIELD`` is the path from a
    row to its merchant's id in a query."""

    CONFIG_MERCHANT_FIELD = "merchant_id"

    objects = ConfigQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        new_merchant = self._state.adding and self.CONFIG_MERCHANT_FIELD == "pk"
        super().save(*args, **kwargs)
        config_changed([self.config_merchant_id()], bump=not new_merchant)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        config_changed([self.config_merchant_id()])
        return super().delete(*args, **kwargs)

    def config_merchant_id(self) -> int:
        return self.merchant_id  # type: ignore[attr-defined]


# The models whose deletes change configuration rows without going through ``ConfigModel``:
# model -> the (configuration model, field) pairs that point at it. Filled by ``config_deletes_watch``.
_referenced_by: dict[type[models.Model], list[tuple[type[ConfigModel], str]]] = {}
# A foreign key with these leaves a configuration row as it was or deletes it (which the row's own
# receiver sees); SET_NULL, SET_DEFAULT and SET(...) change it in place.
_DELETES_THE_ROW_OR_REFUSES: tuple[Any, ...] = (models.CASCADE, models.PROTECT, models.RESTRICT, models.DO_NOTHING)


def config_deletes_watch(all_models: Iterable[type[models.Model]]) -> list[type[models.Model]]:
    """The deletes Django's collector runs without ``ConfigModel.delete`` or its queryset's: a
    configuration row deleted by a cascade (the collector's own DELETE), a foreign key of a
    configuration row set to NULL or a default because the row it named is deleted (a routing
    rule's team or assignee: the collector's own UPDATE), and the through rows of a
    configuration row's many-to-many (a routing rule's stores) deleted with a store. Connected
    to ``pre_delete`` for those models (in ``AftersalesConfig.ready``); the models it watches."""
    watched: set[type[models.Model]] = set()
    for model in all_models:
        if not issubclass(model, ConfigModel) or model._meta.abstract:
            continue
        watched.add(model)
        for field in model._meta.get_fields():
            target = field.related_model
            if not field.concrete or not isinstance(target, type) or issubclass(target, ConfigModel):
                continue  # not a relation, or to a configuration row, whose own delete bumps already
            on_delete = getattr(field.remote_field, "on_delete", None)
            if field.many_to_many or (field.many_to_one and on_delete not in _DELETES_THE_ROW_OR_REFUSES):
                _referenced_by.setdefault(target, []).append((model, field.name))
                watched.add(target)
    for each in watched:
        models.signals.pre_delete.connect(
            config_row_deleted, sender=each, dispatch_uid=f"config_cache.{each._meta.label}"
        )
    return sorted(watched, key=lambda each: each._meta.label)


def config_row_deleted(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """``pre_delete`` receiver (see ``config_deletes_watch``): the merchants whose configuration
    this delete changes are bumped once it commits. A cache's invalidation, not domain logic."""
    merchant_ids: set[int] = set()
    if isinstance(instance, ConfigModel):
        merchant_ids.add(instance.config_merchant_id())
    for model, field_name in _referenced_by.get(sender, ()):
        merchant_ids.update(
            model._base_manager.filter(**{field_name: instance})
            .order_by()
            .values_list(model.CONFIG_MERCHANT_FIELD, flat=True)
            .distinct()
        )
    config_changed(merchant_ids)


def config_m2m_changed(sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
    """``m2m_changed`` receiver: a configuration row's many-to-many set (its stores) changed.
    Connected in ``AftersalesConfig.ready``; a cache's invalidation, not domain logic."""
    if isinstance(instance, ConfigModel) and action in ("post_add", "post_remove", "post_clear"):
        config_changed([instance.config_merchant_id()])
