"""What the case hub shows of feedback: the survey and its answer on the staff ticket page, and
the rating box on the customer's case page. Registered with ``tickets.panels`` in
``FeedbackConfig.ready``; the hub never imports this app."""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from aftersales.models import Customer
from feedback.selectors import csat_of_ticket
from feedback.views.portal import survey_box_context
from tickets.models import Ticket, TicketStatus
from tickets.panels import register_portal_box, register_staff_box

STAFF_BOX_TEMPLATE = "dashboard/feedback/ticket_survey_box.html"
PORTAL_BOX_TEMPLATE = "portal/feedback/_survey_box.html"


def staff_survey_box(*, ticket: Ticket) -> Mapping[str, Any]:
    """``ticket_survey``: the case's satisfaction survey and answer, or None."""
    if ticket.resolved_at is None and ticket.status not in (TicketStatus.CLOSED,):
        return {"ticket_survey": None}
    return {"ticket_survey": csat_of_ticket(ticket=ticket)}


def portal_survey_box(request: HttpRequest, *, ticket: Ticket, customer: Customer | None) -> Mapping[str, Any]:
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return {"survey_box": None}
    return survey_box_context(request, ticket=ticket, customer=customer)


def register_panels() -> None:
    register_staff_box("feedback", template_name=STAFF_BOX_TEMPLATE, context=staff_survey_box)
    register_portal_box("feedback", template_name=PORTAL_BOX_TEMPLATE, context=portal_survey_box)
