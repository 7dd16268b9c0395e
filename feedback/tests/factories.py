"""factory-boy factories for feedback's models."""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from aftersales.tests.factories import MerchantFactory, ProductFactory
from feedback.models import (
    AlertMethod,
    FollowUpRule,
    FollowUpTrigger,
    QualityAlert,
    QualitySettings,
    Survey,
    SurveyKind,
    SurveySettings,
    SurveyStatus,
)
from tickets.tests.factories import TicketFactory


class QualitySettingsFactory(factory.django.DjangoModelFactory[QualitySettings]):
    class Meta:
        model = QualitySettings
        django_get_or_create = ("merchant",)

    merchant = factory.SubFactory(MerchantFactory)


class QualityAlertFactory(factory.django.DjangoModelFactory[QualityAlert]):
    """An open alert as the daily run would raise it."""

    class Meta:
        model = QualityAlert

    merchant = factory.SubFactory(MerchantFactory)
    product = factory.SubFactory(ProductFactory, merchant=factory.SelfAttribute("..merchant"))
    sku = factory.SelfAttribute("product.sku")
    category = factory.SelfAttribute("product.category")
    method = AlertMethod.LANEY
    detected_on = date(2026, 3, 20)
    cohort_start = date(2026, 3, 1)
    cohort_end = date(2026, 3, 5)
    delivered_units = 700
    defect_units = 70
    rate = Decimal("0.100000")
    baseline_rate = Decimal("0.020000")
    upper_limit = Decimal("0.041000")
    statistic = Decimal("15.000")
    top_reasons = factory.LazyFunction(lambda: [{"reason": "Stopped working", "units": 70, "cases": 60}])


class SurveySettingsFactory(factory.django.DjangoModelFactory[SurveySettings]):
    class Meta:
        model = SurveySettings
        django_get_or_create = ("merchant",)


class FollowUpRuleFactory(factory.django.DjangoModelFactory[FollowUpRule]):
    class Meta:
        model = FollowUpRule

    name = factory.Sequence(lambda n: f"Call back {n}")
    trigger = FollowUpTrigger.CASE_RESOLVED
    delay_hours = 48
    max_attempts = 3
    retry_hours = 24
    script = "Ask whether the problem is solved for good."


class SentSurveyFactory(factory.django.DjangoModelFactory[Survey]):
    """A CSAT row as it stands once sent (for behaviour, resolve a case and sweep)."""

    class Meta:
        model = Survey

    ticket = factory.SubFactory(TicketFactory)
    merchant = factory.SelfAttribute("ticket.merchant")
    customer = factory.SelfAttribute("ticket.customer")
    kind = SurveyKind.CSAT
    status = SurveyStatus.SENT
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda survey: survey.sent_at + timedelta(days=28))
