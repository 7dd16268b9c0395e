"""What the case hub shows of returns: the return box on the staff ticket page and on the
customer's case page. Registered with ``tickets.panels`` in ``ReturnsConfig.ready``; the hub
itself never imports this app."""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from aftersales.models import Customer
from returns.selectors import ticket_return_summary
from returns.selectors.order_refunds import order_refunds_of_ticket
from returns.views.dashboard import return_actions_html
from returns.views.portal import return_box_context
from tickets.models import Ticket, TicketKind
from tickets.panels import register_portal_box, register_staff_box

STAFF_BOX_TEMPLATE = "dashboard/returns/ticket_return_box.html"
PORTAL_BOX_TEMPLATE = "portal/returns/_return_box.html"


def staff_return_box(*, ticket: Ticket, request: HttpRequest | None = None) -> Mapping[str, Any]:
    """``ticket_return``: the return behind the ticket with its line totals, or None (no query
    for a ticket of a kind no return opens); ``return_actions_html``: the return's decisions and
    next steps as its own page offers them, so the agent acts from the ticket page."""
    summary = ticket_return_summary(ticket=ticket)
    actions = return_actions_html(request, ticket) if summary is not None and request is not None else ""
    return {"ticket_return": summary, "return_actions_html": actions, **_order_refunds(ticket)}


def portal_return_box(request: HttpRequest, *, ticket: Ticket, customer: Customer | None) -> Mapping[str, Any]:
    """``return_box``: the customer's view of the return behind the case, or None."""
    return return_box_context(request, ticket=ticket, customer=customer)


def _order_refunds(ticket: Ticket) -> Mapping[str, Any]:
    """``order_refunds``: the refunds granted on the case without a return (a complaint's
    compensation) with their payment calls, for staff to confirm a manual payout or try a failed
    payment again; no query for a ticket of another kind. Shown by the return box's template."""
    if ticket.kind != TicketKind.COMPLAINT:
        return {"order_refunds": []}
    return {"order_refunds": order_refunds_of_ticket(ticket=ticket)}


def register_panels() -> None:
    register_staff_box("returns", template_name=STAFF_BOX_TEMPLATE, context=staff_return_box, wants_request=True)
    register_portal_box("returns", template_name=PORTAL_BOX_TEMPLATE, context=portal_return_box)
