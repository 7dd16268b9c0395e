"""Celery entry points of repairs: ids in, one service call, nothing else."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from aftersales.models import Merchant
from repairs.selectors.dispatch import merchants_for_evening_plan
from repairs.services.planning import dispatch_plan_tomorrow, dispatch_replan_today


@shared_task(ignore_result=True)
def dispatch_evening_plans() -> None:
    """Hourly on beat: plan tomorrow for each merchant whose evening hour it is."""
    hour = int(getattr(settings, "REPAIRS_EVENING_PLAN_HOUR", 20))
    for merchant_id in merchants_for_evening_plan(timezone.now(), hour=hour):
        dispatch_plan_tomorrow_of.delay(merchant_id)


@shared_task(ignore_result=True)
def dispatch_plan_tomorrow_of(merchant_id: int) -> None:
    dispatch_plan_tomorrow(merchant=Merchant.objects.get(pk=merchant_id))


@shared_task(ignore_result=True)
def dispatch_replan_today_of(merchant_id: int) -> None:
    """A visit was added for today: re-plan the rest of the day around it."""
    dispatch_replan_today(merchant=Merchant.objects.get(pk=merchant_id))
