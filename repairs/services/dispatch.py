"""Visits of on-site repairs: booking a window, moving and cancelling it, the technician's steps
(on my way, check-in, check-out), no-shows, a supervisor's assign and pin, and applying a plan.

Booking is the slot hold: under the repair's lock, it locks every technician qualified for the
address (in id order), counts their visits in the window again, and takes a place with one of
them. Two customers racing for the last place therefore queue on the same technician rows; the
second finds the window full and is told so with the next free windows.
"""

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.enqueue import enqueue_on_commit
from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Customer, User
from repairs.locks import repair_order_lock, technicians_lock, visit_lock, visits_lock
from repairs.models import (
    ACTIVE_VISIT_STATUSES,
    PLANNABLE_VISIT_STATUSES,
    REPAIR_TRANSITIONS,
    TO_SCHEDULE_STATUSES,
    VISIT_TRANSITIONS,
    RepairMode,
    RepairOrder,
    RepairStatus,
    TechnicianProfile,
    Visit,
    VisitParty,
    VisitStatus,
)
from repairs.roles import require_booking_staff, require_dispatcher, require_visit_worker
from repairs.routing import DayPlan
from repairs.selectors.dispatch import (
    WINDOW_HOURS,
    ServiceNeed,
    Slot,
    availability_load,
    available_slots,
    day_bounds,
    dispatch_policy,
    visits_per_technician_on,
)
from repairs.services.visit_load import LoadDeltas, held_by, technician_loads_apply, visit_load_delta, visit_load_move
from repairs.timeline import DispatchVerb
from repairs.timers import visit_reminder_cancel, visit_reminder_start
from repairs.travel import Point, haversine_km
from tickets.notify import notify_customer
from tickets.timeline import event_append

# A repair may be booked from these (TO_SCHEDULE_STATUSES), or again while scheduled after its
# visit was cancelled or missed.
BOOKABLE_STATUSES = (*TO_SCHEDULE_STATUSES, RepairStatus.SCHEDULED)


class SlotTaken(Conflict):
    """The window filled up while the customer was choosing; ``extra["next_slots"]`` lists the
    next free windows as ISO instants."""

    default_code = "slot_taken"
    default_message = _("That time was just taken. Please pick one of the next free times.")


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    customer: Customer | None = None

    @property
    def party(self) -> str:
        return VisitParty.CUSTOMER if self.customer is not None else VisitParty.MERCHANT


def _require_party(actor: Actor, repair: RepairOrder) -> None:
    if actor.customer is not None:
        if actor.customer.pk != repair.customer_id:
            raise PermissionRefused
        return
    if actor.user is not None:
        require_booking_staff(actor.user, repair.merchant_id)


def _move(visit: Visit, status: str) -> None:
    if status not in VISIT_TRANSITIONS[visit.status]:
        raise TransitionNotAllowed(
            _("A visit that is %(status)s cannot change like this.") % {"status": visit.get_status_display()}
        )
    visit.status = status


def _repair_to(repair: RepairOrder, status: str) -> list[str]:
    if repair.status == status:
        return []
    if status not in REPAIR_TRANSITIONS[repair.status]:
        raise TransitionNotAllowed(
            _("A repair that is %(status)s cannot be booked or visited.") % {"status": repair.get_status_display()}
        )
    repair.status = status
    return ["status"]


def _local(visit: Visit, instant: datetime | None) -> str:
    if instant is None:
        return ""
    return f"{instant.astimezone(ZoneInfo(visit.merchant.timezone)):%Y-%m-%d %H:%M}"


def _window_text(visit: Visit) -> str:
    zone = ZoneInfo(visit.merchant.timezone)
    return f"{visit.window_start.astimezone(zone):%Y-%m-%d %H:%M}–{visit.window_end.astimezone(zone):%H:%M}"


def _visit_data(visit: Visit) -> dict[str, Any]:
    return {
        "visit": visit.pk,
        "window_start": visit.window_start.isoformat(),
        "window_end": visit.window_end.isoformat(),
        "technician": visit.technician_id,
    }


def _next_slots(repair: RepairOrder, *, now: datetime, count: int = 3) -> list[Slot]:
    return available_slots(repair.merchant, ServiceNeed.of_repair(repair), now=now, limit=count)


def visit_book(
    *,
    repair: RepairOrder,
    window_start: datetime,
    actor_user: User | None = None,
    actor_customer: Customer | None = None,
    service_minutes: int | None = None,
) -> Visit:
    """Book the two-hour window starting at ``window_start`` for an on-site repair, holding a
    place with a qualified technician who serves the address and has room; ``SlotTaken`` (with
    the next free windows) when the last place went to someone else first."""
    actor = Actor(actor_user, actor_customer)
    now = timezone.now()
    with transaction.atomic():
        repair = repair_order_lock(repair.pk)
        _require_party(actor, repair)
        if repair.mode != RepairMode.ON_SITE:
            raise InvalidInput(_("Only on-site repairs get a technician's visit."), code="not_on_site")
        if repair.status not in BOOKABLE_STATUSES:
            raise TransitionNotAllowed(
                _("A repair that is %(status)s cannot be booked.") % {"status": repair.get_status_display()}
            )
        if Visit.objects.filter(repair=repair, status__in=ACTIVE_VISIT_STATUSES).exists():
            raise Conflict(_("This repair already has a visit booked."), code="visit_already_booked")
        policy = dispatch_policy(repair.merchant)
        if actor.customer is not None and window_start < now + timedelta(hours=policy.booking_lead_hours):
            raise InvalidInput(_("That time is too soon to book. Please pick a later one."), code="too_soon")
        window_end = window_start + timedelta(hours=WINDOW_HOURS)
        visit = _place(
            repair,
            window_start=window_start,
            window_end=window_end,
            service_minutes=service_minutes or policy.default_visit_minutes,
            now=now,
        )
        changed = _repair_to(repair, RepairStatus.SCHEDULED)
        if changed:
            repair.save(update_fields=[*changed, "updated_at"])
        event_append(
            repair.ticket,
            DispatchVerb.VISIT_BOOKED,
            actor_user=actor.user,
            actor_customer=actor.customer,
            data=_visit_data(visit),
            public=True,
        )
        visit_reminder_start(visit, now=now)
        notify_customer(repair.ticket, "repair_visit_booked", {"window": _window_text(visit)})
        if (
            window_start.astimezone(ZoneInfo(repair.merchant.timezone)).date()
            == now.astimezone(ZoneInfo(repair.merchant.timezone)).date()
        ):
            # Added for today: the rest of the day is re-planned around it once this commits.
            from repairs.tasks import dispatch_replan_today_of

            enqueue_on_commit(dispatch_replan_today_of, repair.merchant_id)
    return visit


def _place(
    repair: RepairOrder, *, window_start: datetime, window_end: datetime, service_minutes: int, now: datetime
) -> Visit:
    """The slot hold: lock the qualified technicians, count again, create the visit with the one
    who has the fewest visits that day. Runs inside the caller's transaction."""
    need = ServiceNeed.of_repair(repair)
    day_start, day_end = day_bounds(repair.merchant, window_start.astimezone(ZoneInfo(repair.merchant.timezone)).date())
    policy = dispatch_policy(repair.merchant)
    first = availability_load(repair.merchant, need, start=day_start, end=day_end, policy=policy)
    if not any(
        (window_start, window_end) in first.windows_of(t.calendar_id, window_start.astimezone(first.zone).date())
        for t in first.technicians
    ):
        raise SlotTaken(
            _("Nobody works at that time. Please pick one of the free times."),
            code="not_a_window",
            extra={"next_slots": [slot.start.isoformat() for slot in _next_slots(repair, now=now)]},
        )
    technicians_lock(t.technician_id for t in first.technicians)
    # Counted again under the locks: what another booking committed meanwhile is seen now.
    availability = availability_load(repair.merchant, need, start=day_start, end=day_end, policy=policy)
    free = availability.free_technicians(window_start, window_end)
    if not free:
        raise SlotTaken(extra={"next_slots": [slot.start.isoformat() for slot in _next_slots(repair, now=now)]})
    held = visits_per_technician_on([t.technician_id for t in free], day_start, day_end)
    chosen = min(free, key=lambda t: (held.get(t.technician_id, 0), t.technician_id))
    visit = Visit.objects.create(
        merchant_id=repair.merchant_id,
        repair=repair,
        technician_id=chosen.technician_id,
        window_start=window_start,
        window_end=window_end,
        service_minutes=service_minutes,
        confirmation_code=f"{secrets.randbelow(10**6):06d}",
    )
    # Still under the technicians' locks: the next booking counts this one.
    visit_load_move(visit, zone=repair.merchant.timezone)
    return visit


def _require_change_allowed(actor: Actor, visit: Visit, *, now: datetime, reschedule: bool) -> None:
    if actor.customer is None:
        return
    policy = dispatch_policy(visit.merchant)
    if visit.window_start - now < timedelta(hours=policy.customer_change_cutoff_hours):
        raise TransitionNotAllowed(
            _("The visit is less than %(hours)s hours away: please call us to change it.")
            % {"hours": policy.customer_change_cutoff_hours},
            code="too_late_to_change",
        )
    if reschedule and visit.reschedules >= policy.customer_reschedules:
        raise TransitionNotAllowed(
            _("This visit was already moved %(count)s times: please call us to change it.")
            % {"count": visit.reschedules},
            code="reschedule_limit",
        )


def visit_reschedule(
    *,
    visit: Visit,
    window_start: datetime,
    actor_user: User | None = None,
    actor_customer: Customer | None = None,
) -> Visit:
    """Move a booked visit to another window: the old one is cancelled and the new one booked in
    one transaction, so a full new window leaves the old booking as it was."""
    actor = Actor(actor_user, actor_customer)
    now = timezone.now()
    with transaction.atomic():
        repair = repair_order_lock(visit.repair_id)
        visit = visit_lock(visit.pk)
        _require_party(actor, repair)
        if visit.status != VisitStatus.BOOKED:
            raise TransitionNotAllowed(_("Only a booked visit can be moved."))
        _require_change_allowed(actor, visit, now=now, reschedule=True)
        if actor.customer is not None and window_start < now + timedelta(
            hours=dispatch_policy(repair.merchant).booking_lead_hours
        ):
            raise InvalidInput(_("That time is too soon to book. Please pick a later one."), code="too_soon")
        visit.status = VisitStatus.CANCELLED
        visit.cancelled_by = actor.party
        visit.cancel_reason = str(_("Moved to another time"))
        visit.save(update_fields=["status", "cancelled_by", "cancel_reason", "updated_at"])
        # Freed before the new place is taken: moving within the same window needs no spare room.
        visit_load_move(
            visit, zone=repair.merchant.timezone, was_technician_id=visit.technician_id, was_status=VisitStatus.BOOKED
        )
        moved = _place(
            repair,
            window_start=window_start,
            window_end=window_start + timedelta(hours=WINDOW_HOURS),
            service_minutes=visit.service_minutes,
            now=now,
        )
        moved.rescheduled_from = visit
        moved.reschedules = visit.reschedules + (1 if actor.customer is not None else 0)
        moved.save(update_fields=["rescheduled_from", "reschedules", "updated_at"])
        event_append(
            repair.ticket,
            DispatchVerb.VISIT_RESCHEDULED,
            actor_user=actor.user,
            actor_customer=actor.customer,
            data={**_visit_data(moved), "from_visit": visit.pk, "from_window_start": visit.window_start.isoformat()},
            public=True,
        )
        visit_reminder_cancel(visit)
        visit_reminder_start(moved, now=now)
        notify_customer(repair.ticket, "repair_visit_booked", {"window": _window_text(moved)})
    return moved


def visit_cancel(
    *,
    visit: Visit,
    reason: str = "",
    actor_user: User | None = None,
    actor_customer: Customer | None = None,
) -> Visit:
    """Cancel a visit nobody has set off for; the repair stays scheduled, waiting for a new booking."""
    actor = Actor(actor_user, actor_customer)
    now = timezone.now()
    with transaction.atomic():
        repair = repair_order_lock(visit.repair_id)
        visit = visit_lock(visit.pk)
        _require_party(actor, repair)
        _require_change_allowed(actor, visit, now=now, reschedule=False)
        was_status = visit.status
        _move(visit, VisitStatus.CANCELLED)
        visit.cancelled_by = actor.party
        visit.cancel_reason = reason[:300]
        visit.save(update_fields=["status", "cancelled_by", "cancel_reason", "updated_at"])
        visit_load_move(
            visit, zone=visit.merchant.timezone, was_technician_id=visit.technician_id, was_status=was_status
        )
        event_append(
            repair.ticket,
            DispatchVerb.VISIT_CANCELLED,
            actor_user=actor.user,
            actor_customer=actor.customer,
            data={**_visit_data(visit), "by": actor.party, "reason": visit.cancel_reason},
            public=True,
        )
        visit_reminder_cancel(visit)
        if actor.customer is None:
            notify_customer(repair.ticket, "repair_visit_cancelled", {"window": _window_text(visit)})
    return visit


def _expected_arrival(visit: Visit, now: datetime) -> datetime:
    """From the technician's home base at the merchant's average speed when the address has
    coordinates; otherwise the planned start, never earlier than now."""
    repair = visit.repair
    technician = visit.technician
    if technician is not None and repair.latitude is not None and repair.longitude is not None:
        km = haversine_km(
            Point(float(technician.home_latitude), float(technician.home_longitude)),
            Point(float(repair.latitude), float(repair.longitude)),
        )
        speed = dispatch_policy(visit.merchant).travel_speed_kmh
        return now + timedelta(hours=km * 1.3 / speed)
    return max(now, visit.planned_start or visit.window_start)


def visit_set_off(*, visit: Visit, actor: User, expected_arrival: datetime | None = None) -> Visit:
    """The technician is on the way: the customer is told when to expect them."""
    now = timezone.now()
    with transaction.atomic():
        visit = visit_lock(visit.pk)
        require_visit_worker(actor, visit)
        _move(visit, VisitStatus.ON_THE_WAY)
        visit.on_the_way_at = now
        visit.expected_arrival = expected_arrival or _expected_arrival(visit, now)
        visit.save(update_fields=["status", "on_the_way_at", "expected_arrival", "updated_at"])
        event_append(
            visit.repair.ticket,
            DispatchVerb.VISIT_ON_THE_WAY,
            actor_user=actor,
            data={**_visit_data(visit), "expected_arrival": visit.expected_arrival.isoformat()},
            public=True,
        )
        # The code the customer reads out (or types) at check-out when nobody can sign on the screen.
        notify_customer(
            visit.repair.ticket,
            "repair_visit_on_the_way",
            {"arrival": _local(visit, visit.expected_arrival), "code": visit.confirmation_code},
        )
    return visit


def visit_check_in(*, visit: Visit, actor: User) -> Visit:
    now = timezone.now()
    with transaction.atomic():
        repair = repair_order_lock(visit.repair_id)
        visit = visit_lock(visit.pk)
        require_visit_worker(actor, visit)
        _move(visit, VisitStatus.ON_SITE)
        visit.checked_in_at = now
        visit.save(update_fields=["status", "checked_in_at", "updated_at"])
        changed = _repair_to(repair, RepairStatus.ON_SITE)
        if changed:
            repair.save(update_fields=[*changed, "updated_at"])
        event_append(
            repair.ticket,
            DispatchVerb.VISIT_CHECKED_IN,
            actor_user=actor,
            data={**_visit_data(visit), "checked_in_at": now.isoformat()},
            public=True,
        )
        visit_reminder_cancel(visit)
    return visit


def visit_check_out(
    *, visit: Visit, actor: User, work_note: str = "", signature: Any = None, confirmation_code: str = ""
) -> Visit:
    """The technician leaves. The customer confirms the visit by a signature drawn on the phone
    (an image) or by the code they were sent; one of the two is required."""
    now = timezone.now()
    with transaction.atomic():
        visit = visit_lock(visit.pk)
        require_visit_worker(actor, visit)
        if visit.status != VisitStatus.ON_SITE:
            raise TransitionNotAllowed(_("Check in before checking out."))
        if signature is None and not confirmation_code:
            raise InvalidInput(
                _("The customer's signature or confirmation code is needed."), code="confirmation_missing"
            )
        if signature is None and not secrets.compare_digest(confirmation_code.strip(), visit.confirmation_code):
            raise InvalidInput(_("That confirmation code is not right."), code="confirmation_wrong")
        _move(visit, VisitStatus.COMPLETED)
        visit.checked_out_at = now
        visit.work_note = work_note
        fields = ["status", "checked_out_at", "work_note", "updated_at"]
        if signature is not None:
            visit.signature.save(f"visit-{visit.pk}.png", signature, save=False)
            fields.append("signature")
        visit.save(update_fields=fields)
        visit_load_move(
            visit, zone=visit.merchant.timezone, was_technician_id=visit.technician_id, was_status=VisitStatus.ON_SITE
        )
        event_append(
            visit.repair.ticket,
            DispatchVerb.VISIT_CHECKED_OUT,
            actor_user=actor,
            data={
                **_visit_data(visit),
                "checked_out_at": now.isoformat(),
                "confirmed_by": "signature" if signature is not None else "code",
            },
            public=True,
        )
    return visit


def visit_no_show(*, visit: Visit, party: str, actor: User | None = None, customer: Customer | None = None) -> Visit:
    """Record who was not there: the customer (reported by the technician on site or by staff)
    or the technician (reported by the customer or staff)."""
    if party not in VisitParty.values:
        raise InvalidInput(_("Say who did not come."))
    with transaction.atomic():
        repair = repair_order_lock(visit.repair_id)
        visit = visit_lock(visit.pk)
        if party == VisitParty.CUSTOMER:
            if actor is None:
                raise PermissionRefused
            require_visit_worker(actor, visit)
            status = VisitStatus.CUSTOMER_NO_SHOW
        else:
            _require_party(Actor(actor, customer), repair)
            if visit.window_end > timezone.now():
                raise TransitionNotAllowed(_("The window has not passed yet."), code="window_not_over")
            status = VisitStatus.TECHNICIAN_NO_SHOW
        was_status = visit.status
        _move(visit, status)
        visit.save(update_fields=["status", "updated_at"])
        visit_load_move(
            visit, zone=visit.merchant.timezone, was_technician_id=visit.technician_id, was_status=was_status
        )
        event_append(
            repair.ticket,
            DispatchVerb.VISIT_NO_SHOW,
            actor_user=actor,
            actor_customer=customer,
            data={**_visit_data(visit), "party": party},
            public=True,
        )
        visit_reminder_cancel(visit)
    return visit


def visit_assign(
    *,
    visit: Visit,
    actor: User,
    technician: TechnicianProfile | None,
    pinned: bool = False,
    planned_start: datetime | None = None,
) -> Visit:
    """A supervisor hands a booked visit to a technician (or back to the pool), optionally pinned
    at a start inside the booked window, where the planner will leave it."""
    with transaction.atomic():
        visit = visit_lock(visit.pk)
        require_dispatcher(actor, visit.merchant_id)
        if visit.status not in PLANNABLE_VISIT_STATUSES:
            raise TransitionNotAllowed(_("Only a booked visit can be reassigned."))
        if technician is not None and technician.merchant_id != visit.merchant_id:
            raise InvalidInput(_("Unknown technician."))
        if pinned and technician is None:
            raise InvalidInput(_("A pinned visit needs a technician."))
        start = planned_start or visit.planned_start or visit.window_start
        if pinned and not (visit.window_start <= start <= visit.window_end):
            raise InvalidInput(_("The pinned start must be inside the booked window."), code="pin_outside_window")
        previous = visit.technician_id
        visit.technician = technician
        visit.pinned = pinned
        if pinned or planned_start is not None:
            visit.planned_start = start
            visit.planned_end = start + timedelta(minutes=visit.service_minutes)
        visit.save(update_fields=["technician", "pinned", "planned_start", "planned_end", "updated_at"])
        visit_load_move(visit, zone=visit.merchant.timezone, was_technician_id=previous, was_status=visit.status)
        event_append(
            visit.repair.ticket,
            DispatchVerb.VISIT_ASSIGNED,
            actor_user=actor,
            data={**_visit_data(visit), "from_technician": previous, "pinned": pinned},
        )
    return visit


@dataclass(frozen=True)
class PlanOutcome:
    moved: int
    kept_pinned: int
    unassigned: int
    customers_told: int


def plan_apply(*, merchant_id: int, day: date, plan: DayPlan, actor: User | None) -> PlanOutcome:
    """Apply the planner's ``plan`` of ``day`` in one transaction: lock the visits it moves,
    leave pinned ones and those already under way as they are, write technician, order and
    planned times; tell the customers whose technician or expected time changes by more than
    half an hour. Visits the plan leaves unassigned keep their booking (and technician) and are
    shown to the dispatcher."""
    planned = plan.visits
    with transaction.atomic():
        require_dispatcher(actor, merchant_id)
        visits = visits_lock(planned)
        moved = kept = told = 0
        zone_day_start: datetime | None = None
        deltas: LoadDeltas = Counter()
        zone = ""
        for visit in visits:
            if visit.merchant_id != merchant_id:
                raise InvalidInput(_("The plan names a visit of another merchant."))
            if zone_day_start is None:
                zone = visit.merchant.timezone
                zone_day_start = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone))
            if visit.pinned or visit.status not in PLANNABLE_VISIT_STATUSES:
                kept += 1
                continue
            step = planned[visit.pk]
            start = zone_day_start + timedelta(seconds=step.start)
            end = zone_day_start + timedelta(seconds=step.end)
            technician_changed = visit.technician_id != step.technician_id
            time_changed = visit.planned_start is None or abs(visit.planned_start - start) > timedelta(minutes=30)
            if (
                not technician_changed
                and visit.planned_start == start
                and visit.planned_end == end
                and visit.sequence == step.sequence
            ):
                continue
            previous = visit.technician_id
            visit.technician_id = step.technician_id
            visit.planned_start, visit.planned_end, visit.sequence = start, end, step.sequence
            visit.save(update_fields=["technician", "planned_start", "planned_end", "sequence", "updated_at"])
            visit_load_delta(
                deltas,
                window_start=visit.window_start,
                was_held_by=held_by(previous, visit.status),
                now_held_by=held_by(visit.technician_id, visit.status),
            )
            moved += 1
            event_append(
                visit.repair.ticket,
                DispatchVerb.VISIT_PLANNED,
                actor_user=actor,
                data={**_visit_data(visit), "from_technician": previous, "planned_start": start.isoformat()},
            )
            if technician_changed or time_changed:
                told += 1
                notify_customer(
                    visit.repair.ticket,
                    "repair_visit_planned",
                    {"window": _window_text(visit), "arrival": _local(visit, start)},
                )
        # All counters at the end, in technician order (see services.visit_load).
        technician_loads_apply(deltas, merchant_id=merchant_id, zone=zone)
    return PlanOutcome(moved=moved, kept_pinned=kept, unassigned=len(plan.unassigned), customers_told=told)


def visit_remind(*, visit_id: int) -> Visit | None:
    """The day-before reminder (the sweep calls it): only a visit still booked is reminded."""
    with transaction.atomic():
        visit = visit_lock(visit_id)
        if visit.status != VisitStatus.BOOKED:
            return None
        event_append(visit.repair.ticket, DispatchVerb.VISIT_REMINDED, data=_visit_data(visit))
        notify_customer(visit.repair.ticket, "repair_visit_reminder", {"window": _window_text(visit)})
    return visit
