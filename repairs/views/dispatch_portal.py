"""The customer's visit step in the portal: pick a two-hour window for an on-site repair (only
windows a qualified technician serving the address still has room in), move it, or cancel it.
A window taken while the customer was choosing comes back as a message with the next free ones."""

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.portal import portal_customers, portal_verified_required
from repairs.models import RepairOrder
from repairs.selectors.dispatch import ServiceNeed, active_visit_of, available_slots, repair_for_customers
from repairs.services.dispatch import SlotTaken, visit_book, visit_cancel, visit_reschedule


def _repair_or_404(request, number: str) -> RepairOrder:
    customer_ids = [customer.pk for customer in portal_customers(request, request.merchant)]
    repair = repair_for_customers(request.merchant, number, customer_ids)
    if repair is None:
        raise Http404
    return repair


def _page(request, repair: RepairOrder, *, offered: list[str] | None = None, status: int = 200):
    zone = ZoneInfo(request.merchant.timezone)
    days: dict[date, list[dict]] = defaultdict(list)
    highlighted = set(offered or [])
    for slot in available_slots(request.merchant, ServiceNeed.of_repair(repair), now=timezone.now()):
        local = slot.start.astimezone(zone)
        days[local.date()].append(
            {
                "value": slot.start.isoformat(),
                "start": local,
                "end": slot.end.astimezone(zone),
                "next": slot.start.isoformat() in highlighted,
            }
        )
    return render(
        request,
        "portal/repairs/visit.html",
        {
            "merchant": request.merchant,
            "portal_verified": True,
            "repair": repair,
            "visit": active_visit_of(repair),
            "days": sorted(days.items()),
        },
        status=status,
    )


def _next_slots_of(request, repair: RepairOrder, count: int = 3):
    return available_slots(request.merchant, ServiceNeed.of_repair(repair), now=timezone.now(), limit=count)


@portal_verified_required
@require_http_methods(["GET", "POST"])
def repair_visit(request, merchant_slug, number):
    repair = _repair_or_404(request, number)
    if request.method == "GET":
        if request.GET.get("taken") and active_visit_of(repair) is None:
            # Sent with the request, the chosen window was taken meanwhile: point at the next ones.
            offered = [slot.start.isoformat() for slot in _next_slots_of(request, repair)]
            return _page(request, repair, offered=offered)
        return _page(request, repair)
    try:
        window_start = datetime.fromisoformat(request.POST.get("window_start", ""))
    except ValueError:
        messages.error(request, _("Please choose one of the times offered."))
        return _page(request, repair, status=400)
    if window_start.tzinfo is None:
        messages.error(request, _("Please choose one of the times offered."))
        return _page(request, repair, status=400)
    current = active_visit_of(repair)
    try:
        if current is None:
            visit_book(repair=repair, window_start=window_start, actor_customer=repair.customer)
        else:
            visit_reschedule(visit=current, window_start=window_start, actor_customer=repair.customer)
    except SlotTaken as taken:
        messages.error(request, taken.message)
        return _page(request, repair, offered=taken.extra.get("next_slots", []), status=409)
    except ApplicationError as refusal:
        messages.error(request, refusal.message)
        return _page(request, repair, status=400)
    messages.success(request, _("Your visit is booked. We will remind you the day before."))
    return HttpResponseRedirect(reverse("portal:repair_visit", args=[request.merchant.slug, repair.ticket.number]))


@portal_verified_required
@require_POST
def repair_visit_cancel(request, merchant_slug, number):
    repair = _repair_or_404(request, number)
    visit = active_visit_of(repair)
    if visit is None:
        raise Http404
    try:
        visit_cancel(visit=visit, actor_customer=repair.customer, reason=request.POST.get("reason", "")[:300])
    except ApplicationError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Your visit is cancelled. Choose a new time when it suits you."))
    return HttpResponseRedirect(reverse("portal:repair_visit", args=[request.merchant.slug, repair.ticket.number]))
