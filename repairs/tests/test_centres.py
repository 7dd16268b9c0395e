"""A service centre keeps its opening hours in a business calendar of its own, beside the
merchant's default one, and SLA clocks never pick it."""

import pytest
from django.db import IntegrityError, transaction

from aftersales.models import BusinessCalendar
from aftersales.services.calendars import calendar_create_default
from repairs.tests.factories import ServiceCentreFactory
from tickets.models import SlaPolicy
from tickets.sla import sla_calendar
from tickets.tests.factories import TicketFactory


def test_a_centre_has_its_own_calendar_beside_the_default_and_sla_keeps_the_default(world):
    default = calendar_create_default(merchant=world.merchant)
    hours = BusinessCalendar.objects.create(merchant=world.merchant, name="Xuhui opening hours", is_resource=True)
    centre = ServiceCentreFactory(merchant=world.merchant, calendar=hours)
    policy = SlaPolicy.objects.create(merchant=world.merchant, name="Standard", position=1, resolution_minutes=480)

    picked = sla_calendar(TicketFactory(merchant=world.merchant), policy)

    assert centre.calendar == hours
    assert picked == default


def test_a_merchant_still_has_one_default_calendar(world):
    calendar_create_default(merchant=world.merchant)

    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessCalendar.objects.create(merchant=world.merchant, name="Another default")
