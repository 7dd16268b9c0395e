"""The complaint box's actions on the dashboard's ticket page, and the complaint-rate report.
Each action is one service call: its refusal (which changed nothing) or its success is shown on
the ticket page. Every read starts from the membership (``ticket_by_number``)."""

from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.pages import act_and_return, staff_required
from aftersales.pages import render_dashboard as _render
from aftersales.periods import ReportPeriodForm
from tickets import services
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
from tickets.models import Compensation, RegulatorCase, Ticket, TicketKind
from tickets.selectors import (
    compensation_of,
    complaint_rate,
    complaint_totals_by_store,
    regulator_case_of,
    ticket_by_number,
)


def _complaint_ticket_or_404(request, number: str) -> Ticket:
    ticket = ticket_by_number(membership=request.membership, number=number)
    if ticket is None or ticket.kind != TicketKind.COMPLAINT:
        raise Http404(_("No such complaint."))
    return ticket


def _back(ticket: Ticket) -> str:
    return reverse("dashboard:ticket", kwargs={"number": ticket.number}) + "#complaint"


def _with_form(request, form_class, ticket: Ticket, action: Callable[[dict], object], success: str):
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return HttpResponseRedirect(_back(ticket))
    return act_and_return(request, lambda: action(form.cleaned_data), success, _back(ticket))


@staff_required
@require_POST
def complaint_classify(request, number):
    ticket = _complaint_ticket_or_404(request, number)
    return _with_form(
        request,
        ComplaintClassifyForm,
        ticket,
        lambda data: services.complaint_classify(
            ticket=ticket, actor=request.user, severity=data["severity"], category=data["category"]
        ),
        _("The complaint is classified."),
    )


@staff_required
@require_POST
def complaint_responsibility(request, number):
    ticket = _complaint_ticket_or_404(request, number)
    return _with_form(
        request,
        ComplaintResponsibilityForm,
        ticket,
        lambda data: services.complaint_set_responsibility(
            ticket=ticket,
            actor=request.user,
            party=data["party"],
            evidence=data["evidence"],
            third_party_name=data["third_party_name"],
        ),
        _("Responsibility is recorded."),
    )


@staff_required
@require_POST
def complaint_third_party_answer(request, number):
    ticket = _complaint_ticket_or_404(request, number)
    return _with_form(
        request,
        ThirdPartyAnswerForm,
        ticket,
        lambda data: services.complaint_record_third_party_answer(
            ticket=ticket, actor=request.user, answer=data["answer"]
        ),
        _("The third party's answer is recorded."),
    )


@staff_required
@require_POST
def complaint_escalate(request, number):
    ticket = _complaint_ticket_or_404(request, number)
    return _with_form(
        request,
        ComplaintEscalateForm,
        ticket,
        lambda data: services.complaint_escalate(ticket=ticket, actor=request.user, reason=data["reason"]),
        _("The complaint is escalated."),
    )


@staff_required
@require_POST
def compensation_propose(request, number):
    ticket = _complaint_ticket_or_404(request, number)
    return _with_form(
        request,
        CompensationForm,
        ticket,
        lambda data: services.compensation_propose(
            ticket=ticket, actor=request.user, kind=data["kind"], amount=data["amount"], note=data["note"]
        ),
        _("The compensation is proposed."),
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
            _("The compensation is paid."),
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
@require_POST
def regulator_case_record(request, number):
    ticket = _complaint_ticket_or_404(request, number)
    return _with_form(
        request,
        RegulatorCaseForm,
        ticket,
        lambda data: services.regulator_case_record(
            ticket=ticket,
            actor=request.user,
            channel=data["channel"],
            reference=data["reference"],
            received_on=data["received_on"],
            answer_due_on=data["answer_due_on"],
        ),
        _("The regulator complaint is recorded, with its deadlines."),
    )


def _case_or_404(request, number: str, pk: int) -> tuple[Ticket, RegulatorCase]:
    ticket = _complaint_ticket_or_404(request, number)
    case = regulator_case_of(request.membership.merchant, pk)
    if case is None or case.complaint.ticket_id != ticket.pk:
        raise Http404(_("No such regulator case."))
    return ticket, case


@staff_required
@require_POST
def regulator_case_accept(request, number, pk):
    ticket, case = _case_or_404(request, number, pk)
    return _with_form(
        request,
        RegulatorAcceptForm,
        ticket,
        lambda data: services.regulator_case_accept(case=case, actor=request.user, accepted_on=data["accepted_on"]),
        _("The acceptance is recorded; the mediation clock runs."),
    )


@staff_required
@require_POST
def regulator_case_answer(request, number, pk):
    ticket, case = _case_or_404(request, number, pk)
    return _with_form(
        request,
        RegulatorAnswerForm,
        ticket,
        lambda data: services.regulator_case_answer(case=case, actor=request.user, outcome=data["outcome"]),
        _("The answer to the regulator is recorded."),
    )


@staff_required
@require_POST
def complaint_close_out(request, number):
    ticket = _complaint_ticket_or_404(request, number)
    return _with_form(
        request,
        ComplaintCloseOutForm,
        ticket,
        lambda data: services.complaint_close_out(
            ticket=ticket,
            actor=request.user,
            root_cause=data["root_cause"],
            corrective_action=data["corrective_action"],
        ),
        _("The complaint is closed out and the case resolved."),
    )


@staff_required
@require_GET
def complaint_report(request):
    """Complaints per 1,000 orders by store and category, over whole days of the merchant's time
    zone. Supervisors and merchant admins only."""
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
        },
    )
