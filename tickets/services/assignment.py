"""Auto-assignment within a team, and agents' presence.

An agent gets a ticket only when available, on shift by their calendar, qualified for it (the
ticket's language, product categories and kind among their skills, an empty skill list meaning
any) and when the ticket's weight fits under their capacity. Round robin gives it to the agent
who waited longest; least loaded to the one with the smallest share of their capacity in use.

An agent's load is read from ``AgentLoad``, a counter per agent and ticket kind that a trigger on
the tickets table keeps in the transaction of every write that moves a ticket in or out of an
agent's active load; the team's weights are applied when it is read. So an assignment reads a
handful of counter rows, never the agent's tickets.

Race-free: the team's ``TeamAssignment`` row is locked first, which serialises the team's
assignments; then the chosen agent's ``AgentProfile`` row, and their load is read again under
that lock, because an agent in two teams is reached through two team locks. Each read is a new
statement, which under READ COMMITTED sees every assignment committed before the lock was granted.
"""

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales import bulk
from aftersales.business_time import CalendarSpec
from aftersales.exceptions import InvalidInput, PermissionRefused
from aftersales.models import BusinessCalendar, Customer, Membership, Merchant, OrderLine, User
from aftersales.services.notifications import notifications_batched
from aftersales.services.staff import staff_membership_required
from tickets import assignment_sql as sql
from tickets.models import (
    ACTIVE_STATUSES,
    AgentProfile,
    AgentStatus,
    AssignmentStrategy,
    Team,
    TeamAssignment,
    Ticket,
    TicketEvent,
)
from tickets.notify import notify_staff
from tickets.timeline import event_append
from tickets.verbs import RoutingVerb

_M = TypeVar("_M", bound=models.Model)

ASSIGNABLE_ROLES = (Membership.Role.AGENT, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)
# At most this many of a team's agents are tried (locked and recounted) for one ticket.
MAX_TRIES = 5


# --- the locks, in this order -------------------------------------------------------------------


def team_assignment_lock(team_id: int) -> TeamAssignment | None:
    """Lock the team's assignment policy (which serialises the team's assignments) and read it."""
    with connection.cursor() as cursor:
        sql.execute(cursor, "tickets_assign_policy", sql.policy_lock_sql(), {"team": team_id})
        row = cursor.fetchone()
    if row is None:
        return None
    pk, merchant_id, auto_assign, strategy, kind_weights = row
    return TeamAssignment(
        pk=pk,
        team_id=team_id,
        merchant_id=merchant_id,
        auto_assign=auto_assign,
        strategy=strategy,
        kind_weights=json.loads(kind_weights),
    )


# --- reading the candidates ---------------------------------------------------------------------


@dataclass(frozen=True)
class TicketNeeds:
    kind: str
    language: str
    categories: frozenset[str]
    weight: int


def _needs(ticket: Ticket, policy: TeamAssignment) -> TicketNeeds:
    """What the ticket asks of an agent. Its product categories are those of the order lines it is
    about, else of its whole order."""
    categories: list[str] = []
    if ticket.order_id is not None:
        categories = list(
            Ticket.order_lines.through.objects.filter(ticket_id=ticket.pk).values_list(
                "orderline__product__category", flat=True
            )
        ) or list(OrderLine.objects.filter(order_id=ticket.order_id).values_list("product__category", flat=True))
    return TicketNeeds(
        kind=ticket.kind,
        language=ticket.customer.language or ticket.merchant.default_language,
        categories=frozenset(category for category in categories if category),
        weight=policy.weight_of(ticket.kind),
    )


# Shift calendars are read at most once a minute per process: an assignment is on the hot path of
# every new ticket, and a shift edited takes effect within the minute.
CALENDAR_CACHE_SECONDS = 60.0
_spec_cache: dict[tuple[str, int], tuple[float, object]] = {}


def _cached(key: tuple[str, int], load: Callable[[], object]) -> object:
    now = time.monotonic()
    hit = _spec_cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    _spec_cache[key] = (now + CALENDAR_CACHE_SECONDS, value)
    return value


def calendar_cache_clear() -> None:
    _spec_cache.clear()


def _spec_of(calendar_id: int) -> CalendarSpec | None:
    def load() -> CalendarSpec | None:
        calendar = BusinessCalendar.objects.filter(pk=calendar_id).first()
        return CalendarSpec.from_calendar(calendar) if calendar else None

    return cast("CalendarSpec | None", _cached(("spec", calendar_id), load))


def _team_calendar_id(team: Team) -> int:
    """The team's own calendar, else the merchant's default; 0 for none (always on shift)."""

    def load() -> int:
        calendar_id = (
            BusinessCalendar.objects.filter(merchant_id=team.merchant_id)
            .filter(Q(team_id=team.pk) | Q(team__isnull=True))
            .order_by("team_id")  # the team's own first (NULLs sort last)
            .values_list("pk", flat=True)
            .first()
        )
        return calendar_id or 0

    return cast("int", _cached(("team", team.pk), load))


def on_shift(spec: CalendarSpec | None, now: datetime) -> bool:
    if spec is None:
        return True
    first = next(spec.intervals_from(now), None)
    return first is not None and first[0] <= now


@dataclass(frozen=True)
class Candidate:
    """An agent with room for the ticket, as read with the candidates (not yet locked)."""

    profile_id: int
    user_id: int
    capacity: int
    load: int
    shift_calendar_id: int | None


def _candidate_params(ticket: Ticket, team: Team, policy: TeamAssignment, needs: TicketNeeds) -> dict[str, object]:
    return {
        "team": team.pk,
        "merchant": ticket.merchant_id,
        "roles": [str(role) for role in ASSIGNABLE_ROLES],
        "available": str(AgentStatus.AVAILABLE),
        "weights": sql.weights_json(policy),
        "weight": needs.weight,
        "kind": json.dumps([needs.kind]),
        "language": json.dumps([needs.language]),
        "categories": json.dumps(sorted(needs.categories)),
    }


def eligible_agents(*, ticket: Ticket, team: Team, policy: TeamAssignment, now: datetime) -> list[Candidate]:
    """The team's available, on-shift, qualified agents with room for the ticket, best first by
    the team's strategy, each with their weighted ``load``.

    Presence, skills, room and the order are one indexed statement over the team's agents and
    their load counters (``tickets.assignment_sql.candidates_sql``); only the shift calendars are
    checked here (cached per process)."""
    needs = _needs(ticket, policy)
    least_loaded = policy.strategy != AssignmentStrategy.ROUND_ROBIN
    statement = sql.candidates_sql(least_loaded=least_loaded, lock=False)
    name = "tickets_assign_candidates_" + ("ll" if least_loaded else "rr")
    with connection.cursor() as cursor:
        sql.execute(cursor, name, statement, _candidate_params(ticket, team, policy, needs))
        rows = cursor.fetchall()
    fitting: list[Candidate] = []
    shifts: dict[int, bool] = {}  # most of a team's agents share a calendar: one check each
    for profile_id, user_id, capacity, load, shift_calendar_id in rows:
        if _on_shift(shift_calendar_id, team, now, shifts):
            fitting.append(Candidate(profile_id, user_id, capacity, int(load), shift_calendar_id))
    return fitting


def _on_shift(shift_calendar_id: int | None, team: Team, now: datetime, shifts: dict[int, bool]) -> bool:
    calendar_id = shift_calendar_id or _team_calendar_id(team)
    if calendar_id not in shifts:
        shifts[calendar_id] = on_shift(_spec_of(calendar_id) if calendar_id else None, now)
    return shifts[calendar_id]


def _agent_lock(profile_id: int) -> tuple[str, int, User]:
    """Lock the agent's profile: their status and capacity under the lock, and the user."""
    with connection.cursor() as cursor:
        sql.execute(cursor, "tickets_assign_agent", sql.agent_lock_sql(), {"profile": profile_id})
        status, capacity, *user_values = cursor.fetchone()
    return status, capacity, User.from_db(connection.alias, sql.user_columns(), user_values)


# --- assigning ----------------------------------------------------------------------------------


def ticket_auto_assign_in_transaction(*, ticket: Ticket, actor: User | None = None) -> User | None:
    """Pick an agent of the ticket's team and assign the (locked or just created) ticket to them,
    in the caller's transaction. None when the team has no auto-assignment or nobody has room:
    the ticket then waits in the team's pool.

    Five statements: the team's lock, the candidates, the chosen agent's lock, then the recount
    under that lock, the assignment, the agent's turn and the event in one statement
    (``assign_sql``), which writes nothing when the agent turned out to be full."""
    if ticket.team_id is None:
        return None
    policy = team_assignment_lock(ticket.team_id)
    if policy is None:
        return None
    return _assign_under_policy(ticket=ticket, policy=policy, actor=actor)


def _assign_under_policy(*, ticket: Ticket, policy: TeamAssignment, actor: User | None) -> User | None:
    """The assignment once the ticket and its team's policy are locked."""
    if not policy.auto_assign:
        return None
    team = ticket.team
    assert team is not None  # noqa: S101 — the policy is this team's
    now = timezone.now()
    weight = policy.weight_of(ticket.kind)
    event_in_statement = not bulk.gathering()
    for candidate in eligible_agents(ticket=ticket, team=team, policy=policy, now=now)[:MAX_TRIES]:
        status, capacity, agent = _agent_lock(candidate.profile_id)
        if status != AgentStatus.AVAILABLE:
            continue
        data = {
            "from": None,
            "to": agent.pk,
            "to_name": str(agent),
            "team": team.name,
            "auto": policy.strategy,
            "capacity": capacity,
        }
        with connection.cursor() as cursor:
            sql.execute(
                cursor,
                "tickets_assign" if event_in_statement else "tickets_assign_without_event",
                sql.assign_sql(with_event=event_in_statement),
                {
                    "weights": sql.weights_json(policy),
                    "merchant": ticket.merchant_id,
                    "user": agent.pk,
                    "weight": weight,
                    "capacity": capacity,
                    "ticket": ticket.pk,
                    "profile": candidate.profile_id,
                    "now": now,
                    "actor": actor.pk if actor is not None else None,
                    "verb": str(TicketEvent.Verb.ASSIGNED),
                    "data": json.dumps(data),
                },
            )
            row = cursor.fetchone()
        if row is None:
            continue  # full after all: assignments committed since the candidates were read
        ticket.assignee = agent
        ticket.updated_at = now
        if not event_in_statement:
            event_append(ticket, TicketEvent.Verb.ASSIGNED, actor_user=actor, data={**data, "load": row[0] + weight})
        notify_staff(ticket, agent, "ticket_assigned", {"assigned_by": _("auto-assignment")})
        return agent
    return None


def _instance(model: type[_M], values: list[Any]) -> tuple[_M, list[Any]]:
    """The model's instance from the first of ``values`` (all its concrete columns), and the rest."""
    fields = model._meta.concrete_fields
    own, rest = values[: len(fields)], values[len(fields) :]
    # What the ORM's compiler does for a raw row: the JSON fields' own conversion.
    converted = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, own, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], converted), rest


def _ticket_and_policy_lock(ticket_id: int) -> tuple[Ticket, TeamAssignment] | None:
    """Lock the ticket and its team's policy in one statement (``ticket_policy_lock_sql``); the
    ticket comes with its team, customer and merchant. None when it has no team or the team no
    policy (nothing is locked then)."""
    with connection.cursor() as cursor:
        sql.execute(cursor, "tickets_assign_ticket_policy", sql.ticket_policy_lock_sql(), {"ticket": ticket_id})
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    ticket, values = _instance(Ticket, values)
    team, values = _instance(Team, values)
    customer, values = _instance(Customer, values)
    merchant, values = _instance(Merchant, values)
    ticket.team, ticket.customer, ticket.merchant = team, customer, merchant
    pk, merchant_id, auto_assign, strategy, kind_weights = values
    policy = TeamAssignment(
        pk=pk,
        team_id=team.pk,
        merchant_id=merchant_id,
        auto_assign=auto_assign,
        strategy=strategy,
        kind_weights=json.loads(kind_weights),
    )
    return ticket, policy


def ticket_auto_assign(*, ticket: Ticket, actor: User | None = None) -> Ticket:
    """Auto-assign one unassigned ticket of a team (a staff "assign automatically", or the pool).

    Four statements when it assigns: the ticket and its team's policy locked together, then as
    ``ticket_auto_assign_in_transaction`` after its own lock of the policy."""
    with transaction.atomic():
        locked = _ticket_and_policy_lock(ticket.pk)
        if locked is None:
            # No team, or a team without a policy: the ticket alone, for the answer below.
            ticket = (
                Ticket.objects.select_for_update(of=("self",))
                .select_related("team", "customer", "merchant")
                .get(pk=ticket.pk)
            )
            policy = None
        else:
            ticket, policy = locked
        if actor is not None:
            staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        if ticket.assignee_id is not None or ticket.status not in ACTIVE_STATUSES:
            return ticket
        if ticket.team_id is None:
            raise InvalidInput(_("Put the ticket in a team first."), code="no_team", extra={"field": "team"})
        if policy is not None:
            _assign_under_policy(ticket=ticket, policy=policy, actor=actor)
    return ticket


# --- the pool, in batches -----------------------------------------------------------------------


@dataclass
class _Desk:
    """An agent of the batch, locked: what the choice needs, kept up to date as tickets go out."""

    profile_id: int
    user_id: int
    capacity: int
    load: int
    last_assigned_at: datetime | None
    kinds: list[str]
    languages: list[str]
    categories: list[str]

    def qualified(self, needs: TicketNeeds) -> bool:
        return (
            (not self.kinds or needs.kind in self.kinds)
            and (not self.languages or needs.language in self.languages)
            and (not self.categories or needs.categories <= set(self.categories))
        )

    def turn_key(self) -> tuple[int, float, int]:
        stamp = self.last_assigned_at
        return (0 if stamp is None else 1, stamp.timestamp() if stamp is not None else 0.0, self.profile_id)


def _needs_of_batch(tickets: list[Ticket], policy: TeamAssignment) -> dict[int, TicketNeeds]:
    """``_needs`` of each ticket, the product categories read in two statements for all of them."""
    with_order = [ticket for ticket in tickets if ticket.order_id is not None]
    of_lines: dict[int, list[str]] = {}
    of_orders: dict[int, list[str]] = {}
    if with_order:
        for ticket_id, category in Ticket.order_lines.through.objects.filter(
            ticket_id__in=[ticket.pk for ticket in with_order]
        ).values_list("ticket_id", "orderline__product__category"):
            of_lines.setdefault(ticket_id, []).append(category)
        orders = {ticket.order_id for ticket in with_order if ticket.pk not in of_lines and ticket.order_id}
        if orders:
            for order_id, category in OrderLine.objects.filter(order_id__in=orders).values_list(
                "order_id", "product__category"
            ):
                of_orders.setdefault(order_id, []).append(category)
    needs = {}
    for ticket in tickets:
        categories = of_lines.get(ticket.pk) or (of_orders.get(ticket.order_id or 0, []))
        needs[ticket.pk] = TicketNeeds(
            kind=ticket.kind,
            language=ticket.customer.language or ticket.merchant.default_language,
            categories=frozenset(category for category in categories if category),
            weight=policy.weight_of(ticket.kind),
        )
    return needs


def tickets_auto_assign_batch(*, team: Team, ticket_ids: Sequence[int]) -> list[int]:
    """Auto-assign these waiting tickets of the team in one transaction, in the order given; one
    that nobody can take waits in the pool, as it would have one by one. Returns the ids assigned.

    The same choice as ``ticket_auto_assign`` made for each ticket in turn, with the statements
    shared by the batch: the tickets are locked (skipping any another transaction holds: it is
    working on them), then the team's lock, then its qualified-or-not available agents are locked
    at once (skipping any an assignment of another team holds: none is ever waited for here, so
    a batch cannot deadlock with a single assignment), their loads read again under those locks,
    and the tickets handed out in memory: skills, shifts, capacity with the team's weights, and
    round robin or least loaded exactly as the single path orders them. Then one update of the
    tickets, one of the agents' turns, one insert of the events and one of the notifications.
    Each agent's turn is stamped a microsecond after the previous one's, so round robin goes on
    in the order the batch gave the tickets out."""
    if not ticket_ids:
        return []
    position = {ticket_id: index for index, ticket_id in enumerate(ticket_ids)}
    # The notices are handed to the worker once the gathered rows are written (and have their keys).
    with transaction.atomic(), notifications_batched(), bulk.bulk_inserts():
        tickets = list(
            Ticket.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("customer", "merchant")
            .filter(
                pk__in=list(ticket_ids),
                merchant_id=team.merchant_id,
                team=team,
                assignee__isnull=True,
                status__in=ACTIVE_STATUSES,
            )
            .order_by("pk")
        )
        tickets.sort(key=lambda ticket: position[ticket.pk])
        if not tickets:
            return []
        policy = team_assignment_lock(team.pk)
        if policy is None or not policy.auto_assign:
            return []
        now = timezone.now()
        params = {
            "team": team.pk,
            "merchant": team.merchant_id,
            "roles": [str(role) for role in ASSIGNABLE_ROLES],
            "available": str(AgentStatus.AVAILABLE),
        }
        with connection.cursor() as cursor:
            sql.execute(
                cursor, "tickets_assign_batch_agents", sql.candidates_sql(least_loaded=False, lock=True), params
            )
            rows = cursor.fetchall()
        shifts: dict[int, bool] = {}
        desks = [
            _Desk(profile_id, user_id, capacity, 0, last, json.loads(kinds), json.loads(languages), json.loads(cats))
            for profile_id, user_id, capacity, calendar_id, last, kinds, languages, cats in rows
            if _on_shift(calendar_id, team, now, shifts)
        ]
        if not desks:
            return []
        with connection.cursor() as cursor:
            sql.execute(
                cursor,
                "tickets_assign_batch_loads",
                sql.loads_sql(),
                {
                    "weights": sql.weights_json(policy),
                    "merchant": team.merchant_id,
                    "users": [d.user_id for d in desks],
                },
            )
            loads = dict(cursor.fetchall())
        for desk in desks:
            desk.load = int(loads.get(desk.user_id) or 0)
        users = User.objects.in_bulk([desk.user_id for desk in desks])
        needs = _needs_of_batch(tickets, policy)
        least_loaded = policy.strategy != AssignmentStrategy.ROUND_ROBIN
        assigned: list[tuple[Ticket, _Desk, int]] = []
        stamp = now
        for ticket in tickets:
            need = needs[ticket.pk]
            fitting = [d for d in desks if d.load + need.weight <= d.capacity and d.qualified(need)]
            if not fitting:
                continue  # waits in the pool; the next ticket may need other skills
            if least_loaded:
                desk = min(fitting, key=lambda d: (d.load / max(d.capacity, 1), *d.turn_key()))
            else:
                desk = min(fitting, key=_Desk.turn_key)
            desk.load += need.weight
            desk.last_assigned_at = stamp
            stamp += timedelta(microseconds=1)
            assigned.append((ticket, desk, desk.load))
        if not assigned:
            return []
        tickets_sql, profiles_sql = sql.batch_update_sql()
        turns = {desk.profile_id: desk.last_assigned_at for _ticket, desk, _load in assigned}
        with connection.cursor() as cursor:
            cursor.execute(
                tickets_sql,
                [now, [t.pk for t, _d, _l in assigned], [d.user_id for _t, d, _l in assigned]],
            )
            cursor.execute(profiles_sql, [now, list(turns), list(turns.values())])
        for ticket, desk, load in assigned:
            agent = users[desk.user_id]
            ticket.assignee = agent
            ticket.team = team
            event_append(
                ticket,
                TicketEvent.Verb.ASSIGNED,
                data={
                    "from": None,
                    "to": agent.pk,
                    "to_name": str(agent),
                    "team": team.name,
                    "auto": policy.strategy,
                    "load": load,
                    "capacity": desk.capacity,
                },
            )
            notify_staff(ticket, agent, "ticket_assigned", {"assigned_by": _("auto-assignment")})
    return [ticket.pk for ticket, _desk, _load in assigned]


POOL_BATCH = 200


def team_assign_pool(*, team: Team, limit: int = 200) -> int:
    """Assign the team's waiting unassigned tickets, oldest and most urgent first, in batches of
    ``POOL_BATCH`` (``tickets_auto_assign_batch``); how many went."""
    ids = list(
        Ticket.objects.filter(
            merchant_id=team.merchant_id, team=team, assignee__isnull=True, status__in=ACTIVE_STATUSES
        )
        .order_by("-priority", "created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    assigned = 0
    for start in range(0, len(ids), POOL_BATCH):
        chunk = ids[start : start + POOL_BATCH]
        went = tickets_auto_assign_batch(team=team, ticket_ids=chunk)
        assigned += len(went)
        if not went:
            break  # nobody has room: the rest wait too
    return assigned


# --- presence -----------------------------------------------------------------------------------


def agent_profile_for(*, merchant: Merchant, user: User) -> AgentProfile:
    """The agent's profile at the merchant, created on first use (offline, default capacity)."""
    profile, _created = AgentProfile.objects.get_or_create(merchant=merchant, user=user)
    return profile


def agent_set_status(
    *, merchant: Merchant, agent: User, actor: User, status: str, hand_back: bool = False
) -> AgentProfile:
    """Set an agent's presence. Agents set their own; a supervisor may set anyone's. Going away
    or offline with ``hand_back`` puts the agent's open tickets of a team back in its pool, and
    the pool is then offered to the team's available agents."""
    if status not in AgentStatus.values:
        raise InvalidInput(_("Unknown status."), code="invalid_status", extra={"field": "status"})
    actor_membership = staff_membership_required(actor=actor, merchant_id=merchant.pk)
    if actor.pk != agent.pk and not actor_membership.is_supervisor:
        raise PermissionRefused(_("Only a supervisor may set another agent's status."))
    staff_membership_required(actor=agent, merchant_id=merchant.pk)
    released_teams: set[int] = set()
    with transaction.atomic():
        agent_profile_for(merchant=merchant, user=agent)
        profile = AgentProfile.objects.select_for_update(of=("self",)).get(merchant=merchant, user=agent)
        if profile.status != status:
            profile.status = status
            profile.status_changed_at = timezone.now()
            profile.save(update_fields=["status", "status_changed_at", "updated_at"])
        if hand_back and status != AgentStatus.AVAILABLE:
            released_teams = _hand_back(merchant=merchant, agent=agent, actor=actor)
        elif status == AgentStatus.AVAILABLE:
            # Back at the desk: the agent's teams' waiting tickets are offered again.
            released_teams = set(
                TeamAssignment.objects.filter(merchant=merchant, team__members=agent, auto_assign=True).values_list(
                    "team_id", flat=True
                )
            )
    # Each pool assignment is its own transaction, after the hand-back committed.
    for team in Team.objects.filter(pk__in=released_teams):
        team_assign_pool(team=team)
    return profile


def _hand_back(*, merchant: Merchant, agent: User, actor: User) -> set[int]:
    tickets = list(
        Ticket.objects.select_for_update(of=("self",))
        .filter(merchant=merchant, assignee=agent, status__in=ACTIVE_STATUSES, team__isnull=False)
        .select_related("team")
        .order_by("pk")
    )
    for ticket in tickets:
        Ticket.objects.filter(pk=ticket.pk).update(assignee=None, updated_at=timezone.now())
        event_append(
            ticket,
            RoutingVerb.AGENT_RELEASED,
            actor_user=actor,
            data={"from": agent.pk, "from_name": str(agent), "team": ticket.team.name if ticket.team else ""},
        )
    return {ticket.team_id for ticket in tickets if ticket.team_id is not None}


def team_assignment_save(
    *, team: Team, actor: User, auto_assign: bool, strategy: str, kind_weights: dict[str, int]
) -> TeamAssignment:
    membership = staff_membership_required(actor=actor, merchant_id=team.merchant_id)
    if not membership.is_supervisor:
        raise PermissionRefused(_("Only a supervisor or a merchant admin may change routing."))
    if strategy not in AssignmentStrategy.values:
        raise InvalidInput(_("Unknown strategy."), code="invalid_strategy", extra={"field": "strategy"})
    if any(not isinstance(w, int) or w < 1 or w > 100 for w in kind_weights.values()):
        raise InvalidInput(_("Each weight is a whole number from 1 to 100."), code="invalid_weight")
    with transaction.atomic():
        policy, _created = TeamAssignment.objects.update_or_create(
            team=team,
            defaults={
                "merchant_id": team.merchant_id,
                "auto_assign": auto_assign,
                "strategy": strategy,
                "kind_weights": kind_weights,
            },
        )
    return policy


def agent_profile_save(
    *,
    profile: AgentProfile,
    actor: User,
    capacity: int,
    languages: list[str],
    product_categories: list[str],
    kinds: list[str],
    shift_calendar: BusinessCalendar | None,
) -> AgentProfile:
    membership = staff_membership_required(actor=actor, merchant_id=profile.merchant_id)
    if not membership.is_supervisor:
        raise PermissionRefused(_("Only a supervisor or a merchant admin may change an agent's skills."))
    if shift_calendar is not None and shift_calendar.merchant_id != profile.merchant_id:
        raise InvalidInput(_("Unknown calendar."), code="unknown_calendar", extra={"field": "shift_calendar"})
    with transaction.atomic():
        profile = AgentProfile.objects.select_for_update(of=("self",)).get(pk=profile.pk)
        profile.capacity = capacity
        profile.languages = languages
        profile.product_categories = product_categories
        profile.kinds = kinds
        profile.shift_calendar = shift_calendar
        profile.save(
            update_fields=["capacity", "languages", "product_categories", "kinds", "shift_calendar", "updated_at"]
        )
    return profile
