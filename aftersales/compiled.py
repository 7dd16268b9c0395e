"""Reads whose SQL is the same at every request but for a few values: built and compiled once.

A page that reads one row with a dozen lists beside it in one query (the ticket page) spends far
more of its CPU building the queryset and compiling it to SQL (the ORM resolving and compiling
every expression of every subquery, ~18 ms of the ticket page's ~22) than PostgreSQL spends
running it (~0.5 ms). The SQL of such a read depends only on its shape (for the ticket page: the
role of the member, which adds the technicians' and the warehouse's filters); the values that
change between requests (the merchant, the ticket's number, the user) are parameters.

``CompiledRead`` builds the queryset once per process and shape, with a placeholder value for
each parameter, compiles it, and remembers where each placeholder landed among the statement's
parameters. Each call then runs the same statement with its own values in those places, and the
rows become model instances through the ORM's own iterable (``select_related`` rows, annotations
and ``prefetch_related`` as the queryset said), so callers see exactly what the queryset gives.

Checked when a shape is compiled, so that a queryset this does not fit fails at once rather than
reading the wrong rows: a placeholder must be a parameter (not inlined into the SQL text), and
nothing the build computes from a value may reach the statement (pass ``number.upper()``, not
``number``, if the build would upper-case it; a list holding a value is refused too). A value a
shape does not use (the user, outside the technicians' filter) is simply not in its statement. A
value that is not a parameter (the time, a setting read at build time) must not be used in the
build: only constants and the placeholders.

With ``prepared=True`` the statement is also a server-side prepared statement of each database
session (``PREPARE``, then ``EXECUTE`` with the values): for a statement of many subqueries the
server's planning costs far more than running it (the ticket page's: ~4-9 ms of planning, ~0.5 ms
of execution), and a prepared statement is planned once and then reuses its generic plan. Its
constants (every parameter that is not a value) are written into the prepared text as literals,
so that the server infers the type of each ``$n`` from where a value lands, as it does for a
column compared with it. The first call in a session sends ``PREPARE …; EXECUTE …`` as one
statement (one round trip, one query counted); later calls only ``EXECUTE``. A prepared statement
outlives a rolled-back transaction (PostgreSQL does not undo ``PREPARE``); a new connection
prepares again, and a failed call prepares again under a new name (whether its ``PREPARE`` ran is
not known). Behind a pooler in transaction mode this would need the pooler's prepared-statement
support; none is used (``tickets/assignment_sql.py`` prepares its statements the same way).
"""

import copy
import itertools
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, connections, transaction
from django.db.models import Model, QuerySet, sql
from psycopg2.extensions import AsIs

ModelT = TypeVar("ModelT", bound=Model)

# A placeholder per type of parameter: integers far outside any id, strings no input can be,
# instants in the first century (a value computed from one, ``since - timedelta(days=30)``, stays
# in it or overflows).
_INT_PLACEHOLDER_BASE = -(2**62)
_STR_PLACEHOLDER = "\x1d{name}\x1d-compiled-read-placeholder"
_DATETIME_PLACEHOLDER_YEAR = 50
_DATETIME_PLACEHOLDER_BEFORE = datetime(100, 1, 1, tzinfo=UTC)


def _derived_from_placeholder(param: Any) -> bool:
    if type(param) is int:
        return param <= _INT_PLACEHOLDER_BASE // 2
    if isinstance(param, str):
        return "\x1d" in param
    if isinstance(param, datetime):
        return param.tzinfo is not None and param < _DATETIME_PLACEHOLDER_BEFORE
    if isinstance(param, list | tuple):
        return any(_derived_from_placeholder(each) for each in param)
    return False


class CompiledReadError(Exception):
    """The queryset does not fit a compiled read: a value was inlined or transformed."""


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet[Any]
    compiler: Any  # the SQLCompiler that compiled it: its select, klass_info, converters
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]  # (position in params, name of the value)
    # With ``prepared``: the text after ``PREPARE name AS`` (``%`` doubled, for the driver's
    # formatting), and the names of the values in ``$n`` order.
    prepare: str | None = None
    prepared_values: tuple[str, ...] = ()
    number: int = 0  # which compiled statement this is, in this process
    # The converters of the statement's columns, found on the first call (the same columns every
    # call; finding them walks every column's field, ~0.1-0.3 ms a call for a wide statement).
    converters: dict[tuple[int, ...], Any] = field(default_factory=dict)


_compiled_numbers = itertools.count(1)
# The DB-API connection (a database session) -> the name each compiled statement (by number) is
# prepared under in that session. Names are unique in the process, never reused.
_prepared_in_session: "weakref.WeakKeyDictionary[Any, dict[int, str]]" = weakref.WeakKeyDictionary()
_statement_names = itertools.count(1)


def _prepared_call(compiled: _Compiled, connection: Any, values: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """``EXECUTE`` of ``compiled`` with ``values``, after ``PREPARE`` in the same statement if this
    session has not prepared it."""
    connection.ensure_connection()
    session = _prepared_in_session.get(connection.connection)
    if session is None:
        session = _prepared_in_session.setdefault(connection.connection, {})
    arguments = f"({', '.join(['%s'] * len(values))})" if values else ""
    name = session.get(compiled.number)
    if name is not None:
        return f"EXECUTE {name}{arguments}", values
    name = session[compiled.number] = f"compiled_read_{next(_statement_names)}"
    return f"PREPARE {name} AS {compiled.prepare}; EXECUTE {name}{arguments}", values


def _converters(compiled: _Compiled, compiler: Any, expressions: Any) -> Any:
    # By the columns themselves: each call's compiler is a shallow copy sharing the same ones.
    key = tuple(map(id, expressions))
    found = compiled.converters.get(key)
    if found is None:
        found = compiled.converters[key] = type(compiler).get_converters(compiler, expressions)
    return found


def _forget_prepared(alias: str) -> None:
    connection = connections[alias].connection
    if connection is not None:
        _prepared_in_session.pop(connection, None)


def _placeholders(params: dict[str, type]) -> dict[str, Any]:
    placeholders: dict[str, Any] = {}
    for index, (name, kind) in enumerate(params.items()):
        if kind is int:
            placeholders[name] = _INT_PLACEHOLDER_BASE - index
        elif kind is str:
            placeholders[name] = _STR_PLACEHOLDER.format(name=name)
        elif kind is datetime:
            placeholders[name] = datetime(_DATETIME_PLACEHOLDER_YEAR, 1, 1, second=index, tzinfo=UTC)
        else:
            raise CompiledReadError(f"{name}: only int, str and (aware) datetime values can be parameters")
    return placeholders


def _compiled(
    queryset: QuerySet[Any], compiler: Any, placeholders: dict[str, Any], *, prepared: bool, alias: str
) -> _Compiled:
    """The statement ``compiler`` writes for the placeholders' query, and where each value lands."""
    sql, params = compiler.as_sql()
    slots = []
    by_value = {value: name for name, value in placeholders.items()}
    for position, param in enumerate(params):
        name = by_value.get(param) if type(param) in (int, str, datetime) else None
        if name is not None and type(param) is type(placeholders[name]):
            slots.append((position, name))
        elif _derived_from_placeholder(param):
            raise CompiledReadError(
                f"parameter {position} ({param!r}) was computed from a value: pass the computed value instead"
            )
    for name, value in placeholders.items():
        if str(value) in sql or (isinstance(value, datetime) and value.isoformat() in sql):
            raise CompiledReadError(f"{name} was written into the SQL text, not passed as a parameter")
    number = next(_compiled_numbers)
    if not prepared:
        return _Compiled(queryset, compiler, sql, tuple(params), tuple(slots), number=number)
    # The constants as literals (quoted by the driver, as it quotes them in every statement);
    # each value as its $n.
    names: list[str] = []
    literal_params: list[Any] = list(params)
    for position, name in slots:
        if name not in names:
            names.append(name)
        literal_params[position] = AsIs(f"${names.index(name) + 1}")
    database = connections[alias]
    database.ensure_connection()
    with database.connection.cursor() as cursor:
        prepare = cursor.mogrify(sql, literal_params).decode()
    return _Compiled(
        queryset,
        compiler,
        sql,
        tuple(params),
        tuple(slots),
        prepare=prepare.replace("%", "%%"),
        prepared_values=tuple(names),
        number=number,
    )


def _checked_values(params: dict[str, type], values: dict[str, Any]) -> None:
    missing = set(params) - set(values)
    if missing or set(values) - set(params):
        raise TypeError(f"values must be exactly {sorted(params)}")
    for name, kind in params.items():
        if type(values[name]) is not kind:
            raise TypeError(f"{name} must be {kind.__name__}, not {type(values[name]).__name__}")
        if kind is datetime and values[name].tzinfo is None:
            raise TypeError(f"{name} must be an aware datetime")


class _CompiledStatement:
    """What a compiled read and a compiled update share: the build, its parameters, and the
    statement compiled once per shape and database (``_compile``, by the subclass)."""

    def __init__(self, build: Callable[..., Any], *, params: dict[str, type], prepared: bool = False) -> None:
        self._build = build
        self._params = params
        self._prepared = prepared
        self._compiled: dict[tuple[Hashable, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, shape: Hashable, alias: str) -> _Compiled:
        raise NotImplementedError

    def _compiled_for(self, shape: Hashable, alias: str) -> _Compiled:
        key = (shape, alias)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key)
                if compiled is None:
                    compiled = self._compiled[key] = self._compile(shape, alias)
        return compiled

    def forget(self) -> None:
        """Drop the compiled shapes (a test that changes what the build reads)."""
        with self._lock:
            self._compiled.clear()


class CompiledRead(_CompiledStatement, Generic[ModelT]):
    """``build(**values)`` returns the queryset for ``values``; its shape may depend only on
    ``shape`` (a hashable given with each call), never on the values themselves.

    ``params`` names the values and their type (int, str or datetime: an aware one)."""

    def __init__(
        self, build: Callable[..., QuerySet[ModelT]], *, params: dict[str, type], prepared: bool = False
    ) -> None:
        super().__init__(build, params=params, prepared=prepared)

    def _compile(self, shape: Hashable, alias: str) -> _Compiled:
        placeholders = _placeholders(self._params)
        queryset = self._build(shape=shape, **placeholders)
        compiler = queryset.query.get_compiler(using=alias)
        return _compiled(queryset, compiler, placeholders, prepared=self._prepared, alias=alias)

    def _queryset(self, *, shape: Hashable, **values: Any) -> QuerySet[ModelT]:
        # Unevaluated, and never handed out: a queryset chained from it (``.filter()``) would run
        # this statement, not its own.
        _checked_values(self._params, values)
        template = self._compiled_for(shape, "default")
        params = list(template.params)
        for position, name in template.slots:
            params[position] = values[name]
        sql, bound = template.sql, tuple(params)

        queryset = template.queryset.all()  # a clone, with its own query
        query = queryset.query

        prepared_values = tuple(values[name] for name in template.prepared_values)

        def get_compiler(using: str | None = None, connection: Any = None, elide_empty: bool = True) -> Any:
            compiler = copy.copy(template.compiler)
            compiler.connection = connection if connection is not None else connections[using or "default"]
            if template.prepare is None:
                compiler.as_sql = lambda *args, **kwargs: (sql, bound)
            else:
                compiler.as_sql = lambda *args, **kwargs: _prepared_call(template, compiler.connection, prepared_values)
            compiler.get_converters = lambda expressions: _converters(template, compiler, expressions)
            return compiler

        query.get_compiler = get_compiler  # type: ignore[method-assign]
        return queryset

    def rows(self, *, shape: Hashable, **values: Any) -> list[ModelT]:
        """The rows the queryset built for ``values`` reads, as it would read them."""
        queryset = self._queryset(shape=shape, **values)
        if not self._prepared:
            return list(queryset)
        try:
            return list(queryset)
        except DatabaseError:
            _forget_prepared("default")
            raise

    def first(self, *, shape: Hashable, **values: Any) -> ModelT | None:
        rows = self.rows(shape=shape, **values)
        return rows[0] if rows else None


class CompiledUpdate(_CompiledStatement):
    """An ``UPDATE`` built and compiled once per process and shape, as ``CompiledRead`` does a
    read: ``build(shape=…, **values)`` returns the queryset of the rows to change and the changes
    (what ``QuerySet.update`` takes: values and expressions, ``F()``, a ``Subquery``). Each
    ``run`` executes the same statement with its own values and returns the number of rows
    changed, as ``update()`` does; a failure inside an atomic block marks it for rollback, as
    ``update()`` does. The same checks hold: a value must land as a parameter, untransformed,
    and the time must be a value (``updated_at``), never read by the build.

    Only an update of the queryset's own table in one statement fits (no inherited model's
    parent rows, which ``update()`` changes in statements of their own)."""

    def __init__(
        self,
        build: Callable[..., tuple[QuerySet[Any], dict[str, Any]]],
        *,
        params: dict[str, type],
        prepared: bool = False,
    ) -> None:
        super().__init__(build, params=params, prepared=prepared)

    def _compile(self, shape: Hashable, alias: str) -> _Compiled:
        placeholders = _placeholders(self._params)
        queryset, changes = self._build(shape=shape, **placeholders)
        query: Any = queryset.query.chain(sql.UpdateQuery)
        query.add_update_values(changes)
        query.clear_select_clause()
        if query.related_updates:
            raise CompiledReadError("an update of an inherited model's parent rows takes statements of its own")
        compiler = query.get_compiler(using=alias)
        return _compiled(queryset, compiler, placeholders, prepared=self._prepared, alias=alias)

    def run(self, *, shape: Hashable = None, **values: Any) -> int:
        """The rows changed."""
        _checked_values(self._params, values)
        alias = "default"
        compiled = self._compiled_for(shape, alias)
        database = connections[alias]
        if compiled.prepare is None:
            params = list(compiled.params)
            for position, name in compiled.slots:
                params[position] = values[name]
            statement, bound = compiled.sql, tuple(params)
        else:
            statement, bound = _prepared_call(
                compiled, database, tuple(values[name] for name in compiled.prepared_values)
            )
        with transaction.mark_for_rollback_on_error(using=alias):
            try:
                with database.cursor() as cursor:
                    cursor.execute(statement, bound)
                    return cursor.rowcount
            except DatabaseError:
                if compiled.prepare is not None:
                    _forget_prepared(alias)
                raise
