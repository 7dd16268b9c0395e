"""The queue as a download: the same selector and filters as the page, every page of it."""

from django.utils.translation import gettext_lazy as _

from aftersales.exports import Column, export_response
from tickets.selectors import TicketFilters, ticket_queue


def _display(field: str):
    return lambda ticket: getattr(ticket, f"get_{field}_display")()


QUEUE_COLUMNS = [
    Column(_("Number"), lambda ticket: ticket.number),
    Column(_("Kind"), _display("kind")),
    Column(_("Status"), _display("status")),
    Column(_("Priority"), _display("priority")),
    Column(_("Channel"), _display("channel")),
    Column(_("Subject"), lambda ticket: ticket.subject),
    Column(_("Customer"), lambda ticket: ticket.customer.name),
    Column(_("E-mail"), lambda ticket: ticket.customer.email),
    Column(_("Phone"), lambda ticket: ticket.customer.phone),
    Column(_("Order"), lambda ticket: ticket.order.external_number if ticket.order else ""),
    Column(_("Assignee"), lambda ticket: ticket.assignee.get_username() if ticket.assignee else ""),
    Column(_("Created"), lambda ticket: ticket.created_at),
    Column(_("First response"), lambda ticket: ticket.first_responded_at),
    Column(_("Next deadline"), lambda ticket: ticket.next_deadline_at),
    Column(_("Resolved"), lambda ticket: ticket.resolved_at),
]


def queue_export(request, *, filters: TicketFilters, file_format: str):
    tickets = ticket_queue(membership=request.membership, filters=filters)
    return export_response(rows=tickets, columns=QUEUE_COLUMNS, stem="queue", file_format=file_format)
