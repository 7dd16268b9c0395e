"""The returns list as a download: the same selector and filters as the page, every page of it."""

from django.utils.translation import gettext_lazy as _

from aftersales.exports import Column, export_response
from returns.selectors import ReturnFilters, return_queue

RETURN_COLUMNS = [
    Column(_("Number"), lambda row: row.ticket.number),
    Column(_("Status"), lambda row: row.get_status_display()),
    Column(_("Resolution"), lambda row: row.get_resolution_display()),
    Column(_("Reason"), lambda row: row.reason.name),
    Column(_("Order"), lambda row: row.order.external_number),
    Column(_("Customer"), lambda row: row.customer.name),
    Column(_("E-mail"), lambda row: row.customer.email),
    Column(_("Phone"), lambda row: row.customer.phone),
    Column(_("Units"), lambda row: row.item_count),
    Column(_("Estimated refund"), lambda row: row.estimated_refund),
    Column(_("Currency"), lambda row: row.order.currency),
    Column(_("Submitted"), lambda row: row.submitted_at),
    Column(_("Decided"), lambda row: row.decided_at),
    Column(_("Completed"), lambda row: row.completed_at),
]


def return_list_export(request, *, filters: ReturnFilters, file_format: str):
    returns = return_queue(membership=request.membership, filters=filters).select_related("reason")
    return export_response(rows=returns, columns=RETURN_COLUMNS, stem="returns", file_format=file_format)
