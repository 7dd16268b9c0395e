"""The repairs tests' world: Aqua Home (Shanghai) sells a kitchen tap with split warranty coverage
(parts 12 months, labour 6, on-site travel 6, the ceramic cartridge 60), delivered on 10 March 2026
at 10:00 local time through the order intake with its serial number."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from aftersales.models import Customer, Membership, Merchant, Order, OrderLine, Product, User
from aftersales.services.orders import CustomerInput, OrderInput, OrderLineInput, order_upsert
from aftersales.tests.factories import MembershipFactory, MerchantFactory, ProductFactory, StoreFactory, UserFactory
from aftersales.tests.races import race  # noqa: F401 — the repairs tests race through this module
from repairs.models import RepairMode, RepairOrder, RepairPolicy, WarrantyRegistration, WarrantyTerm
from repairs.services import repair_request_create
from repairs.tests.factories import RepairPolicyFactory, WarrantyCoverageFactory, WarrantyTermFactory

# 10 March 2026, 10:00 in Shanghai.
DELIVERED = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
SERIAL = "TAP-0001"


@dataclass
class World:
    merchant: Merchant
    policy: RepairPolicy
    term: WarrantyTerm
    product: Product
    order: Order
    line: OrderLine
    customer: Customer
    registration: WarrantyRegistration
    agent: User
    supervisor: User
    technician: User


def staff(merchant, role):
    user = UserFactory(username=f"{merchant.slug}-{role}")
    MembershipFactory(merchant=merchant, user=user, role=role)
    return user


def build_world(slug="aqua-home", serial=SERIAL, category="appliances"):
    merchant = MerchantFactory(name="Aqua Home", slug=slug, timezone="Asia/Shanghai", default_language="en")
    policy = RepairPolicyFactory(
        merchant=merchant,
        sanbao_categories=["appliances"],
        goodwill_limit_agent=Decimal("100.00"),
        goodwill_limit_supervisor=Decimal("500.00"),
        inspection_fee=Decimal("50.00"),
        tax_rate=Decimal("0.1300"),
    )
    term = WarrantyTermFactory(merchant=merchant, name="Tap warranty", category=category)
    WarrantyCoverageFactory(term=term, kind="parts", months=12)
    WarrantyCoverageFactory(term=term, kind="labour", months=6)
    WarrantyCoverageFactory(term=term, kind="travel", months=6)
    WarrantyCoverageFactory(term=term, kind="component", component="cartridge", months=60)
    product = ProductFactory(merchant=merchant, sku="TAP-1", name="Kitchen tap", category=category, serialized=True)
    store = StoreFactory(merchant=merchant)
    order = order_upsert(
        merchant=merchant,
        data=OrderInput(
            store_id=store.pk,
            number=f"AQ-{slug}",
            customer=CustomerInput(name="Li Wei", email=f"li.wei@{slug}.example.com", phone="+8613912345678"),
            lines=[
                OrderLineInput(
                    line_number="1",
                    sku="TAP-1",
                    name="Kitchen tap",
                    quantity=1,
                    unit_price=Decimal("899.00"),
                    serial_numbers=[serial],
                )
            ],
            placed_at=datetime(2026, 3, 7, 2, 0, tzinfo=UTC),
            shipped_at=datetime(2026, 3, 8, 2, 0, tzinfo=UTC),
            delivered_at=DELIVERED,
        ),
    ).order
    line = order.lines.get()
    return World(
        merchant=merchant,
        policy=policy,
        term=term,
        product=product,
        order=order,
        line=line,
        customer=order.customer,
        registration=WarrantyRegistration.objects.get(merchant=merchant, serial_number=serial),
        agent=staff(merchant, Membership.Role.AGENT),
        supervisor=staff(merchant, Membership.Role.SUPERVISOR),
        technician=staff(merchant, Membership.Role.TECHNICIAN),
    )


def request_repair(world: World, *, mode: str = RepairMode.MAIL_IN, remedy: str = "repair", **kwargs) -> RepairOrder:
    centre = kwargs.pop("service_centre", None)
    return repair_request_create(
        customer=world.customer,
        product=world.product,
        registration=world.registration,
        mode=mode,
        fault_description=kwargs.pop("fault_description", "The tap sprays water from the base."),
        remedy_wanted=remedy,
        address=kwargs.pop("address", "8 Fuxing Road, Shanghai" if mode == RepairMode.ON_SITE else ""),
        service_centre=centre,
        **kwargs,
    )
