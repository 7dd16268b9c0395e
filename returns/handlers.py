"""What the timers sweep calls when one of returns' deadlines falls due (or warns): each handler
finds the return, checks it still waits on that deadline, and makes one service call. Registered
with the timers engine by ``ReturnsConfig.ready()``."""

from django.utils.translation import gettext as _

from aftersales.models import Deadline
from aftersales.timers import register as deadline_handler_register
from returns.deadline_kinds import CONFIRM_RECEIPT, CUSTOMER_SHIP, MERCHANT_RESPONSE, REVISE
from returns.models import ReturnRequest, ReturnStatus
from returns.services import (
    return_request_approve,
    return_request_expire,
    return_request_rejection_final,
    return_request_settle_uninspected,
    return_ship_remind,
)


def _return_of(deadline: Deadline) -> ReturnRequest | None:
    return ReturnRequest.objects.filter(ticket_id=deadline.ticket_id).first()


def _on_merchant_response_due(deadline: Deadline) -> None:
    return_request = _return_of(deadline)
    if return_request is not None and return_request.status in (ReturnStatus.SUBMITTED, ReturnStatus.NEEDS_REVIEW):
        return_request_approve(
            return_request=return_request, actor=None, note=_("Approved: the merchant did not answer in time.")
        )


def _on_customer_ship_warning(deadline: Deadline) -> None:
    return_request = _return_of(deadline)
    if return_request is not None and return_request.status in (ReturnStatus.APPROVED, ReturnStatus.AWAITING_SHIPMENT):
        return_ship_remind(return_request=return_request, deadline=deadline)


def _on_customer_ship_due(deadline: Deadline) -> None:
    return_request = _return_of(deadline)
    if return_request is not None and return_request.status in (ReturnStatus.APPROVED, ReturnStatus.AWAITING_SHIPMENT):
        return_request_expire(return_request=return_request)


def _on_confirm_receipt_due(deadline: Deadline) -> None:
    return_request = _return_of(deadline)
    if return_request is not None and return_request.status == ReturnStatus.RECEIVED:
        return_request_settle_uninspected(return_request=return_request)


def _on_revise_due(deadline: Deadline) -> None:
    return_request = _return_of(deadline)
    if return_request is not None and return_request.status == ReturnStatus.REJECTED:
        return_request_rejection_final(return_request=return_request)


def register_handlers() -> None:
    deadline_handler_register(MERCHANT_RESPONSE, on_due=_on_merchant_response_due)
    deadline_handler_register(
        CUSTOMER_SHIP, on_due=_on_customer_ship_due, on_warning=_on_customer_ship_warning, staff_facing=False
    )
    deadline_handler_register(CONFIRM_RECEIPT, on_due=_on_confirm_receipt_due)
    deadline_handler_register(REVISE, on_due=_on_revise_due, staff_facing=False)
