from celery import shared_task

from returns.services import rules


@shared_task(ignore_result=True)
def return_quick_refund(return_request_id: int) -> None:
    rules.quick_refund_run(return_request_id=return_request_id)


@shared_task(ignore_result=True)
def return_settle(return_request_id: int, reason: str) -> None:
    rules.settlement_run(return_request_id=return_request_id, reason=reason)


@shared_task(ignore_result=True)
def return_exchange_surplus_pay(return_request_id: int) -> None:
    rules.exchange_surplus_run(return_request_id=return_request_id)
