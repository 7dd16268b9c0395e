"""The customer's survey pages: the signed link's page and the rating box of the case page.

The link's page records nothing on GET (mail scanners follow links); only the POST of its form
records, and the same form posted again changes the answer while the link is valid. An expired,
tampered or unknown link gets a page that says so, never a 500."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.models import Customer
from aftersales.portal import (
    portal_customers,
    portal_merchant_required,
    portal_order_ids,
    portal_verified_required,
)
from feedback.forms.portal import SurveyForm
from feedback.links import SurveyLinkInvalid, survey_token_read
from feedback.models import Survey, SurveyStatus
from feedback.selectors import csat_of_ticket, survey_for_link, survey_settings_of
from feedback.services import survey_respond
from tickets.models import Ticket
from tickets.selectors import ticket_for_customer

LINK_PAGE = "portal/feedback/survey.html"
CLOSED_PAGE = "portal/feedback/survey_closed.html"


def _closed(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, CLOSED_PAGE, {"merchant": request.merchant, "reason": reason}, status=status)  # type: ignore[attr-defined]


def _is_open(survey: Survey) -> bool:
    return (
        survey.status in (SurveyStatus.SENT, SurveyStatus.ANSWERED)
        and survey.expires_at is not None
        and survey.expires_at > timezone.now()
    )


@portal_merchant_required
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, merchant_slug: str, token: str) -> HttpResponse:
    try:
        survey_id, nonce = survey_token_read(token)
    except SurveyLinkInvalid:
        return _closed(request, "invalid", 404)
    survey = survey_for_link(survey_id=survey_id, nonce=nonce, merchant_slug=merchant_slug)
    if survey is None:
        return _closed(request, "invalid", 404)
    if not _is_open(survey):
        return _closed(request, "expired", 410)
    ces_enabled = survey_settings_of(survey.merchant_id).ces_enabled
    form = SurveyForm(request.POST or None, survey=survey, ces_enabled=ces_enabled)
    thanked = False
    if request.method == "POST" and form.is_valid():
        try:
            survey = survey_respond(survey=survey, **form.answer())
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            thanked = True
            form = SurveyForm(survey=survey, ces_enabled=ces_enabled)
    return render(
        request,
        LINK_PAGE,
        {"merchant": survey.merchant, "survey": survey, "form": form, "thanked": thanked, "token": token},
        status=400 if request.method == "POST" and form.is_bound and not form.is_valid() else 200,
    )


@dataclass(frozen=True)
class SurveyBox:
    survey: Survey
    form: SurveyForm | None


def survey_box_context(request: HttpRequest, *, ticket: Ticket, customer: Customer | None) -> dict[str, Any]:
    """``survey_box``: the case's survey while the customer may rate, or None."""
    survey = csat_of_ticket(ticket=ticket)
    if survey is None or survey.status not in (SurveyStatus.SENT, SurveyStatus.ANSWERED):
        return {"survey_box": None}
    owner = customer is not None and customer.pk == survey.customer_id
    form = None
    if owner and _is_open(survey):
        form = SurveyForm(survey=survey, ces_enabled=survey_settings_of(ticket.merchant_id).ces_enabled)
    return {"survey_box": SurveyBox(survey=survey, form=form)}


@require_POST
@portal_verified_required
def ticket_survey(request: HttpRequest, merchant_slug: str, number: str) -> HttpResponse:
    merchant = request.merchant  # type: ignore[attr-defined]
    ticket = ticket_for_customer(merchant=merchant, order_ids=portal_order_ids(request, merchant), number=number)
    if ticket is None:
        raise Http404
    survey = csat_of_ticket(ticket=ticket)
    if survey is None:
        raise Http404
    back = redirect("portal:ticket", merchant_slug=merchant.slug, number=ticket.number)
    if not portal_customers(request, merchant).filter(pk=survey.customer_id).exists():
        messages.error(request, _("Only the customer of this request can rate it."))
        return back
    form = SurveyForm(request.POST, survey=survey, ces_enabled=survey_settings_of(merchant.pk).ces_enabled)
    if not form.is_valid():
        messages.error(request, _("Pick a rating first."))
        return back
    try:
        survey_respond(survey=survey, **form.answer())
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you for your rating."))
    return back
