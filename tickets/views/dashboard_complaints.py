"""The complaint box's actions on the dashboard's ticket page, and the complaint-rate report.
Each action is one service call: its refusal (which changed nothing) or its success is shown on
the ticket page. Every read starts from the membership (``ticket_by_number``)."""

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aftersales.pages import act_and_return, staff_required
from aftersales.pages import render_dashboard as _render
from aftersales.periods import ReportPeriodForm
from tickets import compensation_payers, services
from tickets.forms.complaints import (
    CompensationForm,
    ComplaintClassifyForm,
    ComplaintCloseOutForm,
    ComplaintEscalateForm,
    ComplaintResponsibilityForm,
    RegulatorAcceptForm,
    RegulatorAnswerForm,
    RegulatorCaseForm,
    ThirdPartyAnswerForm,
)
from tickets.models import Compensation, Ticket, TicketKind
from tickets.selectors import (
    compensation_of,
    compensation_totals,
    complaint_rate,
    complaint_totals_by_store,
    regulator_case_of,
    ticket_by_number,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _complaint_ticket_or_404(request, number: str) -> Ticket:
    ticket = ticket_by_number(membership=request.membership, number=number)
    if ticket is None or ticket.kind != TicketKind.COMPLAINT:
        raise Http404(_("No such complaint."))
    return ticket


def _back(ticket: Ticket) -> str:
    return reverse("dashboard:ticket", kwargs={"number": ticket.number}) + "#complaint"


def _with_form(request, form_class, ticket: Ticket, action: Callable[[dict], object], success: "StrOrPromise"):
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return HttpResponseRedirect(_back(ticket))
    return act_and_return(request, lambda: action(form.cleaned_data), success, _back(ticket))


def _on_ticket(request, number: str, pk: None = None) -> tuple[Ticket, dict[str, object]]:
    ticket = _complaint_ticket_or_404(request, number)
    return ticket, {"ticket": ticket}


def _on_regulator_case(request, number: str, pk: int) -> tuple[Ticket, dict[str, object]]:
    ticket = _complaint_ticket_or_404(request, number)
    case = regulator_case_of(request.membership.merchant, pk)
    if case is None or case.complaint.ticket_id != ticket.pk:
        raise Http404(_("No such regulator case."))
    return ticket, {"case": case}


def _form_action(
    form_class: type[forms.Form],
    service: Callable[..., object],
    success: "StrOrPromise",
    on: Callable[..., tuple[Ticket, dict[str, object]]] = _on_ticket,
):
    """A complaint box's form action: the posted form checked, then one call of ``service`` with
    what ``on`` found (the complaint's ticket, or one of its regulator cases), the actor, and the
    form's fields, which are named as the service's arguments."""

    @staff_required
    @require_POST
    def action(request, number, pk=None):
        ticket, target = on(request, number, pk)
        return _with_form(
            request, form_class, ticket, lambda data: service(**target, actor=request.user, **data), success
        )

    return action


complaint_classify = _form_action(
    ComplaintClassifyForm, services.complaint_classify, gettext_lazy("The complaint is classified.")
)
complaint_responsibility = _form_action(
    ComplaintResponsibilityForm, services.complaint_set_responsibility, gettext_lazy("Responsibility is recorded.")
)
complaint_third_party_answer = _form_action(
    ThirdPartyAnswerForm,
    services.complaint_record_third_party_answer,
    gettext_lazy("The third party's answer is recorded."),
)
complaint_escalate = _form_action(
    ComplaintEscalateForm, services.complaint_escalate, gettext_lazy("The complaint is escalated.")
)
compensation_propose = _form_action(
    CompensationForm, services.compensation_propose, gettext_lazy("The compensation is proposed.")
)
regulator_case_record = _form_action(
    RegulatorCaseForm,
    services.regulator_case_record,
    gettext_lazy("The regulator complaint is recorded, with its deadlines."),
)
regulator_case_accept = _form_action(
    RegulatorAcceptForm,
    services.regulator_case_accept,
    gettext_lazy("The acceptance is recorded; the mediation clock runs."),
    on=_on_regulator_case,
)
regulator_case_answer = _form_action(
    RegulatorAnswerForm,
    services.regulator_case_answer,
    gettext_lazy("The answer to the regulator is recorded."),
    on=_on_regulator_case,
)
complaint_close_out = _form_action(
    ComplaintCloseOutForm,
    services.complaint_close_out,
    gettext_lazy("The complaint is closed out and the case resolved."),
)


def _compensation_or_404(request, number: str, pk: int) -> tuple[Ticket, Compensation]:
    ticket = _complaint_ticket_or_404(request, number)
    compensation = compensation_of(request.membership.merchant, pk)
    if compensation is None or compensation.complaint.ticket_id != ticket.pk:
        raise Http404(_("No such compensation."))
    return ticket, compensation


@staff_required
@require_POST
def compensation_act(request, number, pk):
    """approve, pay, withdraw, or record the customer's answer given by phone."""
    ticket, compensation = _compensation_or_404(request, number, pk)
    actor = request.user
    actions: dict[str, tuple[Callable[[], object], str]] = {
        "approve": (
            lambda: services.compensation_approve(compensation=compensation, actor=actor),
            _("The compensation is approved and offered to the customer."),
        ),
        "pay": (
            lambda: services.compensation_pay(compensation=compensation, actor=actor),
            _("The compensation is granted; it shows as paid once its payment is made.")
            if compensation_payers.settles_later(compensation.kind)
            else _("The compensation is paid."),
        ),
        "withdraw": (
            lambda: services.compensation_withdraw(compensation=compensation, actor=actor),
            _("The compensation is withdrawn."),
        ),
        "accepted": (
            lambda: services.compensation_answer(compensation=compensation, actor=actor, accept=True),
            _("The customer's acceptance is recorded."),
        ),
        "declined": (
            lambda: services.compensation_answer(compensation=compensation, actor=actor, accept=False),
            _("The customer's refusal is recorded."),
        ),
    }
    chosen = actions.get(request.POST.get("action", ""))
    if chosen is None:
        messages.error(request, _("Choose what to do with the compensation."))
        return HttpResponseRedirect(_back(ticket))
    return act_and_return(request, chosen[0], chosen[1], _back(ticket))


@staff_required
@require_GET
def complaint_report(request):
    """Complaints per 1,000 orders by store and category, and the compensation granted (paid apart
    from what is still being paid or failed), over whole days of the merchant's time zone.
    Supervisors and merchant admins only."""
    membership = request.membership
    if not membership.is_supervisor:
        return _render(request, "dashboard/forbidden.html", {}, status=403)
    bound = "start" in request.GET or "end" in request.GET
    form = ReportPeriodForm(request.GET if bound else None, today=timezone.localdate())
    first_day, last_day = form.period()
    zone = timezone.get_current_timezone()
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
    rows = complaint_rate(merchant=membership.merchant, start=start, end=end)
    return _render(
        request,
        "dashboard/complaints/report.html",
        {
            "form": form,
            "first_day": first_day,
            "last_day": last_day,
            "rows": rows,
            "totals": complaint_totals_by_store(rows),
            "compensation_totals": compensation_totals(merchant=membership.merchant, start=start, end=end),
        },
    )
