"""Factories for feedback. Related rows agree on their merchant."""

from datetime import timedelta

import factory
from django.utils import timezone

from feedback.models import FollowUpRule, FollowUpTrigger, Survey, SurveyKind, SurveySettings, SurveyStatus
from tickets.tests.factories import TicketFactory


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
