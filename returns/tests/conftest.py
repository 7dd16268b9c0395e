"""Fixtures of the returns tests. The portal journey's: a shop (Trail Gear, in Shanghai) with its
policy and reasons, an order of a pair of shoes and socks delivered on 10 November, a client that
proved it, and day ten after delivery (request it with usefixtures("day_ten"))."""

from decimal import Decimal

import pytest
import time_machine

from aftersales.tests.factories import MerchantFactory
from returns.models import ReturnPolicy, ReturnReason
from returns.tests.builders import DAY_TEN, portal_order, sign_in_client


@pytest.fixture
def day_ten():
    with time_machine.travel(DAY_TEN, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shop(db):
    return MerchantFactory(name="Trail Gear", slug="trail-gear", default_language="en", timezone="Asia/Shanghai")


@pytest.fixture
def policy(shop):
    policy = ReturnPolicy.objects.create(merchant=shop, return_address="Trail Gear Returns\n88 Harbour Road, Ningbo")
    policy.rules.create(
        position=1,
        name="Damage: photos, no fee",
        match_reason_codes=["damaged"],
        window_days=30,
        allowed_resolutions=["refund", "exchange"],
        photos_required=True,
    )
    policy.rules.create(
        position=2,
        name="30 days, 10 % restocking",
        window_days=30,
        allowed_resolutions=["refund", "store_credit", "exchange"],
        restocking_fee_percent=Decimal("10"),
    )
    return policy


@pytest.fixture
def reasons(shop):
    quality = ReturnReason.objects.create(
        merchant=shop, code="quality", name="Quality problem", responsibility="merchant", position=1
    )
    return {
        "changed_mind": ReturnReason.objects.create(
            merchant=shop, code="changed_mind", name="Changed my mind", responsibility="customer", position=0
        ),
        "damaged": ReturnReason.objects.create(
            merchant=shop, code="damaged", name="Arrived damaged", responsibility="merchant", parent=quality, position=2
        ),
        "retired": ReturnReason.objects.create(
            merchant=shop, code="retired", name="Old reason", responsibility="customer", is_active=False
        ),
    }


@pytest.fixture
def order(shop, policy, reasons):
    return portal_order(shop)


@pytest.fixture
def shoes(order):
    return order.lines.get(line_number="1")


@pytest.fixture
def signed_in(client, order, django_capture_on_commit_callbacks):
    return sign_in_client(client, order, django_capture_on_commit_callbacks)
