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

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from django.db import transaction
from django.db.models import Case, F, FloatField, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.business_time import CalendarSpec
from aftersales.exceptions import InvalidInput, PermissionRefused
from aftersales.models import BusinessCalendar, Membership, Merchant, OrderLine, User
from aftersales.services.staff import staff_membership_required
from tickets.models import (
    ACTIVE_STATUSES,
    AgentLoad,
    AgentProfile,
    AgentStatus,
    AssignmentStrategy,
    Team,
    TeamAssignment,
    Ticket,
    TicketEvent,
    TicketKind,
)
from tickets.notify import notify_staff
from tickets.timeline import event_append
from tickets.verbs import RoutingVerb

ASSIGNABLE_ROLES = (Membership.Role.AGENT, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)
# At most this many of a team's agents are tried (locked and recounted) for one ticket.
MAX_TRIES = 5


# --- the locks, in this order -------------------------------------------------------------------


def team_assignment_lock(team_id: int) -> TeamAssignment | None:
    return TeamAssignment.objects.select_for_update(of=("self",)).filter(team_id=team_id).first()


def agent_profile_lock(profile_id: int) -> AgentProfile:
    return AgentProfile.objects.select_for_update(of=("self",)).select_related("user").get(pk=profile_id)


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


def _kind_weight(policy: TeamAssignment) -> Case:
    weights = {kind: policy.weight_of(kind) for kind in TicketKind.values}
    return Case(
        *(When(kind=kind, then=Value(value)) for kind, value in weights.items() if value != 1),
        default=Value(1),
        output_field=IntegerField(),
    )


def weighted_load(policy: TeamAssignment, *, merchant_id: int) -> Subquery:
    """An agent's active tickets at the merchant, weighted by kind, for each ``AgentProfile`` row:
    read from the agent's load counters in the same statement as the candidates."""
    return Subquery(
        AgentLoad.objects.filter(merchant_id=merchant_id, user_id=OuterRef("user_id"))
        .order_by()
        .values("user_id")
        .annotate(load=Sum(F("open_count") * _kind_weight(policy), output_field=IntegerField()))
        .values("load")[:1],
        output_field=IntegerField(),
    )


def agent_loads(*, merchant_id: int, user_ids: Iterable[int], policy: TeamAssignment) -> dict[int, int]:
    """Each agent's active tickets at the merchant, weighted by kind with the team's weights."""
    loads: dict[int, int] = {}
    rows = AgentLoad.objects.filter(merchant_id=merchant_id, user_id__in=list(user_ids), open_count__gt=0).values_list(
        "user_id", "kind", "open_count"
    )
    for user_id, kind, count in rows:
        loads[user_id] = loads.get(user_id, 0) + count * policy.weight_of(kind)
    return loads


@dataclass(frozen=True)
class Candidate:
    """An agent with room for the ticket, as read with the candidates (not yet locked)."""

    profile_id: int
    user_id: int
    capacity: int
    load: int
    shift_calendar_id: int | None


def eligible_agents(*, ticket: Ticket, team: Team, policy: TeamAssignment, now: datetime) -> list[Candidate]:
    """The team's available, on-shift, qualified agents with room for the ticket, best first by
    the team's strategy, each with their weighted ``load``.

    Presence, skills, room and the order are one indexed statement over the team's agents and
    their load counters; only the shift calendars are checked here (cached per process)."""
    needs = _needs(ticket, policy)
    skills = (
        (Q(kinds=[]) | Q(kinds__contains=[needs.kind]))
        & (Q(languages=[]) | Q(languages__contains=[needs.language]))
        & (Q(product_categories=[]) | Q(product_categories__contains=sorted(needs.categories)))
    )
    if policy.strategy == AssignmentStrategy.ROUND_ROBIN:
        order: tuple[object, ...] = (F("last_assigned_at").asc(nulls_first=True), "pk")
    else:
        share = Cast("open_load", FloatField()) / Greatest(Cast("capacity", FloatField()), Value(1.0))
        order = (share.asc(), F("last_assigned_at").asc(nulls_first=True), "pk")
    rows = (
        AgentProfile.objects.filter(
            skills,
            merchant_id=ticket.merchant_id,
            status=AgentStatus.AVAILABLE,
            user__teams=team,
            user__is_active=True,
            user__memberships__merchant_id=ticket.merchant_id,
            user__memberships__is_active=True,
            user__memberships__role__in=ASSIGNABLE_ROLES,
        )
        .annotate(open_load=Coalesce(weighted_load(policy, merchant_id=ticket.merchant_id), 0))
        .filter(open_load__lte=F("capacity") - needs.weight)
        .order_by(*order)  # type: ignore[arg-type]
        .values_list("pk", "user_id", "capacity", "open_load", "shift_calendar_id")
    )
    fitting: list[Candidate] = []
    shifts: dict[int, bool] = {}  # most of a team's agents share a calendar: one check each
    for profile_id, user_id, capacity, load, shift_calendar_id in rows:
        calendar_id = shift_calendar_id or _team_calendar_id(team)
        if calendar_id not in shifts:
            shifts[calendar_id] = on_shift(_spec_of(calendar_id) if calendar_id else None, now)
        if shifts[calendar_id]:
            fitting.append(Candidate(profile_id, user_id, capacity, load, shift_calendar_id))
    return fitting


# --- assigning ----------------------------------------------------------------------------------


def ticket_auto_assign_in_transaction(*, ticket: Ticket, actor: User | None = None) -> User | None:
    """Pick an agent of the ticket's team and assign the (locked or just created) ticket to them,
    in the caller's transaction. None when the team has no auto-assignment or nobody has room:
    the ticket then waits in the team's pool."""
    if ticket.team_id is None:
        return None
    policy = team_assignment_lock(ticket.team_id)
    if policy is None or not policy.auto_assign:
        return None
    team = ticket.team
    assert team is not None  # noqa: S101 — team_id is set
    now = timezone.now()
    weight = policy.weight_of(ticket.kind)
    for candidate in eligible_agents(ticket=ticket, team=team, policy=policy, now=now)[:MAX_TRIES]:
        profile = agent_profile_lock(candidate.profile_id)
        if profile.status != AgentStatus.AVAILABLE:
            continue
        load = agent_loads(merchant_id=ticket.merchant_id, user_ids=[profile.user_id], policy=policy).get(
            profile.user_id, 0
        )
        if load + weight > profile.capacity:
            continue
        AgentProfile.objects.filter(pk=profile.pk).update(last_assigned_at=now, updated_at=now)
        agent = profile.user
        Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, updated_at=now)
        ticket.assignee = agent
        event_append(
            ticket,
            TicketEvent.Verb.ASSIGNED,
            actor_user=actor,
            data={
                "from": None,
                "to": agent.pk,
                "to_name": str(agent),
                "team": team.name,
                "auto": policy.strategy,
                "load": load + weight,
                "capacity": profile.capacity,
            },
        )
        notify_staff(ticket, agent, "ticket_assigned", {"assigned_by": _("auto-assignment")})
        return agent
    return None


def ticket_auto_assign(*, ticket: Ticket, actor: User | None = None) -> Ticket:
    """Auto-assign one unassigned ticket of a team (a staff "assign automatically", or the pool)."""
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("team", "customer", "merchant")
            .get(pk=ticket.pk)
        )
        if actor is not None:
            staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        if ticket.assignee_id is not None or ticket.status not in ACTIVE_STATUSES:
            return ticket
        if ticket.team_id is None:
            raise InvalidInput(_("Put the ticket in a team first."), code="no_team", extra={"field": "team"})
        ticket_auto_assign_in_transaction(ticket=ticket, actor=actor)
    return ticket


def team_assign_pool(*, team: Team, limit: int = 200) -> int:
    """Assign the team's waiting unassigned tickets, oldest and most urgent first; how many went."""
    ids = list(
        Ticket.objects.filter(
            merchant_id=team.merchant_id, team=team, assignee__isnull=True, status__in=ACTIVE_STATUSES
        )
        .order_by("-priority", "created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    assigned = 0
    for ticket_id in ids:
        ticket = ticket_auto_assign(ticket=Ticket(pk=ticket_id))
        if ticket.assignee_id is not None:
            assigned += 1
        else:
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
