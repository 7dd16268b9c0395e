"""The customer's side of a complaint in the portal: asking for escalation (once per level) and
answering a compensation offer. Only the customer the ticket belongs to, in a session that proved
one of their orders, may act; every read starts from ``request.merchant`` and the verified orders."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.exceptions import ApplicationError
from aftersales.portal import portal_customers, portal_order_ids, portal_verified_required
from tickets.forms.complaints import PortalCompensationAnswerForm, PortalEscalateForm
from tickets.models import TicketKind
from tickets.selectors import compensation_for_customer, ticket_for_customer
from tickets.services import compensation_answer as answer_service
from tickets.services import complaint_escalate as escalate_service


def _ticket_and_customer(request, number: str):
    merchant = request.merchant
    ticket = ticket_for_customer(merchant=merchant, order_ids=portal_order_ids(request, merchant), number=number)
    if ticket is None or ticket.kind != TicketKind.COMPLAINT:
        raise Http404
    customer = portal_customers(request, merchant).filter(pk=ticket.customer_id).first()
    if customer is None:
        raise Http404
    return ticket, customer


def _back(request, ticket):
    return redirect("portal:ticket", merchant_slug=request.merchant.slug, number=ticket.number)


@portal_verified_required
@require_POST
def complaint_escalate(request, merchant_slug, number):
    ticket, customer = _ticket_and_customer(request, number)
    form = PortalEscalateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please reload the page and try again."))
        return _back(request, ticket)
    try:
        escalate_service(
            ticket=ticket,
            customer=customer,
            expected_tier=form.cleaned_data["tier"],
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your complaint has been passed to a more senior colleague."))
    return _back(request, ticket)


@portal_verified_required
@require_POST
def compensation_answer(request, merchant_slug, number, pk):
    ticket, customer = _ticket_and_customer(request, number)
    compensation = compensation_for_customer(ticket=ticket, pk=pk)
    if compensation is None:
        raise Http404
    form = PortalCompensationAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to accept or decline the offer."))
        return _back(request, ticket)
    accept = form.cleaned_data["answer"] == "accept"
    try:
        answer_service(compensation=compensation, customer=customer, accept=accept)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Thank you. We will pay it out shortly.") if accept else _("Thank you. We have noted that you declined."),
        )
    return _back(request, ticket)
