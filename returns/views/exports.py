"""The returns list as a download: the same selector and filters as the page, every page of it."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from aftersales.exceptions import PermissionRefused
from aftersales.exports import Column, ExportList, export_params_query
from aftersales.models import Membership
from aftersales.pages import export_or_background
from returns.forms.dashboard import ReturnFilterForm
from returns.models import Resolution, ReturnStatus
from returns.roles import may_work_returns
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


RETURN_LIST_EXPORT_SOURCE = "returns.list"


def return_list_export_list(membership: Membership, filters: ReturnFilters) -> ExportList:
    return ExportList(rows=return_queue(membership=membership, filters=filters), columns=RETURN_COLUMNS, stem="returns")


def return_list_export_source(membership: Membership, params: dict[str, list[str]]) -> ExportList:
    """The worker's way in (registered in ``ReturnsConfig.ready``): the page's role check and filters
    again, for the requester as they are when the job runs."""
    if not may_work_returns(membership):
        raise PermissionRefused
    form = ReturnFilterForm(export_params_query(params))
    return return_list_export_list(membership, form.filters())


def return_list_export(request: Any, *, filters: ReturnFilters, file_format: str) -> Any:
    """Streamed, or above ``EXPORT_BACKGROUND_ROWS`` a background job (``export_or_background``)."""
    return export_or_background(
        request,
        source=RETURN_LIST_EXPORT_SOURCE,
        export=return_list_export_list(request.membership, filters),
        file_format=file_format,
    )
