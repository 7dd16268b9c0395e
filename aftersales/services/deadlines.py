"""The public API for timers: schedule, reschedule, pause, resume, meet and cancel a deadline of a
ticket, and the sweep that fires what is due.

Due times are computed once, when a clock starts or resumes, on the ticket's business calendar;
nothing is re-derived on read. While a clock is paused the business time it had left is stored,
and each pause is a row.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Min, OuterRef, Subquery
from django.utils import timezone

from aftersales import timers
from aftersales.bulk import bulk_inserts
from aftersales.business_time import CalendarSpec
from aftersales.compiled import CompiledUpdate
from aftersales.models import BusinessCalendar, Deadline, DeadlinePause
from aftersales.services.notifications import notifications_batched

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from aftersales.models import User
    from tickets.models import Ticket

logger = logging.getLogger("aftersales.timers")


def _spec(calendar: BusinessCalendar | None) -> CalendarSpec:
    return CalendarSpec.from_calendar(calendar) if calendar is not None else CalendarSpec.always_open()


def _open_deadline(*, ticket: "Ticket", kind: str, key: str = "", lock: bool = True) -> Deadline | None:
    deadlines = Deadline.objects.filter(ticket=ticket, kind=kind, key=key, state__in=Deadline.OPEN_STATES)
    if lock:
        deadlines = deadlines.select_for_update()
    return deadlines.first()


def _earliest_pending(kinds: Sequence[str], excluding: Sequence[int] = ()) -> "QuerySet[Any, Any]":
    """The earliest pending due time of these kinds on the outer query's ticket."""
    pending = Deadline.objects.filter(ticket_id=OuterRef("pk"), state=Deadline.State.PENDING, kind__in=kinds)
    if excluding:
        pending = pending.exclude(pk__in=list(excluding))
    return pending.order_by().values("ticket_id").annotate(earliest=Min("due_at")).values("earliest")


# One ticket's refresh follows every clock that starts or stops (a new case, a return's answer):
# the correlated update is built and compiled by the ORM once a process and shape (the kinds are
# fixed once the apps are ready), and planned once a session (~0.8 ms of CPU when built each time).
_TICKET_REFRESH = CompiledUpdate(
    lambda *, shape, ticket_id: (
        apps.get_model("tickets", "Ticket")._base_manager.filter(pk=ticket_id),
        {"next_deadline_at": Subquery(_earliest_pending(shape))},
    ),
    params={"ticket_id": int},
    prepared=True,
)


def ticket_refresh_next_deadline(ticket_id: int) -> None:
    """Keep ``Ticket.next_deadline_at`` equal to its earliest pending staff-facing due time."""
    kinds = tuple(timers.staff_facing_kinds())
    if not kinds:
        tickets_refresh_next_deadline([ticket_id])
        return
    _TICKET_REFRESH.run(shape=kinds, ticket_id=ticket_id)


def tickets_refresh_next_deadline(ticket_ids: list[int], *, excluding: Sequence[int] = ()) -> None:
    """The same for several tickets in one statement, reading past the ``excluding`` deadlines
    (rows the caller is about to mark). The correlated minimum reads one index range per ticket
    (``deadline_ticket_pending``) whatever the size of the table."""
    if not ticket_ids:
        return
    tickets = apps.get_model("tickets", "Ticket")._base_manager.filter(pk__in=ticket_ids)
    kinds = list(timers.staff_facing_kinds())
    if not kinds:
        tickets.update(next_deadline_at=None)
        return
    tickets.update(next_deadline_at=Subquery(_earliest_pending(kinds, excluding)))


def _next_fire(deadline: Deadline) -> datetime:
    if deadline.warn_at is not None and deadline.warned_at is None and deadline.warn_at < deadline.due_at:
        return deadline.warn_at
    return deadline.due_at


def deadline_schedule(
    *,
    ticket: "Ticket",
    kind: str,
    key: str = "",
    due_at: datetime | None = None,
    business_minutes: int | None = None,
    calendar: BusinessCalendar | None = None,
    warn_percent: int | None = None,
    warn_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
    start: datetime | None = None,
    user: "User | None" = None,
    new_ticket: bool = False,
) -> Deadline:
    """Start (or restart) the one open deadline of this kind on the ticket.

    Give either ``due_at`` (an instant) or ``business_minutes`` counted on ``calendar`` from
    ``start`` (now by default). ``warn_percent`` puts the warning at that share of the target.
    ``new_ticket``: the ticket was created in the caller's transaction and has no deadline of
    this kind yet, so none is looked for.
    """
    start = start or timezone.now()
    spec = _spec(calendar)
    if business_minutes is not None and due_at is None:
        due_at = spec.add_minutes(start, business_minutes)
        if warn_percent:
            warn_at = spec.add_minutes(start, business_minutes * warn_percent / 100)
    elif due_at is None or business_minutes is not None:  # neither given, or both
        raise ValueError("give either due_at or business_minutes")
    # Joins the caller's transaction when there is one (every state change that starts a clock):
    # a failure here fails the whole change, so a savepoint would buy nothing.
    with transaction.atomic(savepoint=False):
        deadline = (None if new_ticket else _open_deadline(ticket=ticket, kind=kind, key=key)) or Deadline(
            merchant_id=ticket.merchant_id, ticket=ticket, kind=kind, key=key
        )
        deadline.state = Deadline.State.PENDING
        deadline.calendar = calendar
        deadline.target_minutes = business_minutes
        deadline.started_at = start
        deadline.due_at = due_at
        deadline.warn_at = warn_at
        deadline.warned_at = None
        deadline.remaining_seconds = deadline.warn_remaining_seconds = None
        deadline.attempts = 0
        deadline.last_error = ""
        deadline.payload = payload or {}
        deadline.user = user
        deadline.next_fire_at = _next_fire(deadline)
        if deadline.pk:
            DeadlinePause.objects.filter(deadline=deadline, resumed_at__isnull=True).update(resumed_at=start)
        deadline.save()
        ticket_refresh_next_deadline(deadline.ticket_id)
    return deadline


def deadline_pause(
    *, ticket: "Ticket", kind: str, key: str = "", reason: str = "", at: datetime | None = None
) -> Deadline | None:
    """Stop the clock, keeping the business time it had left. A paused clock stays paused."""
    at = at or timezone.now()
    with transaction.atomic():
        deadline = _open_deadline(ticket=ticket, kind=kind, key=key)
        if deadline is None or deadline.state != Deadline.State.PENDING:
            return deadline
        spec = _spec(deadline.calendar)
        deadline.remaining_seconds = int(spec.between(at, deadline.due_at).total_seconds())
        if deadline.warn_at is not None and deadline.warned_at is None:
            deadline.warn_remaining_seconds = int(spec.between(at, deadline.warn_at).total_seconds())
        deadline.state = Deadline.State.PAUSED
        deadline.next_fire_at = None
        deadline.save(
            update_fields=["state", "remaining_seconds", "warn_remaining_seconds", "next_fire_at", "updated_at"]
        )
        DeadlinePause.objects.create(deadline=deadline, paused_at=at, reason=reason)
        ticket_refresh_next_deadline(deadline.ticket_id)
    return deadline


def deadline_resume(*, ticket: "Ticket", kind: str, key: str = "", at: datetime | None = None) -> Deadline | None:
    """Start the clock again: the due time is what was left, counted on from now."""
    at = at or timezone.now()
    with transaction.atomic():
        deadline = _open_deadline(ticket=ticket, kind=kind, key=key)
        if deadline is None or deadline.state != Deadline.State.PAUSED:
            return deadline
        spec = _spec(deadline.calendar)
        deadline.due_at = spec.add(at, timedelta(seconds=deadline.remaining_seconds or 0))
        if deadline.warn_remaining_seconds is not None:
            deadline.warn_at = spec.add(at, timedelta(seconds=deadline.warn_remaining_seconds))
        deadline.remaining_seconds = deadline.warn_remaining_seconds = None
        deadline.state = Deadline.State.PENDING
        deadline.next_fire_at = _next_fire(deadline)
        deadline.save()
        DeadlinePause.objects.filter(deadline=deadline, resumed_at__isnull=True).update(resumed_at=at)
        ticket_refresh_next_deadline(deadline.ticket_id)
    return deadline


def _close(deadline: Deadline, state: str, at: datetime) -> Deadline:
    deadline.state = state
    deadline.next_fire_at = None
    if state == Deadline.State.MET:
        deadline.met_at = at
    else:
        deadline.closed_at = at
    deadline.save(update_fields=["state", "next_fire_at", "met_at", "closed_at", "updated_at"])
    DeadlinePause.objects.filter(deadline=deadline, resumed_at__isnull=True).update(resumed_at=at)
    ticket_refresh_next_deadline(deadline.ticket_id)
    return deadline


def deadline_meet(*, ticket: "Ticket", kind: str, key: str = "", at: datetime | None = None) -> Deadline | None:
    """The awaited thing happened in time: the clock stops for good."""
    with transaction.atomic():
        deadline = _open_deadline(ticket=ticket, kind=kind, key=key)
        return _close(deadline, Deadline.State.MET, at or timezone.now()) if deadline else None


def deadline_cancel(*, ticket: "Ticket", kind: str, key: str = "", at: datetime | None = None) -> Deadline | None:
    with transaction.atomic():
        deadline = _open_deadline(ticket=ticket, kind=kind, key=key)
        return _close(deadline, Deadline.State.CANCELLED, at or timezone.now()) if deadline else None


# --- the sweep --------------------------------------------------------------------------------


@dataclass
class SweepResult:
    fired: int = 0
    warned: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0

    @property
    def handled(self) -> int:
        return self.fired + self.warned + self.retried + self.failed


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(15 * 2 ** (attempts - 1), 1800))


def _run_handler(deadline: Deadline, now: datetime) -> bool:
    """Run the row's warning or due handler; return whether it was the warning."""
    kind = timers.handler_for(deadline.kind)
    if kind is None:
        raise LookupError(f"no handler is registered for deadline kind {deadline.kind!r}")
    warning = deadline.warned_at is None and deadline.warn_at is not None and deadline.due_at > now
    if warning:
        if kind.on_warning is not None:
            kind.on_warning(deadline)
    else:
        kind.on_due(deadline)
    return warning


def _record_failure(deadline: Deadline, exc: Exception, now: datetime, result: SweepResult) -> bool:
    """Retry later with back-off, or park the row as failed; return whether it was parked."""
    deadline.attempts += 1
    deadline.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if deadline.attempts >= settings.DEADLINE_MAX_ATTEMPTS:
        deadline.state = Deadline.State.FAILED
        deadline.closed_at = now
        deadline.next_fire_at = None
        result.failed += 1
        logger.error("deadline %s (%s) parked as failed: %s", deadline.pk, deadline.kind, deadline.last_error)
    else:
        deadline.next_fire_at = now + _backoff(deadline.attempts)
        result.retried += 1
        logger.warning("deadline %s (%s) failed, retrying: %s", deadline.pk, deadline.kind, deadline.last_error)
    deadline.save(update_fields=["attempts", "last_error", "state", "closed_at", "next_fire_at", "updated_at"])
    return deadline.state == Deadline.State.FAILED


def _fire_batch(ordered: list[Deadline], now: datetime, result: SweepResult, *, isolate: bool) -> None:
    """Run the handlers of a claimed batch, ticket by ticket, and mark the rows.

    ``isolate`` puts each handler in a savepoint of its own, so that one that raises rolls back
    only its own writes. Without it the whole batch shares one savepoint (the caller's), which
    saves two round trips per row; the caller retries with ``isolate`` if anything raises.
    """
    fired: list[int] = []
    warned: list[Deadline] = []
    refresh: list[int] = []
    for ticket_id, deadlines in groupby(ordered, key=lambda d: d.ticket_id):
        closed = False
        for deadline in deadlines:
            try:
                if isolate:
                    with transaction.atomic(), bulk_inserts():
                        warning = _run_handler(deadline, now)
                else:
                    warning = _run_handler(deadline, now)
            except Exception as exc:
                if not isolate:
                    raise
                closed |= _record_failure(deadline, exc, now, result)
                continue
            if warning:
                warned.append(deadline)
            else:
                fired.append(deadline.pk)
                closed = True
        if closed:
            refresh.append(ticket_id)
    tickets_refresh_next_deadline(refresh, excluding=fired)
    for deadline in warned:
        deadline.warned_at = now
        deadline.next_fire_at = deadline.due_at
        deadline.save(update_fields=["warned_at", "next_fire_at", "updated_at"])
    if fired:
        Deadline.objects.filter(pk__in=fired).update(
            state=Deadline.State.FIRED, fired_at=now, next_fire_at=None, updated_at=now
        )
    result.warned += len(warned)
    result.fired += len(fired)


def _lock_tickets(ticket_ids: list[int]) -> None:
    Ticket = apps.get_model("tickets", "Ticket")
    list(Ticket.objects.select_for_update().filter(pk__in=ticket_ids).order_by("pk").values_list("pk", flat=True))


def deadlines_sweep(*, batch_size: int | None = None, max_batches: int | None = None) -> SweepResult:
    """Fire what is due, batch by batch, until nothing is due.

    Each batch is one transaction that claims its rows with ``FOR UPDATE SKIP LOCKED``: several
    sweepers share the work and never take the same row; a sweeper that dies rolls back and its
    rows are due again for the next one. A handler's writes commit with its row's new state.
    Each batch's transaction is durable: the sweep never runs inside a caller's transaction.
    """
    batch_size = batch_size or settings.DEADLINE_SWEEP_BATCH
    result = SweepResult()
    while max_batches is None or result.batches < max_batches:
        now = timezone.now()
        with transaction.atomic(durable=True):
            # Claim ids with the narrowest query (it runs every sweep, due or not), then read the
            # claimed rows with what their handlers need.
            claimed = list(
                Deadline.objects.select_for_update(skip_locked=True)
                .filter(state=Deadline.State.PENDING, next_fire_at__lte=now)
                .order_by("next_fire_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not claimed:
                break
            batch = list(
                Deadline.objects.filter(pk__in=claimed).select_related("ticket", "ticket__merchant", "calendar", "user")
            )
            ordered = sorted(batch, key=lambda d: (d.ticket_id, d.next_fire_at, d.pk))
            # Lock the batch's tickets at once, in id order: handlers that lock their ticket, and
            # the refresh of next deadlines, then take no new ticket lock, so two sweepers that
            # share tickets wait for each other instead of deadlocking.
            _lock_tickets(sorted({deadline.ticket_id for deadline in batch}))
            with notifications_batched():
                try:
                    with transaction.atomic(), bulk_inserts():
                        _fire_batch(ordered, now, result, isolate=False)
                except Exception:  # noqa: BLE001 — some handler raised: redo row by row
                    for deadline in ordered:
                        deadline.refresh_from_db(fields=["state", "warned_at", "next_fire_at", "attempts"])
                    _fire_batch(ordered, now, result, isolate=True)
        result.batches += 1
        if len(claimed) < batch_size:
            break
    return result


def deadline_retry(*, deadline: Deadline) -> Deadline:
    """Put a failed deadline back in the sweep (an operator's action after fixing the cause)."""
    Deadline.objects.filter(pk=deadline.pk, state=Deadline.State.FAILED).update(
        state=Deadline.State.PENDING,
        attempts=0,
        next_fire_at=timezone.now(),
        closed_at=None,
        updated_at=timezone.now(),
    )
    deadline.refresh_from_db()
    return deadline
