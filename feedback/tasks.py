"""Celery entry points of feedback: ids in, one service call each. Beat fans out per merchant."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from celery import shared_task
from django.utils import timezone

from aftersales.models import Merchant
from feedback import services

RECENT_DAYS = 2  # today and yesterday, every few minutes
MONTH_DAYS = 35  # nightly: late facts (a reopen, a late refund) land within a day


def _active_merchant_ids() -> list[int]:
    return list(Merchant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))


@shared_task(ignore_result=True)
def rollups_refresh(merchant_id: int, days: int) -> None:
    merchant = Merchant.objects.get(pk=merchant_id)
    today = timezone.localdate(timezone=ZoneInfo(merchant.timezone))
    services.rollups_refresh(merchant=merchant, first_day=today - timedelta(days=days - 1), last_day=today)


@shared_task(ignore_result=True)
def rollups_refresh_recent() -> int:
    """Beat: every merchant's today and yesterday."""
    merchant_ids = _active_merchant_ids()
    for merchant_id in merchant_ids:
        rollups_refresh.delay(merchant_id, RECENT_DAYS)
    return len(merchant_ids)


@shared_task(ignore_result=True)
def rollups_refresh_month() -> int:
    """Beat, nightly: every merchant's last 35 days."""
    merchant_ids = _active_merchant_ids()
    for merchant_id in merchant_ids:
        rollups_refresh.delay(merchant_id, MONTH_DAYS)
    return len(merchant_ids)


@shared_task(ignore_result=True)
def quality_run(merchant_id: int) -> None:
    services.quality_run(merchant=Merchant.objects.get(pk=merchant_id))


@shared_task(ignore_result=True)
def quality_runs() -> int:
    """Beat, daily: the early-warning run of every merchant (idempotent within a day)."""
    merchant_ids = _active_merchant_ids()
    for merchant_id in merchant_ids:
        quality_run.delay(merchant_id)
    return len(merchant_ids)
