"""Celery entry points of returns: ids in, one service call, nothing else."""

from celery import shared_task

from returns.services import (
    exchange_surplus_run,
    order_refund_pay_run,
    quick_refund_run,
    refunds_redrive_stalled,
    settlement_run,
)


@shared_task(ignore_result=True)
def return_quick_refund(return_request_id: int) -> None:
    quick_refund_run(return_request_id=return_request_id)


@shared_task(ignore_result=True)
def return_settle(return_request_id: int, reason: str) -> None:
    settlement_run(return_request_id=return_request_id, reason=reason)


@shared_task(ignore_result=True)
def return_exchange_surplus_pay(return_request_id: int) -> None:
    exchange_surplus_run(return_request_id=return_request_id)


@shared_task(ignore_result=True)
def refunds_redrive_stalled_sweep() -> None:
    refunds_redrive_stalled()


@shared_task(ignore_result=True)
def order_refund_pay(refund_id: int) -> None:
    order_refund_pay_run(refund_id=refund_id)
