"""Factories of dispatch's tests: technicians with a working calendar, on-site repairs to visit.

(Named apart from ``factories.py``, which the warranty and repair-order tests own.)"""

from datetime import UTC, datetime
from decimal import Decimal

import factory

from aftersales.models import BusinessCalendar, Membership, WorkingHours
from aftersales.tests.factories import CustomerFactory, MembershipFactory, MerchantFactory, ProductFactory, UserFactory
from repairs.models import RepairMode, RepairOrder, RepairStatus, TechnicianProfile, Visit
from tickets.models import TicketKind
from tickets.tests.factories import TicketFactory


def working_calendar(merchant, *, name="Technicians 8-18", start_hour=8, end_hour=18, weekdays=range(7)):
    calendar = BusinessCalendar.objects.create(
        merchant=merchant, name=name, timezone=merchant.timezone, is_resource=True
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(calendar=calendar, weekday=day, start_minute=start_hour * 60, end_minute=end_hour * 60)
        for day in weekdays
    )
    return calendar


class TechnicianFactory(factory.django.DjangoModelFactory[TechnicianProfile]):
    class Meta:
        model = TechnicianProfile
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory)
    skills = factory.LazyFunction(lambda: {"taps": 2})
    areas = factory.LazyFunction(lambda: ["200001"])
    home_latitude = Decimal("31.230000")
    home_longitude = Decimal("121.470000")
    daily_capacity = 8

    @factory.post_generation
    def membership(obj, create, extracted, **kwargs):  # noqa: N805 -- factory-boy hands the built object
        if create:
            MembershipFactory(merchant=obj.merchant, user=obj.user, role=Membership.Role.TECHNICIAN)


class OnSiteRepairFactory(factory.django.DjangoModelFactory[RepairOrder]):
    """An on-site repair of a tap, in warranty, at an address in postal code 200001."""

    class Meta:
        model = RepairOrder

    merchant = factory.SubFactory(MerchantFactory)
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    ticket = factory.SubFactory(
        TicketFactory,
        merchant=factory.SelfAttribute("..merchant"),
        customer=factory.SelfAttribute("..customer"),
        kind=TicketKind.REPAIR,
        number=factory.Sequence(lambda n: f"RP-{700000 + n:06d}"),
    )
    product = factory.SubFactory(ProductFactory, merchant=factory.SelfAttribute("..merchant"), category="taps")
    mode = RepairMode.ON_SITE
    status = RepairStatus.IN_WARRANTY
    fault_description = "The kitchen tap sprays water."
    requested_at = factory.LazyFunction(lambda: datetime(2026, 6, 1, 2, 0, tzinfo=UTC))
    address = "12 Nanjing Road, Huangpu"
    district = "Huangpu"
    postal_code = "200001"
    latitude = Decimal("31.240000")
    longitude = Decimal("121.490000")


class VisitFactory(factory.django.DjangoModelFactory[Visit]):
    class Meta:
        model = Visit

    repair = factory.SubFactory(OnSiteRepairFactory)
    merchant = factory.SelfAttribute("repair.merchant")
    technician = factory.SubFactory(TechnicianFactory, merchant=factory.SelfAttribute("..merchant"))
