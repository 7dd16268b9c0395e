"""Reads of SLA clocks for the dashboard: a queue row's countdown state, a ticket's clocks with
their business time, and the attainment report. Each starts from a ticket or the request's merchant.

Elapsed business time is measured on the deadline's own calendar, loaded for all the clocks of a
page at once (two queries however many clocks and calendars), never one calendar at a time.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.business_time import CalendarSpec, _merge
from aftersales.compiled import CompiledRead
from aftersales.models import BusinessCalendar, CalendarDay, Deadline, DeadlinePause, Merchant, User, WorkingHours
from tickets.deadline_kinds import PENDING_CLOSE_KIND, REMINDER_KIND, kind_of, target_of
from tickets.models import SlaBreach, SlaPolicy, SlaTarget, Ticket
from tickets.selectors.rows import instances, rows_array

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SLA_KINDS = tuple(kind_of(target) for target in SlaTarget.values)
TARGET_ORDER: dict[str, int] = {target: position for position, target in enumerate(SlaTarget.values)}


# --- the countdown of a queue row ---------------------------------------------------------------


class ClockState:
    NONE = "none"  # no open deadline and never escalated
    NORMAL = "normal"
    WARNING = "warning"
    BREACHED = "breached"


def clock_state(*, due_at: datetime | None, warn_at: datetime | None, escalation_level: int, now: datetime) -> str:
    """Breached when the deadline has passed or the ticket was already escalated for a breach;
    warning from the deadline's warning time on; else normal."""
    if escalation_level > 0 or (due_at is not None and due_at <= now):
        return ClockState.BREACHED
    if due_at is None:
        return ClockState.NONE
    if warn_at is not None and warn_at <= now:
        return ClockState.WARNING
    return ClockState.NORMAL


# --- business time on the deadlines' calendars --------------------------------------------------


def calendar_specs(calendars: Iterable[BusinessCalendar]) -> dict[int, CalendarSpec]:
    """A ``CalendarSpec`` per calendar, in two queries for all of them."""
    by_id = {calendar.pk: calendar for calendar in calendars}
    if not by_id:
        return {}
    weekly: dict[int, dict[int, list[tuple[int, int]]]] = {pk: {} for pk in by_id}
    for calendar_id, weekday, start, end in WorkingHours.objects.filter(calendar_id__in=by_id).values_list(
        "calendar_id", "weekday", "start_minute", "end_minute"
    ):
        weekly[calendar_id].setdefault(weekday, []).append((start, end))
    holidays: dict[int, set] = {pk: set() for pk in by_id}
    extra: dict[int, dict] = {pk: {} for pk in by_id}
    for calendar_id, day, kind, works_as in CalendarDay.objects.filter(calendar_id__in=by_id).values_list(
        "calendar_id", "date", "kind", "works_as"
    ):
        if kind == CalendarDay.Kind.HOLIDAY:
            holidays[calendar_id].add(day)
        else:
            extra[calendar_id][day] = works_as
    return {
        pk: CalendarSpec(
            tz=ZoneInfo(calendar.timezone),
            weekly={day: _merge(ranges) for day, ranges in weekly[pk].items()},
            holidays=frozenset(holidays[pk]),
            extra_working_days=extra[pk],
        )
        for pk, calendar in by_id.items()
    }


def _minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)


# --- a ticket's SLA clocks ----------------------------------------------------------------------


class ClockOutcome:
    PENDING = "pending"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    CANCELLED = "cancelled"
    FAILED = "failed"


OUTCOME_LABELS = {
    ClockOutcome.PENDING: _("Running"),
    ClockOutcome.PAUSED: _("Paused"),
    ClockOutcome.MET: _("Met"),
    ClockOutcome.BREACHED: _("Breached"),
    ClockOutcome.CANCELLED: _("Cancelled"),
    ClockOutcome.FAILED: _("Failed"),
}

_OUTCOME_OF_STATE: dict[str, str] = {
    Deadline.State.PENDING: ClockOutcome.PENDING,
    Deadline.State.PAUSED: ClockOutcome.PAUSED,
    Deadline.State.MET: ClockOutcome.MET,
    Deadline.State.FIRED: ClockOutcome.BREACHED,
    Deadline.State.CANCELLED: ClockOutcome.CANCELLED,
    Deadline.State.FAILED: ClockOutcome.FAILED,
}


@dataclass(frozen=True)
class SlaClock:
    deadline: Deadline
    target: str
    outcome: str  # a ClockOutcome
    ended_at: datetime | None  # met, fired, cancelled or failed at; None while the clock runs
    elapsed_minutes: int  # business minutes the clock ran, pauses left out
    pauses: list[DeadlinePause]
    breach: SlaBreach | None
    late_minutes: int | None  # business minutes past due: final once met, so far while not

    @property
    def target_label(self) -> "StrOrPromise":
        return SlaTarget(self.target).label

    @property
    def outcome_label(self) -> "StrOrPromise":
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    @property
    def remaining_minutes(self) -> int | None:
        """Business minutes left on a paused clock."""
        seconds = self.deadline.remaining_seconds
        return None if seconds is None else int(seconds // 60)

    @property
    def is_late_so_far(self) -> bool:
        return self.breach is not None and self.breach.met_at is None


_PAUSES = Prefetch("pauses", queryset=DeadlinePause.objects.order_by("paused_at", "id"))


_PAUSES_OF_ROW = DeadlinePause.objects.filter(deadline_id=OuterRef("pk")).order_by("paused_at", "id")


@dataclass(frozen=True)
class TicketPageDeadlines:
    """The timers the staff ticket page shows, read in one query: the SLA clocks (with their
    calendars, breaches and pauses), the viewer's pending "remind me", and a pending close."""

    sla: list[Deadline]
    reminder: Deadline | None
    pending_close_at: datetime | None


def ticket_page_deadlines(*, ticket: Ticket, user: User) -> TicketPageDeadlines:
    rows = _TICKET_PAGE_DEADLINES.rows(
        shape=None, merchant_id=ticket.merchant_id, ticket_id=ticket.pk, user_key=str(user.pk)
    )
    for row in rows:
        annotated: Any = row  # the query's annotation
        _prefetched(row, "pauses", instances(DeadlinePause, annotated.page_pauses))
    sla: list[Deadline] = [row for row in rows if row.kind in SLA_KINDS]
    reminder = next((row for row in rows if row.kind == REMINDER_KIND), None)
    pending_close = next((row for row in rows if row.kind == PENDING_CLOSE_KIND), None)
    return TicketPageDeadlines(
        sla=sla, reminder=reminder, pending_close_at=pending_close.due_at if pending_close else None
    )


def _ticket_page_deadlines_query(*, shape: None, merchant_id: int, ticket_id: int, user_key: str) -> QuerySet[Deadline]:
    return (
        Deadline.objects.filter(merchant_id=merchant_id, ticket_id=ticket_id)
        .filter(
            Q(kind__in=SLA_KINDS)
            | Q(kind=REMINDER_KIND, key=user_key, state=Deadline.State.PENDING)
            | Q(kind=PENDING_CLOSE_KIND, state=Deadline.State.PENDING)
        )
        .select_related("calendar", "breach")
        # The pauses in the same query (a short list per clock), not one more round trip.
        .annotate(
            page_pauses=rows_array(DeadlinePause.objects.filter(deadline_id=OuterRef("pk")).order_by("paused_at", "id"))
        )
        .order_by("id")
    )


# Built and compiled once per process (aftersales.compiled): only the ticket and the viewer change.
_TICKET_PAGE_DEADLINES = CompiledRead(
    _ticket_page_deadlines_query, params={"merchant_id": int, "ticket_id": int, "user_key": str}, prepared=True
)


def _prefetched(obj: Any, name: str, rows: list[Any]) -> None:
    # What prefetch_related leaves on an instance: ``obj.<name>.all()`` then answers from ``rows``.
    queryset = getattr(obj, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    obj.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def ticket_sla_clocks(
    *, ticket: Ticket, now: datetime | None = None, deadlines: list[Deadline] | None = None
) -> list[SlaClock]:
    """Every SLA clock the ticket has had, by target (first response, next response, resolution)
    and newest first within one. Four queries at most, however many clocks and pauses; two fewer
    when the page has read the clocks already (``ticket_page_deadlines``)."""
    now = now or timezone.now()
    if deadlines is None:
        deadlines = list(
            Deadline.objects.filter(merchant_id=ticket.merchant_id, ticket_id=ticket.pk, kind__in=SLA_KINDS)
            .select_related("calendar", "breach")
            .prefetch_related(_PAUSES)
        )
    else:
        deadlines = list(deadlines)
    deadlines.sort(key=lambda d: (TARGET_ORDER.get(target_of(d.kind), 99), -d.started_at.timestamp(), -d.pk))
    specs = calendar_specs({d.calendar.pk: d.calendar for d in deadlines if d.calendar is not None}.values())
    always_open = CalendarSpec.always_open()
    clocks = []
    for deadline in deadlines:
        spec = specs.get(deadline.calendar_id, always_open) if deadline.calendar_id else always_open
        ended_at = _ended_at(deadline)
        end = ended_at or now
        pauses = list(deadline.pauses.all())
        elapsed = spec.between(deadline.started_at, end)
        for pause in pauses:
            # A restarted clock keeps its old pauses: count only what falls inside this run.
            paused_from = max(pause.paused_at, deadline.started_at)
            paused_until = min(pause.resumed_at or end, end)
            elapsed -= spec.between(paused_from, paused_until)
        breach = getattr(deadline, "breach", None)
        late = None
        if breach is not None:
            late = breach.late_minutes if breach.met_at else spec.minutes_between(breach.due_at, now)
        clocks.append(
            SlaClock(
                deadline=deadline,
                target=target_of(deadline.kind),
                outcome=_OUTCOME_OF_STATE.get(deadline.state, deadline.state),
                ended_at=ended_at,
                elapsed_minutes=max(_minutes(elapsed), 0),
                pauses=pauses,
                breach=breach,
                late_minutes=late,
            )
        )
    return clocks


def _ended_at(deadline: Deadline) -> datetime | None:
    if deadline.state == Deadline.State.MET:
        return deadline.met_at
    if deadline.state == Deadline.State.FIRED:
        # Breached at its due time, not at the (possibly late) sweep that noticed it.
        return deadline.due_at
    if deadline.state in (Deadline.State.CANCELLED, Deadline.State.FAILED):
        return deadline.closed_at
    return None


def pending_reminder(*, ticket: Ticket, user: User) -> Deadline | None:
    """The user's own "remind me" on this ticket, while it is still to come."""
    return Deadline.objects.filter(
        merchant_id=ticket.merchant_id,
        ticket_id=ticket.pk,
        kind=REMINDER_KIND,
        key=str(user.pk),
        state=Deadline.State.PENDING,
    ).first()


# --- the SLA report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaAttainment:
    """One policy's one target over a period: the clocks that ended in it, and how."""

    policy_id: int | None
    policy_name: str
    target: str
    target_minutes: int | None  # the policy's target today; clocks keep the one they started with
    ended: int = 0
    met: int = 0
    breached: int = 0

    @property
    def target_label(self) -> "StrOrPromise":
        return SlaTarget(self.target).label

    @property
    def attainment_percent(self) -> Decimal | None:
        if not self.ended:
            return None
        return (Decimal(self.met) * 100 / self.ended).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SlaReport:
    rows: list[SlaAttainment]
    totals: list[SlaAttainment] = field(default_factory=list)  # per target, every policy together


def _ended_between(start: datetime, end: datetime) -> Q:
    # A breached clock ended when it fell due, whenever the sweep noticed it.
    return Q(state=Deadline.State.MET, met_at__gte=start, met_at__lt=end) | Q(
        state=Deadline.State.FIRED, due_at__gte=start, due_at__lt=end
    )


def sla_attainment(*, merchant: Merchant, start: datetime, end: datetime) -> SlaReport:
    """Per policy and target: clocks that ended in [start, end) — met in time, or fired (breached).

    Counted by the database in one grouped query; the policy is the one recorded on the clock
    when it started, so a ticket whose policy was later edited still counts where it was timed.
    """
    counts = (
        Deadline.objects.filter(merchant=merchant, kind__in=SLA_KINDS)
        .filter(_ended_between(start, end))
        .annotate(policy_ref=Cast(KT("payload__policy"), IntegerField()))
        .values("policy_ref", "kind")
        .annotate(
            ended=Count("id"),
            met=Count("id", filter=Q(state=Deadline.State.MET)),
            breached=Count("id", filter=Q(state=Deadline.State.FIRED)),
        )
        .order_by()
    )
    counted = {(row["policy_ref"], target_of(row["kind"])): row for row in counts}
    policies = list(SlaPolicy.objects.filter(merchant=merchant).order_by("position", "id"))
    known = {policy.pk for policy in policies}
    rows = []
    for policy in policies:
        for target in SlaTarget.values:
            row = counted.get((policy.pk, target))
            if row is None and not policy.target_minutes(target):
                continue
            rows.append(_attainment(policy.pk, policy.name, target, policy.target_minutes(target), row))
    # Clocks whose policy has since been deleted still count.
    for (policy_ref, target), row in sorted(counted.items(), key=lambda item: TARGET_ORDER.get(item[0][1], 99)):
        if policy_ref not in known:
            rows.append(_attainment(None, "", target, None, row))
    totals = [
        SlaAttainment(
            policy_id=None,
            policy_name="",
            target=target,
            target_minutes=None,
            ended=sum(row.ended for row in rows if row.target == target),
            met=sum(row.met for row in rows if row.target == target),
            breached=sum(row.breached for row in rows if row.target == target),
        )
        for target in SlaTarget.values
        if any(row.target == target for row in rows)
    ]
    return SlaReport(rows=rows, totals=totals)


def _attainment(policy_id, policy_name, target, target_minutes, row) -> SlaAttainment:
    row = row or {}
    return SlaAttainment(
        policy_id=policy_id,
        policy_name=policy_name,
        target=target,
        target_minutes=target_minutes,
        ended=row.get("ended", 0),
        met=row.get("met", 0),
        breached=row.get("breached", 0),
    )


BREACH_PAGE_SIZE = 50


@dataclass(frozen=True)
class BreachKey:
    """Where a breach stands in the list, newest first: the next page starts strictly after it."""

    breached_at: datetime
    id: int


@dataclass(frozen=True)
class BreachPage:
    breaches: list[SlaBreach]
    next_key: BreachKey | None


def sla_breaches_page(
    *, merchant: Merchant, start: datetime, end: datetime, after: BreachKey | None = None, size: int = BREACH_PAGE_SIZE
) -> BreachPage:
    """Breaches in [start, end), newest first, one keyset page at a time."""
    breaches = (
        SlaBreach.objects.filter(merchant=merchant, breached_at__gte=start, breached_at__lt=end)
        .select_related("ticket", "policy")
        .order_by("-breached_at", "-id")
    )
    if after is not None:
        breaches = breaches.filter(
            Q(breached_at__lt=after.breached_at) | Q(breached_at=after.breached_at, id__lt=after.id)
        )
    rows = list(breaches[: size + 1])
    has_later = len(rows) > size
    rows = rows[:size]
    return BreachPage(
        breaches=rows,
        next_key=BreachKey(breached_at=rows[-1].breached_at, id=rows[-1].pk) if has_later else None,
    )
