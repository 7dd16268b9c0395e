"""The returns list as a download: the same selector and filters as the page, every page of it."""

from django.utils.translation import gettext_lazy as _

from aftersales.exports import Column, export_response
from returns.models import Resolution, ReturnStatus
from returns.selectors import ReturnFilters, return_queue

# Every column names its value in the returns query (the units and the estimated refund are its
# annotations), so the export reads tuples, never a model instance or a query per row.
RETURN_COLUMNS = [
    Column(_("Number"), field="ticket__number"),
    Column(_("Status"), field="status", choices=ReturnStatus),
    Column(_("Resolution"), field="resolution", choices=Resolution),
    Column(_("Reason"), field="reason__name"),
    Column(_("Order"), field="order__external_number"),
    Column(_("Customer"), field="customer__name"),
    Column(_("E-mail"), field="customer__email"),
    Column(_("Phone"), field="customer__phone"),
    Column(_("Units"), field="item_count"),
    Column(_("Estimated refund"), field="estimated_refund"),
    Column(_("Currency"), field="order__currency"),
    Column(_("Submitted"), field="submitted_at"),
    Column(_("Decided"), field="decided_at"),
    Column(_("Completed"), field="completed_at"),
]


def return_list_export(request, *, filters: ReturnFilters, file_format: str):
    returns = return_queue(membership=request.membership, filters=filters)
    return export_response(rows=returns, columns=RETURN_COLUMNS, stem="returns", file_format=file_format)
