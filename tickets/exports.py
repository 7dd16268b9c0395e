"""The queue's export columns: what a row of the queue says in a CSV or XLSX download
(``aftersales.exports``). Kept outside the views so that the reports' benchmark measures the same
export the page serves.

Every column names its value in the queue's query, so the export reads tuples with the customer,
order and assignee columns joined in, never a model instance or a query per row."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
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

# The columns a workflow app adds to the queue's export when the queue is filtered to its kind
# (repairs: mode, repair status, product, serial, …), with the annotation that brings their values
# into the same query. Registered in the app's ``ready()``: the hub imports no workflow app.
QueueAnnotate = Callable[[QuerySet[Any]], QuerySet[Any]]
_KIND_COLUMNS: dict[str, tuple[QueueAnnotate, list[Column]]] = {}


def queue_kind_columns_register(kind: str, *, annotate: QueueAnnotate, columns: list[Column]) -> None:
    _KIND_COLUMNS[kind] = (annotate, columns)


def queue_columns_for(kind: str) -> tuple[QueueAnnotate, list[Column]]:
    """What the queue's export reads for a queue filtered to ``kind`` ("" for every kind)."""
    if kind in _KIND_COLUMNS:
        annotate, columns = _KIND_COLUMNS[kind]
        return annotate, [*QUEUE_COLUMNS, *columns]
    return _unchanged, QUEUE_COLUMNS


def _unchanged(rows: QuerySet[Any]) -> QuerySet[Any]:
    return rows
