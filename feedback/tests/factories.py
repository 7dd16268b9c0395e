"""Factories of feedback's rows. Related rows agree on their merchant."""

from datetime import date
from decimal import Decimal

import factory

from aftersales.tests.factories import MerchantFactory, ProductFactory
from feedback.models import AlertMethod, QualityAlert, QualitySettings


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
