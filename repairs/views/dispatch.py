"""Dispatch pages: the supervisors' board (each technician's day as a timeline, the unassigned
visits beside it, assign / reassign / pin by a click, the solver's plan previewed before it is
applied) and the technician's own day, phone-first (on my way, check-in, check-out with the
customer's signature or code).

Every read starts from the request's membership's merchant; every action is one service call
whose refusal comes back as a message, with nothing changed.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.exceptions import ApplicationError, InvalidInput
from aftersales.pages import act_and_return, render_dashboard, staff_required
from repairs.hooks import technician_scores
from repairs.models import PhotoPhase, Visit
from repairs.roles import require_visit_worker
from repairs.selectors.dispatch import (
    diagnosis_codes_for_repair,
    plan_preview,
    serial_history,
    technician_day,
    technician_for_user,
    technician_of,
    technicians_of,
    van_stock_of,
    visit_of,
    visits_of_day,
)
from repairs.selectors.repairs import visit_photos_of
from repairs.services import part_use, repair_diagnose, repair_diagnosis_start, repair_parts_wait, visit_photos_add
from repairs.services.dispatch import (
    visit_assign,
    visit_check_in,
    visit_check_out,
    visit_no_show,
    visit_set_off,
)
from repairs.services.planning import dispatch_day_plan

# The board's timeline: 7:00 to 21:00 local time.
BOARD_START_HOUR, BOARD_END_HOUR = 7, 21
SIGNATURE_PREFIX = "data:image/png;base64,"
MAX_SIGNATURE_BYTES = 512 * 1024


def _today(request) -> date:
    return timezone.now().astimezone(ZoneInfo(request.membership.merchant.timezone)).date()


def _day_of(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("day") or request.POST.get("day") or "")
    except ValueError:
        return _today(request)


@dataclass(frozen=True)
class Block:
    visit: Visit
    left: float
    width: float
    window_left: float
    window_width: float


def _position(instant: datetime, midnight: datetime) -> float:
    span = (BOARD_END_HOUR - BOARD_START_HOUR) * 3600
    seconds = (instant - midnight).total_seconds() - BOARD_START_HOUR * 3600
    return max(0.0, min(100.0, seconds / span * 100))


def _block(visit: Visit, midnight: datetime) -> Block:
    start = visit.planned_start or visit.window_start
    end = visit.planned_end or start + timedelta(minutes=visit.service_minutes)
    left = _position(start, midnight)
    window_left = _position(visit.window_start, midnight)
    return Block(
        visit=visit,
        left=left,
        width=max(1.5, _position(end, midnight) - left),
        window_left=window_left,
        window_width=max(1.5, _position(visit.window_end, midnight) - window_left),
    )


def _require_supervisor(request) -> None:
    if not request.membership.is_supervisor:
        raise Http404


@staff_required
@require_GET
def dispatch_board(request):
    _require_supervisor(request)
    merchant = request.membership.merchant
    day = _day_of(request)
    zone = ZoneInfo(merchant.timezone)
    midnight = datetime.combine(day, time(), tzinfo=zone)
    technicians = list(technicians_of(merchant).filter(is_active=True))
    visits = list(visits_of_day(merchant, day))
    scores = technician_scores(merchant_id=merchant.pk, user_ids=[technician.user_id for technician in technicians])
    rows = [
        {
            "technician": technician,
            "blocks": [_block(v, midnight) for v in visits if v.technician_id == technician.pk],
            "scores": scores.get(technician.user_id, []),
        }
        for technician in technicians
    ]
    preview = None
    if request.GET.get("preview"):
        preview = plan_preview(merchant, day, timeout_seconds=20)
    by_id = {visit.pk: visit for visit in visits}
    names = {technician.pk: str(technician) for technician in technicians}
    proposals = []
    if preview is not None:
        for job_id, planned in sorted(
            preview.plan.visits.items(), key=lambda item: (item[1].technician_id, item[1].sequence)
        ):
            visit = by_id.get(job_id)
            if visit is None:
                continue
            proposals.append(
                {
                    "visit": visit,
                    "from": names.get(visit.technician_id or 0, "—"),
                    "to": names.get(planned.technician_id, "—"),
                    "start": midnight + timedelta(seconds=planned.start),
                    "changed": visit.technician_id != planned.technician_id,
                }
            )
    hours = [f"{hour:02d}:00" for hour in range(BOARD_START_HOUR, BOARD_END_HOUR)]
    return render_dashboard(
        request,
        "dashboard/dispatch/board.html",
        {
            "day": day,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "rows": rows,
            "hours": hours,
            "hour_width": 100 / len(hours),
            "unassigned": [v for v in visits if v.technician_id is None],
            "technicians": technicians,
            "preview": preview,
            "proposals": proposals,
            "unassigned_reasons": [
                {"visit": by_id.get(job.job_id), "reason": job.reason} for job in preview.plan.unassigned
            ]
            if preview
            else [],
            "total_visits": len(visits),
            "travel_minutes": preview.plan.total_travel_seconds // 60 if preview else 0,
        },
    )


def _board_url(day: date) -> str:
    return f"{reverse('dashboard:dispatch_board')}?day={day.isoformat()}"


@staff_required
@require_POST
def dispatch_assign(request, visit_id: int):
    _require_supervisor(request)
    merchant = request.membership.merchant
    visit = visit_of(merchant, visit_id)
    if visit is None:
        raise Http404
    day = visit.window_start.astimezone(ZoneInfo(merchant.timezone)).date()
    technician = None
    raw = request.POST.get("technician", "")
    if raw:
        try:
            technician = technician_of(merchant, int(raw))
        except ValueError:
            technician = None
        if technician is None:
            return act_and_return(request, _raise(InvalidInput(_("Unknown technician."))), "", _board_url(day))
    pinned = request.POST.get("pinned") == "on"
    planned_start = None
    if request.POST.get("start"):
        try:
            clock = time.fromisoformat(request.POST["start"])
        except ValueError:
            return act_and_return(request, _raise(InvalidInput(_("Give the start as HH:MM."))), "", _board_url(day))
        planned_start = datetime.combine(day, clock, tzinfo=ZoneInfo(merchant.timezone))
    return act_and_return(
        request,
        lambda: visit_assign(
            visit=visit, actor=request.user, technician=technician, pinned=pinned, planned_start=planned_start
        ),
        _("Visit assigned."),
        _board_url(day),
    )


def _raise(error: ApplicationError):
    def action() -> None:
        raise error

    return action


@staff_required
@require_POST
def dispatch_plan_apply(request):
    _require_supervisor(request)
    day = _day_of(request)

    return act_and_return(
        request,
        lambda: dispatch_day_plan(merchant=request.membership.merchant, day=day, actor=request.user),
        _("The plan is applied."),
        _board_url(day),
    )


# --- the technician's day -----------------------------------------------------------------------


@staff_required
@require_GET
def my_day(request):
    merchant = request.membership.merchant
    technician = technician_for_user(merchant, request.user.pk)
    if technician is None:
        return render_dashboard(request, "dashboard/dispatch/my_day.html", {"technician": None, "cards": []})
    day = _day_of(request)
    van = list(van_stock_of(merchant, request.user.pk))
    visits = list(technician_day(merchant, technician, day))
    photos = visit_photos_of(merchant, [visit.pk for visit in visits if visit.status == "on_site"])
    cards = [
        {
            "visit": visit,
            "photos": photos.get(visit.pk, []),
            "history": serial_history(merchant, visit.repair.serial_number, excluding=visit.repair_id),
            "map_url": _map_url(visit),
            # The diagnosis is recorded once, on arrival or while diagnosing; after it the form
            # would only be refused.
            "codes": list(diagnosis_codes_for_repair(visit.repair))
            if visit.status == "on_site" and visit.repair.status in ("on_site", "diagnosing")
            else [],
            "needs_quote": visit.repair.status == "diagnosing"
            and bool((visit.repair.eligibility or {}).get("voided_by_diagnosis")),
        }
        for visit in visits
    ]
    return render_dashboard(
        request,
        "dashboard/dispatch/my_day.html",
        {
            "technician": technician,
            "day": day,
            "cards": cards,
            "van": van,
            "phases": PhotoPhase.choices,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
        },
    )


def _map_url(visit: Visit) -> str:
    repair = visit.repair
    if repair.latitude is not None and repair.longitude is not None:
        return f"https://uri.amap.com/marker?position={repair.longitude},{repair.latitude}"
    return ""


def _my_visit(request, visit_id: int) -> Visit:
    visit = visit_of(request.membership.merchant, visit_id)
    if visit is None:
        raise Http404
    return visit


def _my_day_url(visit: Visit, merchant_timezone: str) -> str:
    day = visit.window_start.astimezone(ZoneInfo(merchant_timezone)).date()
    return f"{reverse('dashboard:my_day')}?day={day.isoformat()}#visit-{visit.pk}"


@staff_required
@require_POST
def my_visit_step(request, visit_id: int, step: str):
    visit = _my_visit(request, visit_id)
    back = _my_day_url(visit, request.membership.merchant.timezone)
    steps = {
        "on-my-way": (
            lambda: visit_set_off(visit=visit, actor=request.user),
            _("The customer is told you are on the way."),
        ),
        "check-in": (lambda: visit_check_in(visit=visit, actor=request.user), _("Checked in.")),
        "customer-absent": (
            lambda: visit_no_show(visit=visit, party="customer", actor=request.user),
            _("Recorded: the customer was not there."),
        ),
    }
    if step not in steps:
        raise Http404
    action, success = steps[step]
    return act_and_return(request, action, success, back)


def _signature_file(value: str) -> ContentFile | None:
    if not value:
        return None
    if not value.startswith(SIGNATURE_PREFIX):
        raise InvalidInput(_("The signature could not be read. Please sign again."))
    try:
        raw = base64.b64decode(value[len(SIGNATURE_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(_("The signature could not be read. Please sign again.")) from error
    if len(raw) > MAX_SIGNATURE_BYTES or not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        raise InvalidInput(_("The signature could not be read. Please sign again."))
    return ContentFile(raw)


@staff_required
@require_POST
def my_visit_check_out(request, visit_id: int):
    visit = _my_visit(request, visit_id)
    back = _my_day_url(visit, request.membership.merchant.timezone)

    def action() -> None:
        visit_check_out(
            visit=visit,
            actor=request.user,
            work_note=request.POST.get("work_note", "")[:5000],
            signature=_signature_file(request.POST.get("signature", "")),
            confirmation_code=request.POST.get("confirmation_code", ""),
        )

    return act_and_return(request, action, _("Visit finished."), back)


@staff_required
@require_POST
def my_visit_work(request, visit_id: int, step: str):
    """On site, through the repair services: the diagnosis, a part used from the van, or the
    repair waiting for parts (the quote, when the diagnosis needs one, is the office's)."""
    visit = _my_visit(request, visit_id)
    merchant = request.membership.merchant
    back = _my_day_url(visit, merchant.timezone)
    repair = visit.repair

    def diagnose() -> None:
        code = diagnosis_codes_for_repair(repair).filter(pk=_int(request.POST.get("code"))).first()
        if code is None:
            raise InvalidInput(_("Pick a diagnosis."))
        require_visit_worker(request.user, visit)
        if repair.status == "on_site":
            repair_diagnosis_start(repair_order=repair, actor=request.user)
        repair_diagnose(repair_order=repair, actor=request.user, code=code, note=request.POST.get("note", "")[:2000])

    def use_part() -> None:
        stock = van_stock_of(merchant, request.user.pk).filter(pk=_int(request.POST.get("stock"))).first()
        if stock is None:
            raise InvalidInput(_("Pick a part from your van."))
        require_visit_worker(request.user, visit)
        part_use(
            repair_order=repair,
            stock=stock,
            quantity=max(1, _int(request.POST.get("quantity")) or 1),
            actor=request.user,
        )

    def needs_parts() -> None:
        require_visit_worker(request.user, visit)
        expected = request.POST.get("expected_on", "")
        try:
            expected_on = date.fromisoformat(expected) if expected else None
        except ValueError as error:
            raise InvalidInput(_("Give the date as YYYY-MM-DD.")) from error
        repair_parts_wait(repair_order=repair, actor=request.user, expected_on=expected_on)

    steps = {
        "diagnosis": (diagnose, _("Diagnosis recorded.")),
        "part": (use_part, _("Part recorded on the repair.")),
        "needs-parts": (needs_parts, _("The repair waits for parts; the customer sees the date.")),
    }
    if step not in steps:
        raise Http404
    action, success = steps[step]
    return act_and_return(request, action, success, back)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0


@staff_required
@require_POST
def my_visit_photos(request, visit_id: int):
    """Photos before or after the work, through the checked-upload path of every attachment."""
    visit = _my_visit(request, visit_id)
    back = _my_day_url(visit, request.membership.merchant.timezone)
    return act_and_return(
        request,
        lambda: visit_photos_add(
            visit=visit,
            actor=request.user,
            phase=request.POST.get("phase", ""),
            files=request.FILES.getlist("photos"),
        ),
        _("Photos added to the repair."),
        back,
    )
