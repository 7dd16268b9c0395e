"""The customer's repair pages in the portal: request a repair for an item of a verified order
(seeing the warranty's answer and what it costs before confirming), register a serial with a
receipt photo, answer a quote, confirm the result. Every read starts from the request's merchant
and the session's verified orders and customers."""

from collections import defaultdict
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.models import OrderLine
from aftersales.portal import (
    portal_customers,
    portal_merchant_required,
    portal_order_ids,
    portal_verified_required,
)
from aftersales.selectors import products_of
from repairs import services
from repairs.forms.portal import QuoteAnswerForm, RegistrationForm, RepairRequestForm
from repairs.links import quote_from_token
from repairs.models import TO_SCHEDULE_STATUSES, Remedy, RepairOrder, RepairStatus
from repairs.selectors import (
    auto_triage_holds_of,
    earlier_repair_within_window,
    order_line_of,
    quote_for_link,
    registration_by_serial,
    registrations_of_customer,
    repair_policy_for,
    service_centres_of,
    unit_eligibility,
)
from repairs.selectors.dispatch import ServiceNeed, available_slots
from repairs.services.dispatch import SlotTaken
from tickets.models import TicketChannel


def _context(request, **extra) -> dict:
    return {"merchant": request.merchant, "portal_verified": True, **extra}


def _line_or_404(request, line_id: int) -> OrderLine:
    line = order_line_of(request.merchant, line_id)
    if line is None or line.order_id not in portal_order_ids(request, request.merchant):
        raise Http404
    return line


def _repair_or_404(request, number: str) -> RepairOrder:
    customers = portal_customers(request, request.merchant)
    repair = (
        RepairOrder.objects.filter(
            merchant=request.merchant, ticket__number=number.strip().upper(), customer__in=customers
        )
        .select_related("customer", "ticket")
        .first()
    )
    if repair is None:
        raise Http404
    return repair


REQUEST_FORM_DAYS = 4


def _request_slots(request, line: OrderLine, source) -> tuple[list[tuple[date, list[dict]]], str, str]:
    """The free visit windows, by local day, for the address the form holds (none until it has a
    district or a postal code: the technicians are chosen by the area they serve)."""
    district = (source.get("district") or "").strip()[:100]
    postal_code = (source.get("postal_code") or "").strip()[:20]
    if not (district or postal_code):
        return [], district, postal_code
    zone = ZoneInfo(request.merchant.timezone)
    chosen = source.get("window_start", "")
    need = ServiceNeed.at_address(line.product, postal_code=postal_code, district=district)
    days: dict[date, list[dict]] = defaultdict(list)
    for slot in available_slots(request.merchant, need, now=timezone.now()):
        local = slot.start.astimezone(zone)
        value = slot.start.isoformat()
        days[local.date()].append(
            {"value": value, "start": local, "end": slot.end.astimezone(zone), "checked": value == chosen}
        )
    # The first days with a free window; the visit page offers every later one.
    return sorted(days.items())[:REQUEST_FORM_DAYS], district, postal_code


def _requested_message(request, repair: RepairOrder, window_wanted: bool) -> HttpResponseRedirect:
    """Where the customer lands after sending, told once what happened to the request."""
    number = repair.ticket.number
    if repair.status == RepairStatus.SCHEDULED:
        messages.success(
            request,
            _("Your repair request %(number)s is accepted and the technician's visit is booked.") % {"number": number},
        )
    elif window_wanted and repair.status in TO_SCHEDULE_STATUSES:
        # Triaged, but the window went to someone else meanwhile: the booking page offers the next.
        messages.error(request, str(SlotTaken.default_message))
        url = reverse("portal:repair_visit", args=[request.merchant.slug, number])
        return HttpResponseRedirect(f"{url}?taken=1")
    elif repair.status != RepairStatus.REQUESTED:
        messages.success(request, _("Your repair request %(number)s is accepted.") % {"number": number})
    elif window_wanted:
        messages.success(
            request,
            _("Your repair request %(number)s was sent. We check it first; then you can choose the visit's time.")
            % {"number": number},
        )
    else:
        messages.success(request, _("Your repair request %(number)s was sent.") % {"number": number})
    return HttpResponseRedirect(reverse("portal:ticket", args=[request.merchant.slug, number]))


@portal_verified_required
@require_http_methods(["GET", "POST"])
def repair_request(request, merchant_slug, line_id):
    line = _line_or_404(request, line_id)
    registration = None
    serials = line.serial_numbers or []
    serial_number = request.POST.get("serial_number") or (serials[0] if serials else "")
    if serials:
        registration = registration_by_serial(request.merchant, serial_number)
        if registration is not None and registration.order_line_id != line.pk:
            registration = None
    now = timezone.now()
    policy = repair_policy_for(request.merchant.pk)
    answer = unit_eligibility(product=line.product, registration=registration, order_line=line, at=now, policy=policy)
    # Whether a repair asked for now would be triaged by the system: then the visit is chosen in
    # the same step (the service decides again when the request is sent).
    auto_triage = policy.auto_triage and not auto_triage_holds_of(
        merchant_id=request.merchant.pk,
        answer=answer,
        remedy=Remedy.REPAIR,
        registration=registration,
        serial_number=serial_number,
        free_as_repeat=earlier_repair_within_window(request.merchant.pk, serial_number, policy.revisit_window_days, now)
        is not None,
    )
    centres = service_centres_of(request.merchant)
    showing_times = request.method == "POST" and "show_times" in request.POST
    initial = {"serial_number": serials[0] if serials else "", "mode": "on_site"}
    if showing_times:
        # Not a submission: the same form again, with the windows for the address just typed.
        form = RepairRequestForm(centres=centres, initial={**initial, **request.POST.dict()})
    else:
        form = RepairRequestForm(request.POST or None, request.FILES or None, centres=centres, initial=initial)
    if request.method == "POST" and not showing_times and form.is_valid():
        data = form.cleaned_data
        window_start = data["window_start"] if auto_triage else None
        try:
            repair = services.repair_request_create(
                customer=line.order.customer,
                product=line.product,
                order_line=line,
                registration=registration,
                serial_number=data["serial_number"],
                mode=data["mode"],
                fault_description=data["fault_description"],
                remedy_wanted=data["remedy_wanted"],
                service_centre=data["service_centre"],
                address=data["address"],
                district=data["district"],
                postal_code=data["postal_code"],
                files=data["photos"],
                channel=TicketChannel.PORTAL,
                submission_key=request.POST.get("submission_key", "")[:64],
                window_start=window_start,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return _requested_message(request, repair, window_wanted=window_start is not None)
    days, district, postal_code = (
        _request_slots(request, line, request.POST if request.method == "POST" else request.GET)
        if auto_triage
        else ([], "", "")
    )
    return render(
        request,
        "portal/repairs/request.html",
        _context(
            request,
            line=line,
            form=form,
            answer=answer,
            centres=list(centres),
            auto_triage=auto_triage,
            days=days,
            address_given=bool(district or postal_code),
        ),
    )


@portal_verified_required
@require_http_methods(["GET", "POST"])
def registration_new(request, merchant_slug):
    customers = list(portal_customers(request, request.merchant))
    if not customers:
        raise Http404
    customer = customers[0]
    form = RegistrationForm(
        request.POST or None, request.FILES or None, products=products_of(request.merchant).filter(serialized=True)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        zone = ZoneInfo(request.merchant.timezone)
        try:
            services.registration_register(
                customer=customer,
                product=data["product"],
                serial_number=data["serial_number"],
                purchased_at=datetime.combine(data["purchased_on"], time(12), tzinfo=zone),
                proof=data["proof"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Thank you: we will check the receipt and confirm the warranty."))
            return redirect("portal:repair_registrations", merchant_slug=request.merchant.slug)
    return render(
        request,
        "portal/repairs/registrations.html",
        _context(request, form=form, registrations=list(registrations_of_customer(customer))),
    )


@portal_verified_required
@require_POST
def repair_quote(request, merchant_slug, number, answer):
    repair = _repair_or_404(request, number)
    back = reverse("portal:ticket", args=[request.merchant.slug, repair.ticket.number]) + "#repair"
    form = QuoteAnswerForm(request.POST)
    form.is_valid()
    try:
        if answer == "approve":
            services.repair_quote_approve(repair_order=repair, customer=repair.customer)
            messages.success(request, _("Thank you: the repair goes ahead."))
        elif answer == "decline":
            services.repair_quote_decline(
                repair_order=repair, customer=repair.customer, reason=form.cleaned_data.get("reason", "")
            )
            messages.success(request, _("You declined the quote; the device comes back unrepaired."))
        else:
            raise Http404
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(back)


@portal_verified_required
@require_POST
def repair_confirm(request, merchant_slug, number):
    repair = _repair_or_404(request, number)
    try:
        services.repair_confirm(repair_order=repair, customer=repair.customer)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you for confirming."))
    return HttpResponseRedirect(reverse("portal:ticket", args=[request.merchant.slug, repair.ticket.number]))


@portal_merchant_required
@require_http_methods(["GET", "POST"])
def repair_quote_link(request, merchant_slug, token):
    """The quote opened from the signed link in its message: shown on GET, answered on POST."""
    quote_id = quote_from_token(token, merchant_id=request.merchant.pk)
    quote = quote_for_link(merchant=request.merchant, quote_id=quote_id) if quote_id else None
    if quote is None:
        raise Http404
    repair = quote.repair_order
    form = QuoteAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("answer") == "approve":
                services.repair_quote_approve(repair_order=repair, customer=repair.customer)
                messages.success(request, _("Thank you: the repair goes ahead."))
            elif request.POST.get("answer") == "decline":
                services.repair_quote_decline(
                    repair_order=repair, customer=repair.customer, reason=form.cleaned_data["reason"]
                )
                messages.success(request, _("You declined the quote; the device comes back unrepaired."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("portal:repair_quote_link", merchant_slug=request.merchant.slug, token=token)
    quote.refresh_from_db()
    return render(
        request,
        "portal/repairs/quote.html",
        {
            "merchant": request.merchant,
            "quote": quote,
            "repair": repair,
            "lines": list(quote.lines.all()),
            "form": form,
            "token": token,
        },
    )
