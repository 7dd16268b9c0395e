"""The customer is told of each step on every channel the merchant has on and they can be reached
on — e-mail, SMS, WeChat — in their language, written in one insert and sent through the outbox."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from aftersales.models import Customer, Merchant, Notification
from aftersales.notifications.links import case_link_url
from aftersales.notifications.rendering import render_notification
from aftersales.tests.factories import StoreFactory, api_key_for
from returns.tests.builders import make_world, submit

pytestmark = pytest.mark.django_db

ALL_CHANNELS = ["email", "sms", "wechat"]
OPENID = "oX7a9-Kq3bVw1TzPn0s8LmEe2dYc"


def world_reachable_everywhere(*, language: str, channels=ALL_CHANNELS):
    world = make_world()
    Merchant.objects.filter(pk=world.merchant.pk).update(customer_channels=channels)
    Customer.objects.filter(pk=world.customer.pk).update(language=language, wechat_openid=OPENID)
    world.merchant.refresh_from_db()
    world.customer.refresh_from_db()
    world.order.customer = world.customer
    world.order.merchant = world.merchant
    return world


def created_rows(return_request) -> list[tuple[str, str, str]]:
    return list(
        Notification.objects.filter(ticket_id=return_request.ticket_id, template="ticket_created")
        .order_by("pk")
        .values_list("channel", "recipient", "language")
    )


def portal_url(merchant) -> str:
    return settings.SITE_URL + reverse("portal:home", kwargs={"merchant_slug": merchant.slug})


def test_a_customer_with_email_phone_and_wechat_gets_three_rows_in_their_language():
    world = world_reachable_everywhere(language="zh-hans")
    customer = world.customer

    return_request = submit(world)

    assert created_rows(return_request) == [
        ("email", customer.email, "zh-hans"),
        ("sms", customer.phone, "zh-hans"),
        ("wechat", OPENID, "zh-hans"),
    ]


def test_the_rows_of_all_channels_are_one_insert_and_cost_no_query_per_channel():
    # Given two merchants alike but for how far their customer can be reached (and a first
    # submission that warms whatever the process caches)
    submit(make_world())
    email_only = world_reachable_everywhere(language="en", channels=["email"])
    everywhere = world_reachable_everywhere(language="en")

    # When each customer submits a return
    with CaptureQueriesContext(connection) as one_channel:
        submit(email_only)
    with CaptureQueriesContext(connection) as three_channels:
        return_request = submit(everywhere)

    # Then three rows cost what one did: the same statements, and one insert into the outbox
    assert len(created_rows(return_request)) == 3
    assert len(three_channels.captured_queries) == len(one_channel.captured_queries)
    outbox = Notification._meta.db_table
    inserts = [q["sql"] for q in three_channels.captured_queries if q["sql"].startswith(f'INSERT INTO "{outbox}"')]
    assert len(inserts) == 1


@pytest.mark.parametrize(
    ("language", "subject", "short"),
    [
        (
            "zh-hans",
            "我们已收到您的售后申请 {number}",
            "【{merchant}】我们已收到您的售后申请 {number}，查看进度：{url}",
        ),
        (
            "en",
            "We have received your request {number}",
            "[{merchant}] We received your request {number}. Follow it at {url}",
        ),
    ],
)
def test_each_channel_is_delivered_through_the_outbox_in_the_customers_language(
    language, subject, short, caplog, django_capture_on_commit_callbacks
):
    # Given a customer reachable everywhere, and the logging SMS and WeChat backends (the defaults)
    world = world_reachable_everywhere(language=language)
    customer = world.customer

    # When they submit a return and the transaction commits (the worker runs eagerly), at one instant
    with (
        time_machine.travel(timezone.now(), tick=False),
        caplog.at_level("INFO", logger="aftersales.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return_request = submit(world)
        case_link = case_link_url(world.merchant.slug, return_request.ticket_id)

    # Then each row was sent on its own channel, in their language, with the number and the link
    # to the case (signed when sent)
    number = return_request.ticket.number
    text = short.format(merchant=world.merchant.name, number=number, url=case_link)
    rows = Notification.objects.filter(ticket_id=return_request.ticket_id, template="ticket_created")
    assert sorted(rows.values_list("channel", "state", "attempts")) == [
        ("email", "sent", 1),
        ("sms", "sent", 1),
        ("wechat", "sent", 1),
    ]
    assert [(m.to, m.subject) for m in mail.outbox] == [([customer.email], subject.format(number=number))]
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith(("SMS to", "WeChat to"))]
    assert logged == [f"SMS to {customer.phone}: {text}", f"WeChat to {OPENID}: {text}"]


def test_a_merchant_that_switches_sms_off_sends_no_sms():
    world = world_reachable_everywhere(language="en", channels=["email", "wechat"])

    return_request = submit(world)

    assert [row[0] for row in created_rows(return_request)] == ["email", "wechat"]
    assert not Notification.objects.filter(channel=Notification.Channel.SMS).exists()


def test_a_merchant_with_every_channel_off_writes_no_row():
    world = world_reachable_everywhere(language="en", channels=[])

    return_request = submit(world)

    assert created_rows(return_request) == []


def test_by_default_a_merchant_tells_customers_by_email_and_sms_not_wechat():
    world = make_world()
    Customer.objects.filter(pk=world.customer.pk).update(wechat_openid=OPENID)
    world.order.customer.refresh_from_db()

    return_request = submit(world)

    assert world.merchant.customer_channels == ["email", "sms"]
    assert [row[0] for row in created_rows(return_request)] == ["email", "sms"]


def test_a_customer_without_a_phone_gets_no_sms_whatever_the_merchant_allows():
    world = world_reachable_everywhere(language="en")
    Customer.objects.filter(pk=world.customer.pk).update(phone="")
    world.order.customer.refresh_from_db()

    return_request = submit(world)

    assert [row[0] for row in created_rows(return_request)] == ["email", "wechat"]


# --- the short texts ----------------------------------------------------------------------------

# Every template sent to customers through notify_customer, with what its context carries.
CUSTOMER_TEMPLATES = {
    "ticket_created": {},
    "ticket_reply": {"reply": "Please send a photo.", "agent_name": "Li Na"},
    "ticket_status": {"status": "Resolved", "status_code": "resolved"},
    "return_ship_instructions": {},
    "return_ship_reminder": {"ship_by": "2026-12-10 18:00"},
    "return_received": {"units": 2},
    "return_inspected": {"accepted": 1, "rejected": 1},
    "return_expired": {},
    "return_refunded": {"amount": "580.00", "currency": "CNY"},
    "return_approved": {"ship_by": "2026-12-10 18:00"},
    "return_rejected": {"reason": "The seal is broken.", "final": False, "revise_by": "2026-12-10 18:00"},
    "return_cancelled": {},
    "return_pickup_booked": {
        "carrier": "SF Express",
        "pickup_address": "12 Home St",
        "pickup_from": "2026-12-10 09:00",
        "pickup_until": "2026-12-10 11:00",
    },
    "return_store_credit_issued": {"amount": "580.00", "currency": "CNY"},
    "return_replacement_shipped": {"carrier": "SF Express", "tracking_number": "SF1234567890", "units": 2},
    "return_completed": {},
}


@pytest.mark.parametrize("template", sorted(CUSTOMER_TEMPLATES))
def test_every_customer_template_has_a_short_text_with_the_number_and_link_in_both_languages(template):
    url = "https://aftersales.example.com/portal/merchant-7/"
    context = {
        "customer_name": "王小明",
        "merchant_name": "Merchant 7",
        "ticket_number": "RT-000123",
        "ticket_subject": "Return: Tent × 1",
        "portal_url": url,
        **CUSTOMER_TEMPLATES[template],
    }

    english = render_notification(template, context, "en").short
    chinese = render_notification(template, context, "zh-hans").short

    for text in (english, chinese):
        assert "RT-000123" in text
        assert text.endswith(url)
    assert english != chinese  # translated
    assert len(english) <= 160  # one SMS in the GSM alphabet
    assert len(chinese.replace(url, "")) <= 70  # one SMS in UCS-2, before the link


# --- where the WeChat OpenID comes from -----------------------------------------------------------


def test_an_order_pushed_with_a_wechat_openid_keeps_it_on_the_customer():
    store = StoreFactory()
    _key, full_key = api_key_for(store.merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    placed = timezone.now() - timedelta(days=3)
    payload = {
        "store": store.pk,
        "number": "TB-0001",
        "placed_at": placed.isoformat(),
        "customer": {"name": "王小明", "phone": "138 0013 8000", "wechat_openid": f" {OPENID} "},
        "lines": [{"line_number": "1", "sku": "TENT-2P", "quantity": 1, "unit_price": "899.00"}],
    }

    response = client.post(reverse("api:order-list"), payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["customer"]["wechat_openid"] == OPENID
    customer = Customer.objects.get()
    assert (customer.phone, customer.wechat_openid) == ("+8613800138000", OPENID)
    detail = client.get(reverse("api:customer-detail", args=[customer.pk]))
    assert detail.json()["wechat_openid"] == OPENID


def test_a_later_push_updates_the_openid_and_an_empty_one_keeps_it():
    store = StoreFactory()
    _key, full_key = api_key_for(store.merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    placed = timezone.now() - timedelta(days=3)

    def push(openid):
        payload = {
            "store": store.pk,
            "number": "TB-0001",
            "placed_at": placed.isoformat(),
            "customer": {"email": "buyer@example.com", "wechat_openid": openid},
            "lines": [{"line_number": "1", "sku": "TENT-2P", "quantity": 1, "unit_price": "899.00"}],
        }
        return client.post(reverse("api:order-list"), payload, format="json")

    assert push("first-openid").status_code == 201
    assert push("second-openid").status_code == 200
    assert Customer.objects.get().wechat_openid == "second-openid"
    assert push("").status_code == 200
    assert Customer.objects.get().wechat_openid == "second-openid"


def test_the_admin_edits_the_merchants_channels_as_boxes(admin_client):
    world = make_world()
    url = reverse("admin:aftersales_merchant_change", args=[world.merchant.pk])
    page = admin_client.get(url).content.decode()
    assert 'type="checkbox" name="customer_channels" value="wechat"' in page

    form = {
        "name": world.merchant.name,
        "slug": world.merchant.slug,
        "timezone": "Asia/Shanghai",
        "currency": "CNY",
        "default_language": "en",
        "customer_channels": ["wechat", "email"],
        "is_active": "on",
        "stores-TOTAL_FORMS": "0",
        "stores-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    world.merchant.refresh_from_db()
    assert world.merchant.customer_channels == ["email", "wechat"]
