"""Factories for the kernel. Related rows always agree on their merchant."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from aftersales.models import ApiKey, Customer, Membership, Merchant, Order, OrderLine, Product, Store, User


class MerchantFactory(factory.django.DjangoModelFactory[Merchant]):
    class Meta:
        model = Merchant
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Merchant {n}")
    slug = factory.Sequence(lambda n: f"merchant-{n}")
    default_language = "en"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@staff.example.com")
    first_name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    merchant = factory.SubFactory(MerchantFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.AGENT


class StoreFactory(factory.django.DjangoModelFactory[Store]):
    class Meta:
        model = Store

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    platform = Store.Platform.TMALL
    external_id = factory.Sequence(lambda n: f"shop-{n}")


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = "apparel"
    warranty_months = 12


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    merchant = factory.SubFactory(MerchantFactory)
    store = factory.SubFactory(StoreFactory, merchant=factory.SelfAttribute("..merchant"))
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    external_number = factory.Sequence(lambda n: f"{100000 + n}")
    currency = "CNY"
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=5))
    shipped_at = factory.LazyAttribute(lambda o: o.placed_at + timedelta(days=1))
    delivered_at = factory.LazyAttribute(lambda o: o.placed_at + timedelta(days=3))
    contact_email = factory.SelfAttribute("customer.email")
    contact_phone = factory.SelfAttribute("customer.phone")


class OrderLineFactory(factory.django.DjangoModelFactory[OrderLine]):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    merchant = factory.SelfAttribute("order.merchant")
    product = factory.SubFactory(ProductFactory, merchant=factory.SelfAttribute("..merchant"))
    line_number = factory.Sequence(lambda n: str(n + 1))
    sku = factory.SelfAttribute("product.sku")
    name = factory.SelfAttribute("product.name")
    quantity = 2
    unit_price = Decimal("199.00")
    discount_amount = Decimal("0.00")


def api_key_for(merchant: Merchant, name: str = "test") -> tuple[ApiKey, str]:
    from aftersales.services.api_keys import api_key_create

    return api_key_create(merchant=merchant, name=name)
