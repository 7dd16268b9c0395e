"""The queue's export columns: what a row of the queue says in a CSV or XLSX download
(``aftersales.exports``). Kept outside the views so that the reports' benchmark measures the same
export the page serves."""

from django.utils.translation import gettext_lazy as _

from aftersales.exports import Column


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
