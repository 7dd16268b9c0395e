"""The queue as a download: the same selector and filters as the page, every page of it."""

from aftersales.exports import export_response
from tickets.exports import QUEUE_COLUMNS
from tickets.selectors import TicketFilters, ticket_queue


def queue_export(request, *, filters: TicketFilters, file_format: str):
    tickets = ticket_queue(membership=request.membership, filters=filters)
    return export_response(rows=tickets, columns=QUEUE_COLUMNS, stem="queue", file_format=file_format)
