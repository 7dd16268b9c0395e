"""Customers, products and stores through the API, and the API's published schema."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.models import Customer
from aftersales.tests.factories import (
    CustomerFactory,
    MembershipFactory,
    MerchantFactory,
    ProductFactory,
    StoreFactory,
    api_key_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant():
    return MerchantFactory()


@pytest.fixture
def client(merchant):
    _key, full_key = api_key_for(merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    return client


def _ids(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return [row["id"] for row in response.json()["results"]]


def test_customers_list_newest_first_and_filter_by_email_phone_and_q(client, merchant):
    wang = CustomerFactory(merchant=merchant, name="王小明", email="xiaoming@example.com", phone="+8613800138000")
    li = CustomerFactory(merchant=merchant, name="Li Lei", email="lilei@example.com", phone="+8613900139000")

    assert _ids(client, "api:customer-list") == [li.pk, wang.pk]
    assert _ids(client, "api:customer-list", email="XiaoMing@Example.com") == [wang.pk]
    assert _ids(client, "api:customer-list", phone="139 0013 9000") == [li.pk]
    assert _ids(client, "api:customer-list", phone="not a phone") == []
    assert _ids(client, "api:customer-list", q="小明") == [wang.pk]
    assert _ids(client, "api:customer-list", q="lilei@") == [li.pk]


def test_a_customer_reads_with_contact_and_tier(client, merchant):
    customer = CustomerFactory(merchant=merchant, tier=Customer.Tier.VIP)

    response = client.get(reverse("api:customer-detail", kwargs={"customer_id": customer.pk}))

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["email"], body["phone"], body["tier"]) == (
        customer.pk,
        customer.email,
        customer.phone,
        "vip",
    )


def test_an_unknown_customer_is_404(client):
    response = client.get(reverse("api:customer-detail", kwargs={"customer_id": 999999}))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_products_filter_by_sku_and_category(client, merchant):
    tent = ProductFactory(merchant=merchant, sku="TENT-2P", category="tents")
    mat = ProductFactory(merchant=merchant, sku="MAT-XL", category="mats")

    assert _ids(client, "api:product-list") == [mat.pk, tent.pk]
    assert _ids(client, "api:product-list", sku="TENT-2P") == [tent.pk]
    assert _ids(client, "api:product-list", category="mats") == [mat.pk]


def test_a_product_reads_with_its_warranty(client, merchant):
    product = ProductFactory(merchant=merchant, warranty_months=24, serialized=True)

    response = client.get(reverse("api:product-detail", kwargs={"product_id": product.pk}))

    assert response.status_code == 200
    assert (response.json()["sku"], response.json()["warranty_months"], response.json()["serialized"]) == (
        product.sku,
        24,
        True,
    )


def test_stores_list_the_merchants_stores(client, merchant):
    tmall = StoreFactory(merchant=merchant, name="Tmall flagship")

    response = client.get(reverse("api:store-list"))

    assert response.status_code == 200
    assert [(row["id"], row["name"], row["platform"]) for row in response.json()["results"]] == [
        (tmall.pk, "Tmall flagship", "tmall")
    ]


def test_staff_read_the_catalogue_of_their_merchant(merchant):
    product = ProductFactory(merchant=merchant)
    client = APIClient()
    client.force_login(MembershipFactory(merchant=merchant).user)

    assert _ids(client, "api:product-list") == [product.pk]


def test_the_catalogue_needs_credentials(merchant):
    ProductFactory(merchant=merchant)

    assert APIClient().get(reverse("api:product-list")).status_code == 401


def test_the_openapi_schema_and_the_docs_page_are_served(client):
    schema = client.get(reverse("api-schema"), {"format": "json"})
    docs = APIClient().get(reverse("api-docs"))

    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {
        "/api/v1/tickets/",
        "/api/v1/tickets/{number}/",
        "/api/v1/tickets/{number}/messages/",
        "/api/v1/tickets/{number}/assign/",
        "/api/v1/tickets/{number}/status/",
        "/api/v1/tickets/{number}/priority/",
        "/api/v1/tickets/{number}/tags/",
        "/api/v1/orders/",
        "/api/v1/orders/{order_id}/",
        "/api/v1/customers/",
        "/api/v1/customers/{customer_id}/",
        "/api/v1/products/",
        "/api/v1/products/{product_id}/",
        "/api/v1/stores/",
    } <= set(paths)
    assert "ApiKeyAuth" in schema.json()["components"]["securitySchemes"]
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_a_key_beyond_its_rate_gets_429_while_staff_are_not_throttled(client, merchant, monkeypatch):
    from django.core.cache.backends.locmem import LocMemCache

    from aftersales.api.views import ApiKeyRateThrottle

    # A private cache: the suite's Redis may be flushed by a test running beside this one.
    monkeypatch.setattr(ApiKeyRateThrottle, "cache", LocMemCache("api-throttle-test", {}))
    monkeypatch.setattr(ApiKeyRateThrottle, "rate", "2/min", raising=False)
    staff = APIClient()
    staff.force_login(MembershipFactory(merchant=merchant).user)

    answers = [client.get(reverse("api:store-list")).status_code for _ in range(3)]
    staff_answers = [staff.get(reverse("api:store-list")).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    assert client.get(reverse("api:store-list")).json()["error"]["code"] == "throttled"
    assert staff_answers == [200, 200, 200]
