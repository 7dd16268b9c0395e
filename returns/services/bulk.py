"""The bulk actions of a busy warehouse day: approve or receive many returns at once, each in its
own transaction, with one outcome per return.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError
from aftersales.models import Merchant, User
from returns.models import (
    ReturnRequest,
)
from returns.services.receiving import return_request_receive
from returns.services.requests import return_request_approve


@dataclass(frozen=True)
class BulkOutcome:
    """What happened to one id of a bulk action."""

    id: int
    ok: bool
    status: str = ""  # the return's status afterwards; empty when not found
    code: str = ""  # the refusal's code
    message: str = ""


def _bulk(
    merchant: Merchant, ids: Iterable[int], action: Callable[[ReturnRequest], ReturnRequest]
) -> list[BulkOutcome]:
    """Run ``action`` on each return of the merchant, each in its own transaction, in the order given."""
    wanted = list(dict.fromkeys(int(pk) for pk in ids))
    found = ReturnRequest.objects.filter(merchant=merchant, pk__in=wanted).in_bulk()
    outcomes = []
    for pk in wanted:
        return_request = found.get(pk)
        if return_request is None:
            outcomes.append(BulkOutcome(id=pk, ok=False, code="not_found", message=_("No such return.")))
            continue
        try:
            done = action(return_request)
        except ApplicationError as refusal:
            current = ReturnRequest.objects.filter(pk=pk).values_list("status", flat=True).first() or ""
            outcomes.append(
                BulkOutcome(id=pk, ok=False, status=current, code=refusal.code, message=str(refusal.message))
            )
            continue
        outcomes.append(BulkOutcome(id=pk, ok=True, status=done.status))
    return outcomes


def return_requests_bulk_approve(*, merchant: Merchant, ids: Iterable[int], actor: User) -> list[BulkOutcome]:
    """Approve many returns at once; one refusal never holds back the others."""
    return _bulk(
        merchant, ids, lambda return_request: return_request_approve(return_request=return_request, actor=actor)
    )


def return_requests_bulk_receive(*, merchant: Merchant, ids: Iterable[int], actor: User) -> list[BulkOutcome]:
    """Receive many parcels at once, each in full."""
    return _bulk(
        merchant, ids, lambda return_request: return_request_receive(return_request=return_request, actor=actor)
    )
