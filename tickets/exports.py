"""The queue's export columns: what a row of the queue says in a CSV or XLSX download
(``aftersales.exports``). Kept outside the views so that the reports' benchmark measures the same
export the page serves.

Every column names its value in the queue's query, so the export reads tuples with the customer,
order and assignee columns joined in, never a model instance or a query per row."""

from django.utils.translation import gettext_lazy as _

from aftersales.exports import Column
from tickets.models import TicketChannel, TicketKind, TicketPriority, TicketStatus

QUEUE_COLUMNS = [
    Column(_("Number"), field="number"),
    Column(_("Kind"), field="kind", choices=TicketKind),
    Column(_("Status"), field="status", choices=TicketStatus),
    Column(_("Priority"), field="priority", choices=TicketPriority),
    Column(_("Channel"), field="channel", choices=TicketChannel),
    Column(_("Subject"), field="subject"),
    Column(_("Customer"), field="customer__name"),
    Column(_("E-mail"), field="customer__email"),
    Column(_("Phone"), field="customer__phone"),
    Column(_("Order"), field="order__external_number"),
    Column(_("Assignee"), field="assignee__username"),
    Column(_("Created"), field="created_at"),
    Column(_("First response"), field="first_responded_at"),
    Column(_("Next deadline"), field="next_deadline_at"),
    Column(_("Resolved"), field="resolved_at"),
]
