"""The queue as a download: the same selector and filters as the page, every page of it; above
``EXPORT_BACKGROUND_ROWS`` rows a background job (``aftersales.pages.export_or_background``)."""

from typing import Any

from aftersales.exports import ExportList, export_params_query
from aftersales.models import Membership
from aftersales.pages import export_or_background
from tickets.exports import queue_columns_for
from tickets.forms.dashboard import QueueFilterForm
from tickets.selectors import TicketFilters, ticket_queue

QUEUE_EXPORT_SOURCE = "tickets.queue"


def queue_export_list(membership: Membership, filters: TicketFilters) -> ExportList:
    tickets = ticket_queue(membership=membership, filters=filters)
    annotate, columns = queue_columns_for(filters.kind)
    return ExportList(rows=annotate(tickets), columns=columns, stem="queue", counted=tickets)


def queue_export_source(membership: Membership, params: dict[str, list[str]]) -> ExportList:
    """The worker's way in (registered in ``TicketsConfig.ready``): the page's filters read again by
    the page's form, for the requester."""
    form = QueueFilterForm(export_params_query(params), merchant=membership.merchant)
    return queue_export_list(membership, form.filters())


def queue_export(request: Any, *, filters: TicketFilters, file_format: str) -> Any:
    return export_or_background(
        request,
        source=QUEUE_EXPORT_SOURCE,
        export=queue_export_list(request.membership, filters),
        file_format=file_format,
    )
