# ruff: noqa: S608 — only table and column names from the models are formatted in; every value is bound.
"""The statements of auto-assignment, in SQL written out (``tickets.services.assignment`` runs them).

Why raw SQL here: an assignment is on the path of every new ticket and of the pool's drain, and
building its queries through the ORM cost about half of its CPU (the candidates' annotation alone
compiled a Case, a Subquery and a Coalesce three times per call). These statements are built once
per process from the models' table and column names; their parameters are always bound, never
formatted in. ``tickets/tests/test_assignment_sql.py`` pins them to the models (every column of an
event written, the load read as the trigger of migration 0010 keeps it).

Each statement is prepared once per database connection (``PREPARE``, then ``EXECUTE`` with the
values): on the hot path the server's planning of these joins cost more than their execution. A
prepared statement lives as long as its session, whatever its transactions do; a connection that
is replaced (``CONN_MAX_AGE``, a reconnect) prepares them again. (Behind a pooler in transaction
mode this would need its prepared-statement support; none is used.)

The weights of the team (``TeamAssignment.weight_of``) are passed as one JSON object, kind → weight,
so one statement text serves every team.
"""

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from django.db import connection

from aftersales.models import Customer, Membership, Merchant, User
from tickets.models import AgentLoad, AgentProfile, Team, TeamAssignment, Ticket, TicketEvent, TicketKind

_PARAMETER = re.compile(r"%\((\w+)\)s")
# (id of the DB-API connection, its server process) -> the names prepared in that session.
_prepared: dict[tuple[int, int], set[str]] = {}


@cache
def _prepared_form(name: str, template: str) -> tuple[str, tuple[str, ...]]:
    """``PREPARE name AS …`` with ``$n`` for each named parameter, and the names in ``$n`` order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return f"PREPARE {name} AS {_PARAMETER.sub(number, template)}", tuple(names)


def execute(cursor: Any, name: str, template: str, params: Mapping[str, object]) -> None:
    """Run ``template`` (named ``%(…)s`` parameters, each cast where its type is not plain) as the
    prepared statement ``name`` of this connection, preparing it first if this session has not."""
    prepare, names = _prepared_form(name, template)
    raw = connection.connection
    key = (id(raw), raw.info.backend_pid)
    done = _prepared.get(key)
    if done is None:
        if len(_prepared) > 64:  # connections long gone: their sessions took their statements
            _prepared.clear()
        done = _prepared[key] = set()
    if name not in done:
        cursor.execute(prepare)
        done.add(name)
    placeholders = ", ".join(["%s"] * len(names))
    cursor.execute(f"EXECUTE {name}({placeholders})", [params[each] for each in names])


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def weights_json(policy: TeamAssignment) -> str:
    """The team's weight of every kind, as the statements read them."""
    return json.dumps({kind: policy.weight_of(kind) for kind in TicketKind.values}, sort_keys=True)


@cache
def policy_lock_sql() -> str:
    return (
        f"SELECT id, merchant_id, auto_assign, strategy, kind_weights::text FROM {q(TeamAssignment._meta.db_table)} "
        "WHERE team_id = %(team)s::bigint FOR UPDATE"
    )


# The models read with a ticket by ``ticket_policy_lock_sql``, in its column order: the ticket, then
# its team, customer and merchant (as ``select_related`` would bring them).
TICKET_WITH = (Ticket, Team, Customer, Merchant)


def model_columns(model: type[Any]) -> list[str]:
    return [str(field.column) for field in model._meta.concrete_fields]


@cache
def ticket_policy_lock_sql() -> str:
    """Lock a ticket and its team's assignment policy in one statement (the ticket first, as every
    path locks them), reading the ticket with its team, customer and merchant, then the policy's
    columns as ``policy_lock_sql`` reads them. No row when the ticket has no team or the team no
    policy: the caller then locks the ticket alone. (Inner joins: a row lock cannot be taken on
    the nullable side of an outer join; the team, customer and merchant are read, not locked.)"""
    aliases = ("t", "tm", "c", "m")
    columns = ", ".join(
        f"{alias}.{q(column)}"
        for model, alias in zip(TICKET_WITH, aliases, strict=True)
        for column in model_columns(model)
    )
    return (
        f"SELECT {columns}, ta.id, ta.merchant_id, ta.auto_assign, ta.strategy, ta.kind_weights::text "
        f"FROM {q(Ticket._meta.db_table)} t "
        f"JOIN {q(Team._meta.db_table)} tm ON tm.id = t.team_id "
        f"JOIN {q(TeamAssignment._meta.db_table)} ta ON ta.team_id = t.team_id "
        f"JOIN {q(Customer._meta.db_table)} c ON c.id = t.customer_id "
        f"JOIN {q(Merchant._meta.db_table)} m ON m.id = t.merchant_id "
        "WHERE t.id = %(ticket)s::bigint FOR UPDATE OF t, ta"
    )


def _load_of(profile_alias: str) -> str:
    """An agent's active tickets at the merchant, weighted (``%(weights)s``): the trigger's counters."""
    return (
        f"SELECT SUM(a.open_count * COALESCE((%(weights)s::jsonb ->> a.kind)::int, 1)) AS load "
        f"FROM {q(AgentLoad._meta.db_table)} a "
        f"WHERE a.merchant_id = {profile_alias}.merchant_id AND a.user_id = {profile_alias}.user_id"
    )


@cache
def candidates_sql(*, least_loaded: bool, lock: bool) -> str:
    """The team's available, active, qualified agents of the merchant, with their weighted load.

    ``lock`` False (one ticket): only those with room for ``%(weight)s``, best first by the
    strategy; the load is read once per agent (a lateral join), never locked. ``lock`` True (a
    batch): every one, by id, each row locked, skipping those another transaction holds: the
    batch's loads are read again after this statement, and the batch chooses in memory."""
    profile = q(AgentProfile._meta.db_table)
    members = q(Team.members.through._meta.db_table)
    users = q(User._meta.db_table)
    memberships = q(Membership._meta.db_table)
    skills = (
        "AND (p.kinds = '[]'::jsonb OR p.kinds @> %(kind)s::jsonb) "
        "AND (p.languages = '[]'::jsonb OR p.languages @> %(language)s::jsonb) "
        "AND (p.product_categories = '[]'::jsonb OR p.product_categories @> %(categories)s::jsonb) "
    )
    base = (
        f"FROM {profile} p "
        f"JOIN {members} tm ON tm.user_id = p.user_id AND tm.team_id = %(team)s::bigint "
        f"JOIN {users} u ON u.id = p.user_id AND u.is_active "
        f"JOIN {memberships} m ON m.user_id = p.user_id AND m.merchant_id = p.merchant_id "
        "AND m.is_active AND m.role = ANY(%(roles)s::text[]) "
    )
    if lock:
        return (
            "SELECT p.id, p.user_id, p.capacity, p.shift_calendar_id, p.last_assigned_at, "
            "p.kinds::text, p.languages::text, p.product_categories::text "
            f"{base}WHERE p.merchant_id = %(merchant)s::bigint AND p.status = %(available)s::text "
            "ORDER BY p.id FOR UPDATE OF p SKIP LOCKED"
        )
    order = "p.last_assigned_at ASC NULLS FIRST, p.id ASC"
    if least_loaded:
        order = "COALESCE(l.load, 0)::float8 / GREATEST(p.capacity::float8, 1.0) ASC, " + order
    return (
        "SELECT p.id, p.user_id, p.capacity, COALESCE(l.load, 0), p.shift_calendar_id "
        f"{base}LEFT JOIN LATERAL ({_load_of('p')}) l ON true "
        f"WHERE p.merchant_id = %(merchant)s::bigint AND p.status = %(available)s::text {skills}"
        "AND COALESCE(l.load, 0) <= p.capacity - %(weight)s::int "
        f"ORDER BY {order}"
    )


def user_columns() -> list[str]:
    return [field.attname for field in User._meta.concrete_fields]


@cache
def agent_lock_sql() -> str:
    """Lock the chosen agent's profile; its status and capacity, and the user, as of the lock."""
    columns = ", ".join(f"u.{q(column)}" for column in user_columns())
    return (
        f"SELECT p.status, p.capacity, {columns} FROM {q(AgentProfile._meta.db_table)} p "
        f"JOIN {q(User._meta.db_table)} u ON u.id = p.user_id WHERE p.id = %(profile)s::bigint FOR UPDATE OF p"
    )


@cache
def loads_sql() -> str:
    """The weighted loads of some agents at the merchant, read after their rows were locked."""
    return (
        "SELECT a.user_id, SUM(a.open_count * COALESCE((%(weights)s::jsonb ->> a.kind)::int, 1)) "
        f"FROM {q(AgentLoad._meta.db_table)} a "
        "WHERE a.merchant_id = %(merchant)s::bigint AND a.user_id = ANY(%(users)s::bigint[]) GROUP BY a.user_id"
    )


# How each column of an ASSIGNED event is written by ``assign_sql`` (the test pins this to the model).
EVENT_VALUES = {
    "id": None,  # the sequence
    "created_at": "%(now)s::timestamptz",
    "updated_at": "%(now)s::timestamptz",
    "merchant_id": "%(merchant)s::bigint",
    "ticket_id": "assigned.id",
    "actor_user_id": "%(actor)s::bigint",
    "actor_customer_id": "NULL",
    "verb": "%(verb)s::text",
    "data": "%(data)s::jsonb || jsonb_build_object('load', fits.load + %(weight)s::int)",
    "is_public": "false",
    "message_id": "NULL",
}


@cache
def assign_sql(*, with_event: bool) -> str:
    """Under the agent's lock (taken by the statement before, so this one's snapshot sees every
    assignment committed before it): read the agent's load again, and only if the ticket still
    fits, assign it, stamp the agent's turn and (``with_event``) append the ASSIGNED event, in one
    statement. Returns one row, the load before, when assigned; none when the agent is full."""
    tickets = q(Ticket._meta.db_table)
    profile = q(AgentProfile._meta.db_table)
    recount = (
        "SELECT COALESCE(SUM(a.open_count * COALESCE((%(weights)s::jsonb ->> a.kind)::int, 1)), 0) AS load "
        f"FROM {q(AgentLoad._meta.db_table)} a "
        "WHERE a.merchant_id = %(merchant)s::bigint AND a.user_id = %(user)s::bigint"
    )
    sql = (
        f"WITH fits AS (SELECT r.load FROM ({recount}) r WHERE r.load + %(weight)s::int <= %(capacity)s::int), "
        f"assigned AS (UPDATE {tickets} SET assignee_id = %(user)s::bigint, updated_at = %(now)s::timestamptz "
        "WHERE id = %(ticket)s::bigint AND EXISTS (SELECT 1 FROM fits) RETURNING id), "
        f"turn AS (UPDATE {profile} SET last_assigned_at = %(now)s::timestamptz, updated_at = %(now)s::timestamptz "
        "WHERE id = %(profile)s::bigint AND EXISTS (SELECT 1 FROM assigned) RETURNING id)"
    )
    if with_event:
        written = {str(field.column): EVENT_VALUES[str(field.column)] for field in TicketEvent._meta.concrete_fields}
        columns = [column for column, value in written.items() if value]
        values = ", ".join(str(written[column]) for column in columns)
        sql += (
            f", event AS (INSERT INTO {q(TicketEvent._meta.db_table)} ({', '.join(q(c) for c in columns)}) "
            f"SELECT {values} FROM assigned, fits RETURNING id)"
        )
    return sql + " SELECT fits.load FROM fits, assigned, turn"


@cache
def batch_update_sql() -> tuple[str, str]:
    """The batch's writes: each ticket's assignee, each agent's turn (unnest of parallel arrays)."""
    tickets = (
        f"UPDATE {q(Ticket._meta.db_table)} t SET assignee_id = v.user_id, updated_at = %s "
        "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, user_id) WHERE t.id = v.id"
    )
    profiles = (
        f"UPDATE {q(AgentProfile._meta.db_table)} p SET last_assigned_at = v.at, updated_at = %s "
        "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE p.id = v.id"
    )
    return tickets, profiles
