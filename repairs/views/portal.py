"""The customer's repair pages in the portal: request a repair for an item of a verified order
(seeing the warranty's answer and what it costs before confirming), register a serial with a
receipt photo, answer a quote, confirm the result. Every read starts from the request's merchant
and the session's verified orders and customers."""

from datetime import datetime, time
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
from aftersales.portal import portal_customers, portal_order_ids, portal_verified_required
from aftersales.selectors import products_of
from repairs import services
from repairs.forms.portal import QuoteAnswerForm, RegistrationForm, RepairRequestForm
from repairs.models import RepairOrder
from repairs.selectors import (
    order_line_of,
    registration_by_serial,
    registrations_of_customer,
    service_centres_of,
    unit_eligibility,
)
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


@portal_verified_required
@require_http_methods(["GET", "POST"])
def repair_request(request, merchant_slug, line_id):
    line = _line_or_404(request, line_id)
    registration = None
    serials = line.serial_numbers or []
    if serials:
        registration = registration_by_serial(request.merchant, request.POST.get("serial_number") or serials[0])
        if registration is not None and registration.order_line_id != line.pk:
            registration = None
    answer = unit_eligibility(product=line.product, registration=registration, order_line=line, at=timezone.now())
    centres = service_centres_of(request.merchant)
    form = RepairRequestForm(
        request.POST or None,
        request.FILES or None,
        centres=centres,
        initial={"serial_number": serials[0] if serials else "", "mode": "on_site"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
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
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your repair request %(number)s was sent.") % {"number": repair.ticket.number})
            return redirect("portal:ticket", merchant_slug=request.merchant.slug, number=repair.ticket.number)
    return render(
        request,
        "portal/repairs/request.html",
        _context(request, line=line, form=form, answer=answer, centres=list(centres)),
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
