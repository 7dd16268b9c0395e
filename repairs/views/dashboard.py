"""The staff dashboard's repair actions, posted from the repair box on the ticket page.

Every read starts from the request's membership (``repairs_visible_to``: a technician, the
repairs assigned to them); another merchant's repair is a 404. Every action is one service call;
a refusal comes back as a message on the ticket page, and nothing is changed.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.pages import act_and_return, staff_required
from repairs import services
from repairs.forms.dashboard import (
    DiagnoseForm,
    EmptyForm,
    LineForm,
    PartsWaitForm,
    QcForm,
    QuoteForm,
    ReasonForm,
    SettleForm,
    ShipBackForm,
    TriageForm,
)
from repairs.models import Part, RepairOrder
from repairs.selectors import (
    diagnosis_codes_for,
    part_by_number,
    parts_for_quote,
    repairs_visible_to,
    visit_signature_of,
)
from tickets.attachments import DOWNLOAD_CONTENT_SECURITY_POLICY

FITS_LABEL = _("fits this product")
Act = Callable[[Any, RepairOrder, dict[str, Any]], object]


def repair_or_404(request, number: str) -> RepairOrder:
    repair_order = (
        repairs_visible_to(request.membership)
        .select_related("ticket", "product", "customer")
        .filter(ticket__number=number.strip().upper())
        .first()
    )
    if repair_order is None:
        raise Http404
    return repair_order


def part_finder(repair_order: RepairOrder) -> Callable[[str], Part | None]:
    """Parts are looked up in the repair's merchant only: another merchant's number is unknown."""
    return lambda number: part_by_number(merchant_id=repair_order.merchant_id, part_number=number)


@staff_required
@require_GET
def quote_part_search(request, number: str) -> JsonResponse:
    """The quote form's part picker: the merchant's parts matching ``q`` (part number or name),
    those fitting the repair's product first, at most a short page of them."""
    repair_order = repair_or_404(request, number)
    parts = parts_for_quote(
        merchant_id=repair_order.merchant_id, product_id=repair_order.product_id, query=request.GET.get("q", "")[:100]
    )
    found = []
    for part in parts:
        fits = bool(getattr(part, "fits", False))  # annotated by the selector
        found.append(
            {
                "part_number": part.part_number,
                "name": part.name,
                "price": str(part.price),
                "fits": fits,
                "label": f"{part.name} · {part.price}" + (f" · {FITS_LABEL}" if fits else ""),
            }
        )
    return JsonResponse({"parts": found})


@staff_required
@require_GET
def visit_signature(request, visit_id: int) -> FileResponse:
    """The customer's signature drawn on the technician's phone, for staff who may see the repair;
    served like every uploaded file (nosniff, the sandbox policy), since the PNG came from a
    browser we do not control."""
    visit = visit_signature_of(request.membership, visit_id)
    if visit is None:
        raise Http404
    try:
        handle = visit.signature.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/png", filename=f"signature-visit-{visit.pk}.png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _quote(request, repair_order, data, form):
    return services.repair_quote_send(
        repair_order=repair_order,
        actor=request.user,
        note=data["note"],
        lines=form.lines(),
    )


# action name → (form, the service call, the message on success)
ACTIONS: dict[str, tuple[type[forms.Form], Callable[..., object], Any]] = {
    "triage": (
        TriageForm,
        lambda request, repair, data, form: services.repair_triage(
            repair_order=repair,
            actor=request.user,
            outcome=data["outcome"],
            exclusions=data["exclusions"],
            goodwill_amount=data["goodwill_amount"],
            note=data["note"],
        ),
        _("Warranty decided."),
    ),
    "reject": (
        ReasonForm,
        lambda request, repair, data, form: services.repair_reject(
            repair_order=repair, actor=request.user, reason=data["reason"]
        ),
        _("Repair request declined."),
    ),
    "cancel": (
        ReasonForm,
        lambda request, repair, data, form: services.repair_cancel(
            repair_order=repair, actor=request.user, reason=data["reason"]
        ),
        _("Repair cancelled."),
    ),
    "quote": (QuoteForm, _quote, _("Quote sent to the customer.")),
    "device_received": (
        EmptyForm,
        lambda request, repair, data, form: services.repair_device_receive(repair_order=repair, actor=request.user),
        _("Device received."),
    ),
    "diagnosis_start": (
        EmptyForm,
        lambda request, repair, data, form: services.repair_diagnosis_start(repair_order=repair, actor=request.user),
        _("Diagnosis started."),
    ),
    "diagnose": (
        DiagnoseForm,
        lambda request, repair, data, form: services.repair_diagnose(
            repair_order=repair, actor=request.user, code=data["code"], note=data["note"]
        ),
        _("Diagnosis recorded."),
    ),
    "line": (
        LineForm,
        lambda request, repair, data, form: services.repair_line_add(
            repair_order=repair,
            actor=request.user,
            kind=data["kind"],
            description=data["description"],
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            coverage=data["coverage"],
        ),
        _("Line added."),
    ),
    "waiting_parts": (
        PartsWaitForm,
        lambda request, repair, data, form: services.repair_parts_wait(
            repair_order=repair, actor=request.user, expected_on=data["expected_on"]
        ),
        _("Waiting for parts; the customer sees the expected date."),
    ),
    "start": (
        EmptyForm,
        lambda request, repair, data, form: services.repair_start(repair_order=repair, actor=request.user),
        _("Repair started."),
    ),
    "qc": (
        QcForm,
        lambda request, repair, data, form: services.repair_qc(
            repair_order=repair, actor=request.user, passed=data["passed"], note=data["note"]
        ),
        _("Quality check recorded."),
    ),
    "ship_back": (
        ShipBackForm,
        lambda request, repair, data, form: services.repair_ship_back(
            repair_order=repair, actor=request.user, carrier=data["carrier"], tracking_number=data["tracking_number"]
        ),
        _("Device sent back."),
    ),
    "collected": (
        EmptyForm,
        lambda request, repair, data, form: services.repair_collected(repair_order=repair, actor=request.user),
        _("Device handed back."),
    ),
    "settle": (
        SettleForm,
        lambda request, repair, data, form: services.repair_settle(repair_order=repair, actor=request.user, **data),
        _("Settled through a return."),
    ),
}


@staff_required
@require_POST
def repair_action(request, number: str, action: str) -> HttpResponseRedirect:
    if action not in ACTIONS:
        raise Http404
    repair_order = repair_or_404(request, number)
    form_class, call, success = ACTIONS[action]
    form: forms.Form
    if form_class is DiagnoseForm:
        form = DiagnoseForm(request.POST, codes=diagnosis_codes_for(repair_order))
    elif form_class is QuoteForm:
        form = QuoteForm(request.POST, find_part=part_finder(repair_order))
    else:
        form = form_class(request.POST)
    back_to = reverse("dashboard:ticket", args=[repair_order.ticket.number]) + "#repair"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return HttpResponseRedirect(back_to)
    return act_and_return(request, lambda: call(request, repair_order, form.cleaned_data, form), str(success), back_to)
