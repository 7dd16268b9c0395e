"""Factories for repairs. Related rows always agree on their merchant."""

from decimal import Decimal

import factory
from django.utils import timezone

from aftersales.tests.factories import CustomerFactory, MerchantFactory, OrderLineFactory, ProductFactory
from repairs.models import (
    DiagnosisCode,
    LocationKind,
    Part,
    PartStock,
    RegistrationSource,
    RepairMode,
    RepairOrder,
    RepairPolicy,
    Responsibility,
    ServiceCentre,
    StockLocation,
    WarrantyCoverage,
    WarrantyRegistration,
    WarrantyTerm,
)
from tickets.models import TicketKind
from tickets.tests.factories import TicketFactory


class RepairPolicyFactory(factory.django.DjangoModelFactory[RepairPolicy]):
    class Meta:
        model = RepairPolicy
        django_get_or_create = ("merchant",)

    merchant = factory.SubFactory(MerchantFactory)
    sanbao_categories = factory.LazyFunction(lambda: ["appliances"])


class WarrantyTermFactory(factory.django.DjangoModelFactory[WarrantyTerm]):
    class Meta:
        model = WarrantyTerm

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Warranty {n}")
    category = "appliances"
    exclusions = factory.LazyFunction(lambda: ["user_damage", "liquid"])


class WarrantyCoverageFactory(factory.django.DjangoModelFactory[WarrantyCoverage]):
    class Meta:
        model = WarrantyCoverage

    term = factory.SubFactory(WarrantyTermFactory)
    kind = "parts"
    months = 12


class ServiceCentreFactory(factory.django.DjangoModelFactory[ServiceCentre]):
    class Meta:
        model = ServiceCentre

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Service centre {n}")
    address = "1 Nanjing Road, Shanghai"
    opening_hours_note = "Mon–Sat 9:00–18:00"


class RegistrationFactory(factory.django.DjangoModelFactory[WarrantyRegistration]):
    class Meta:
        model = WarrantyRegistration

    merchant = factory.SubFactory(MerchantFactory)
    product = factory.SubFactory(
        ProductFactory, merchant=factory.SelfAttribute("..merchant"), category="appliances", serialized=True
    )
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    source = RegistrationSource.STAFF
    delivered_at = factory.LazyFunction(timezone.now)


class RepairOrderFactory(factory.django.DjangoModelFactory[RepairOrder]):
    class Meta:
        model = RepairOrder

    merchant = factory.SubFactory(MerchantFactory)
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    ticket = factory.SubFactory(
        TicketFactory,
        merchant=factory.SelfAttribute("..merchant"),
        customer=factory.SelfAttribute("..customer"),
        kind=TicketKind.REPAIR,
    )
    order_line = factory.SubFactory(
        OrderLineFactory,
        merchant=factory.SelfAttribute("..merchant"),
        order__merchant=factory.SelfAttribute("...merchant"),
        order__customer=factory.SelfAttribute("...customer"),
        product=factory.SelfAttribute("..product"),
    )
    product = factory.SubFactory(ProductFactory, merchant=factory.SelfAttribute("..merchant"), category="appliances")
    mode = RepairMode.MAIL_IN
    fault_description = "It does not start."
    requested_at = factory.LazyFunction(timezone.now)


class DiagnosisCodeFactory(factory.django.DjangoModelFactory[DiagnosisCode]):
    class Meta:
        model = DiagnosisCode

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = "Product defect"
    responsibility = Responsibility.PRODUCT_DEFECT


class PartFactory(factory.django.DjangoModelFactory[Part]):
    class Meta:
        model = Part

    merchant = factory.SubFactory(MerchantFactory)
    part_number = factory.Sequence(lambda n: f"P-{n:05d}")
    name = "Washer"
    cost = Decimal("3.00")
    price = Decimal("8.00")


class StockLocationFactory(factory.django.DjangoModelFactory[StockLocation]):
    class Meta:
        model = StockLocation

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    kind = LocationKind.WAREHOUSE


class PartStockFactory(factory.django.DjangoModelFactory[PartStock]):
    class Meta:
        model = PartStock

    merchant = factory.SubFactory(MerchantFactory)
    location = factory.SubFactory(StockLocationFactory, merchant=factory.SelfAttribute("..merchant"))
    part = factory.SubFactory(PartFactory, merchant=factory.SelfAttribute("..merchant"))
    on_hand = 5
