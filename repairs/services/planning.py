"""Planning days: the evening plan of tomorrow, the plan a dispatcher runs on demand, the re-plan
of the rest of a day when a technician drops out or a visit is added for today."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.exceptions import InvalidInput
from aftersales.models import Merchant, User
from repairs.locks import technicians_lock, visits_lock
from repairs.models import PLANNABLE_VISIT_STATUSES, TechnicianProfile, TechnicianTimeOff, Visit
from repairs.roles import require_dispatcher
from repairs.selectors.dispatch import day_bounds, plan_preview
from repairs.services.dispatch import PlanOutcome, plan_apply
from repairs.services.visit_load import visit_load_move
from repairs.timeline import DispatchVerb
from tickets.timeline import event_append


def dispatch_day_plan(
    *, merchant: Merchant, day: date, actor: User | None, rest_of_day: bool = False, timeout_seconds: float = 30
) -> PlanOutcome:
    """Plan ``day`` with the solver and apply it (one locked transaction). The solver runs before
    the transaction opens, so no lock is held while it searches; a visit that changed meanwhile
    (cancelled, set off, pinned) is left as it is by the apply."""
    require_dispatcher(actor, merchant.pk)
    now = timezone.now()
    from_instant = now if rest_of_day else None
    if rest_of_day and now.astimezone(ZoneInfo(merchant.timezone)).date() != day:
        raise InvalidInput(_("Only today has a rest of the day."))
    preview = plan_preview(merchant, day, from_instant=from_instant, timeout_seconds=timeout_seconds)
    return plan_apply(merchant_id=merchant.pk, day=day, plan=preview.plan, actor=actor)


def dispatch_plan_tomorrow(*, merchant: Merchant) -> PlanOutcome:
    """The evening plan (Celery beat): tomorrow in the merchant's time zone."""
    tomorrow = timezone.now().astimezone(ZoneInfo(merchant.timezone)).date() + timedelta(days=1)
    return dispatch_day_plan(merchant=merchant, day=tomorrow, actor=None)


def dispatch_replan_today(*, merchant: Merchant) -> PlanOutcome:
    """The rest of today re-planned (a visit was added for today): the system acts, nobody relays."""
    today = timezone.now().astimezone(ZoneInfo(merchant.timezone)).date()
    return dispatch_day_plan(merchant=merchant, day=today, actor=None, rest_of_day=True)


def technician_drop_out(
    *, technician: TechnicianProfile, day: date, actor: User, reason: str = "", replan: bool = True
) -> PlanOutcome | None:
    """A technician cannot work ``day`` (ill, van broken down): they are away that day, their
    visits not yet under way lose them (pins too: the person it was pinned to is gone), and when
    the day is today the rest of it is re-planned among the others."""
    merchant = technician.merchant
    with transaction.atomic():
        require_dispatcher(actor, merchant.pk)
        technicians_lock([technician.pk])
        TechnicianTimeOff.objects.create(technician=technician, starts_on=day, ends_on=day, reason=reason[:200])
        start, end = day_bounds(merchant, day)
        ids = Visit.objects.filter(
            technician=technician, status__in=PLANNABLE_VISIT_STATUSES, window_start__gte=start, window_start__lt=end
        ).values_list("pk", flat=True)
        for visit in visits_lock(ids):
            visit.technician = None
            visit.pinned = False
            visit.planned_start = visit.planned_end = visit.sequence = None
            visit.save(update_fields=["technician", "pinned", "planned_start", "planned_end", "sequence", "updated_at"])
            visit_load_move(visit, zone=merchant.timezone, was_technician_id=technician.pk, was_status=visit.status)
            event_append(
                visit.repair.ticket,
                DispatchVerb.VISIT_ASSIGNED,
                actor_user=actor,
                data={"visit": visit.pk, "from_technician": technician.pk, "technician": None, "reason": reason},
            )
    if not replan:
        return None
    today = timezone.now().astimezone(ZoneInfo(merchant.timezone)).date()
    return dispatch_day_plan(merchant=merchant, day=day, actor=actor, rest_of_day=day == today)
