"""The managers' pages: technicians (skills, certifications, home base, areas, calendar,
capacity, time off, today's presence), the parts catalogue and stock per location with receive,
transfer and count. Reads start from the request's membership's merchant (another merchant's id
is a 404); who may manage is ``repairs.roles`` (others get a 404 too, as on the dispatch board);
each write is one service call whose refusal comes back as a message with nothing changed."""

from datetime import date
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.pages import act_and_return, render_dashboard, staff_required
from aftersales.selectors import products_of
from repairs.forms.manage import (
    AdjustForm,
    PartForm,
    ReceiveForm,
    TechnicianForm,
    TimeOffForm,
    TransferForm,
    skills_as_lines,
)
from repairs.roles import STOCK_ROLES, SUPERVISOR_ROLES
from repairs.selectors.manage import (
    active_locations_of,
    calendars_of,
    part_for_page,
    parts_with_stock,
    recent_movements,
    stock_locations_with_stock,
    stock_row_of,
    technician_for_page,
    technicians_with_presence,
    time_off_of,
)
from repairs.services import part_stock_receive
from repairs.services.manage import (
    PartInput,
    TechnicianInput,
    part_create,
    part_update,
    technician_time_off_add,
    technician_time_off_remove,
    technician_update,
)
from repairs.services.stock import part_stock_adjust, part_stock_transfer


def _require(request, roles: tuple[str, ...]) -> None:
    if request.membership.role not in roles:
        raise Http404


def _today(request) -> date:
    return timezone.now().astimezone(ZoneInfo(request.membership.merchant.timezone)).date()


def _form_error(form, error: ApplicationError) -> None:
    field = (error.extra or {}).get("field")
    form.add_error(field if field in form.fields else None, error.message)


# --- technicians ---------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET"])
def technicians(request):
    _require(request, SUPERVISOR_ROLES)
    merchant = request.membership.merchant
    return render_dashboard(
        request,
        "dashboard/repairs/technicians.html",
        {"technicians": list(technicians_with_presence(merchant, _today(request)))},
    )


def _technician_or_404(request, technician_id: int):
    technician = technician_for_page(request.membership.merchant, technician_id)
    if technician is None:
        raise Http404
    return technician


def _technician_initial(technician) -> dict:
    return {
        "phone": technician.phone,
        "skills": skills_as_lines(technician.skills),
        "areas": ", ".join(technician.areas),
        "home_latitude": technician.home_latitude,
        "home_longitude": technician.home_longitude,
        "calendar": technician.calendar_id,
        "daily_capacity": technician.daily_capacity,
        "is_active": technician.is_active,
    }


@staff_required
@require_http_methods(["GET", "POST"])
def technician(request, technician_id: int):
    _require(request, SUPERVISOR_ROLES)
    merchant = request.membership.merchant
    profile = _technician_or_404(request, technician_id)
    form = TechnicianForm(request.POST or None, initial=_technician_initial(profile), calendars=calendars_of(merchant))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            technician_update(
                technician=profile,
                actor=request.user,
                data=TechnicianInput(
                    phone=data["phone"],
                    skills=data["skills"],
                    areas=data["areas"],
                    home_latitude=data["home_latitude"],
                    home_longitude=data["home_longitude"],
                    calendar=data["calendar"],
                    daily_capacity=data["daily_capacity"],
                    is_active=data["is_active"],
                ),
            )
        except ApplicationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Technician saved."))
            return HttpResponseRedirect(reverse("dashboard:repair_technician", args=[profile.pk]))
    return render_dashboard(
        request,
        "dashboard/repairs/technician.html",
        {"technician": profile, "form": form, "time_off_form": TimeOffForm(), "today": _today(request)},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_POST
def technician_time_off(request, technician_id: int):
    _require(request, SUPERVISOR_ROLES)
    profile = _technician_or_404(request, technician_id)
    back = reverse("dashboard:repair_technician", args=[profile.pk])
    form = TimeOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the first and last day off."))
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    return act_and_return(
        request,
        lambda: technician_time_off_add(
            technician=profile,
            actor=request.user,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            reason=data["reason"],
        ),
        _("Time off recorded."),
        back,
    )


@staff_required
@require_POST
def technician_time_off_delete(request, technician_id: int, time_off_id: int):
    _require(request, SUPERVISOR_ROLES)
    profile = _technician_or_404(request, technician_id)
    time_off = time_off_of(profile, time_off_id)
    if time_off is None:
        raise Http404
    return act_and_return(
        request,
        lambda: technician_time_off_remove(time_off=time_off, actor=request.user),
        _("Time off removed."),
        reverse("dashboard:repair_technician", args=[profile.pk]),
    )


# --- parts ---------------------------------------------------------------------------------------


def _part_input(data) -> PartInput:
    return PartInput(
        part_number=data["part_number"],
        name=data["name"],
        cost=data["cost"],
        price=data["price"],
        component=data["component"],
        is_active=data["is_active"],
        compatible_products=list(data["compatible_products"]),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def parts(request):
    _require(request, STOCK_ROLES)
    merchant = request.membership.merchant
    form = PartForm(request.POST or None, products=products_of(merchant).order_by("name", "pk"))
    if request.method == "POST" and form.is_valid():
        try:
            part = part_create(merchant=merchant, actor=request.user, data=_part_input(form.cleaned_data))
        except ApplicationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Part added to the catalogue."))
            return HttpResponseRedirect(reverse("dashboard:repair_part", args=[part.pk]))
    return render_dashboard(
        request,
        "dashboard/repairs/parts.html",
        {"parts": list(parts_with_stock(merchant)), "form": form},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def part(request, part_id: int):
    _require(request, STOCK_ROLES)
    merchant = request.membership.merchant
    found = part_for_page(merchant, part_id)
    if found is None:
        raise Http404
    initial = {
        "part_number": found.part_number,
        "name": found.name,
        "cost": found.cost,
        "price": found.price,
        "component": found.component,
        "is_active": found.is_active,
        "compatible_products": [product.pk for product in found.compatible_products.all()],
    }
    form = PartForm(request.POST or None, initial=initial, products=products_of(merchant).order_by("name", "pk"))
    if request.method == "POST" and form.is_valid():
        try:
            part_update(part=found, actor=request.user, data=_part_input(form.cleaned_data))
        except ApplicationError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Part saved."))
            return HttpResponseRedirect(reverse("dashboard:repair_part", args=[found.pk]))
    return render_dashboard(
        request,
        "dashboard/repairs/part.html",
        {"part": found, "form": form},
        status=400 if request.method == "POST" else 200,
    )


# --- stock ---------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET"])
def stock(request):
    _require(request, STOCK_ROLES)
    merchant = request.membership.merchant
    locations = active_locations_of(merchant)
    return render_dashboard(
        request,
        "dashboard/repairs/stock.html",
        {
            "locations": stock_locations_with_stock(merchant),
            "receive_form": ReceiveForm(locations=locations, parts=parts_with_stock(merchant).filter(is_active=True)),
            "transfer_form": TransferForm(locations=locations),
            "adjust_form": AdjustForm(),
            "movements": recent_movements(merchant),
        },
    )


def _stock_url() -> str:
    return reverse("dashboard:repair_stock")


@staff_required
@require_POST
def stock_receive(request):
    _require(request, STOCK_ROLES)
    merchant = request.membership.merchant
    form = ReceiveForm(request.POST, locations=active_locations_of(merchant), parts=parts_with_stock(merchant))
    if not form.is_valid():
        messages.error(request, _("Pick the location and the part, and a quantity of at least one."))
        return HttpResponseRedirect(_stock_url())
    data = form.cleaned_data
    return act_and_return(
        request,
        lambda: part_stock_receive(
            location=data["location"],
            part=data["part"],
            quantity=data["quantity"],
            actor=request.user,
            note=data["note"],
        ),
        _("Stock received."),
        _stock_url(),
    )


def _stock_row_or_404(request, stock_id: int):
    row = stock_row_of(request.membership.merchant, stock_id)
    if row is None:
        raise Http404
    return row


@staff_required
@require_POST
def stock_transfer(request, stock_id: int):
    _require(request, STOCK_ROLES)
    row = _stock_row_or_404(request, stock_id)
    form = TransferForm(request.POST, locations=active_locations_of(request.membership.merchant))
    if not form.is_valid():
        messages.error(request, _("Pick where the parts go, and a quantity of at least one."))
        return HttpResponseRedirect(_stock_url())
    data = form.cleaned_data
    return act_and_return(
        request,
        lambda: part_stock_transfer(
            stock=row, to_location=data["to_location"], quantity=data["quantity"], actor=request.user, note=data["note"]
        ),
        _("Stock transferred."),
        _stock_url(),
    )


@staff_required
@require_POST
def stock_adjust(request, stock_id: int):
    _require(request, STOCK_ROLES)
    row = _stock_row_or_404(request, stock_id)
    form = AdjustForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the count and why it differs."))
        return HttpResponseRedirect(_stock_url())
    data = form.cleaned_data
    return act_and_return(
        request,
        lambda: part_stock_adjust(stock=row, counted=data["counted"], actor=request.user, reason=data["reason"]),
        _("Stock counted."),
        _stock_url(),
    )
