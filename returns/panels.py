"""What the case hub shows of returns: the return box on the staff ticket page and on the
customer's case page. Registered with ``tickets.panels`` in ``ReturnsConfig.ready``; the hub
itself never imports this app."""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from aftersales.models import Customer
from returns.selectors import ticket_return_summary
from returns.views.portal import return_box_context
from tickets.models import Ticket
from tickets.panels import register_portal_box, register_staff_box

STAFF_BOX_TEMPLATE = "dashboard/returns/ticket_return_box.html"
PORTAL_BOX_TEMPLATE = "portal/returns/_return_box.html"


def staff_return_box(*, ticket: Ticket) -> Mapping[str, Any]:
    """``ticket_return``: the return behind the ticket with its line totals, or None (no query
    for a ticket of a kind no return opens)."""
    return {"ticket_return": ticket_return_summary(ticket=ticket)}


def portal_return_box(request: HttpRequest, *, ticket: Ticket, customer: Customer | None) -> Mapping[str, Any]:
    """``return_box``: the customer's view of the return behind the case, or None."""
    return return_box_context(request, ticket=ticket, customer=customer)


def register_panels() -> None:
    register_staff_box("returns", template_name=STAFF_BOX_TEMPLATE, context=staff_return_box)
    register_portal_box("returns", template_name=PORTAL_BOX_TEMPLATE, context=portal_return_box)
