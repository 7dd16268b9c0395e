"""Factories for the returns app. Related rows agree on their merchant: a reason and a policy
belong to the merchant they are made for, a rule to its policy."""

import factory

from aftersales.tests.factories import MerchantFactory
from returns.models import Responsibility, ReturnPolicy, ReturnReason, ReturnRule


class ReturnPolicyFactory(factory.django.DjangoModelFactory[ReturnPolicy]):
    """A policy with the model's defaults (the 7-day legal floor, no rules)."""

    class Meta:
        model = ReturnPolicy

    merchant = factory.SubFactory(MerchantFactory)


class ReturnRuleFactory(factory.django.DjangoModelFactory[ReturnRule]):
    class Meta:
        model = ReturnRule

    policy = factory.SubFactory(ReturnPolicyFactory)
    position = factory.Sequence(lambda n: (n + 1) * 10)
    name = factory.Sequence(lambda n: f"Rule {n}")
    window_days = 15
    allowed_resolutions = factory.LazyFunction(lambda: ["refund"])


class ReturnReasonFactory(factory.django.DjangoModelFactory[ReturnReason]):
    class Meta:
        model = ReturnReason

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"reason_{n}")
    name = factory.LazyAttribute(lambda reason: reason.code.replace("_", " ").capitalize())
    responsibility = Responsibility.CUSTOMER
