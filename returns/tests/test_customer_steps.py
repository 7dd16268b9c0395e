"""Every step of a return the customer should hear of sends a message on their channels in their
language (``returns.timeline.CUSTOMER_MESSAGES`` lists them). The steps told before this table
existed are tested where they happen (test_logistics, test_refunds, test_lost_parcels, …); the
steps below were silent until then."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from aftersales.models import Customer, Merchant, Notification
from aftersales.notifications.rendering import render_notification
from returns.models import ReturnStatus
from returns.services import (
    exchange_ship,
    return_pickup_book,
    return_request_approve,
    return_request_cancel,
    return_request_escalate,
    return_request_reject,
    return_request_settle,
    return_shipping_choose,
)
from returns.tests.builders import approved_return, drive, make_world, settlement_setup, submit
from returns.timeline import CUSTOMER_MESSAGES, ReturnVerb

pytestmark = pytest.mark.django_db

NOTIFICATIONS_DIR = Path(settings.BASE_DIR) / "templates" / "notifications"
CHANNELS = ["email", "sms", "wechat"]


def reachable_everywhere(merchant, customer, *, language: str) -> None:
    Merchant.objects.filter(pk=merchant.pk).update(customer_channels=CHANNELS)
    Customer.objects.filter(pk=customer.pk).update(language=language, wechat_openid="oX7a9-openid")
    merchant.refresh_from_db()
    customer.refresh_from_db()


def told(return_request, template: str) -> list[tuple[str, str]]:
    """(channel, language) of each row of ``template`` written for the return's case."""
    return list(
        Notification.objects.filter(ticket_id=return_request.ticket_id, template=template)
        .order_by("pk")
        .values_list("channel", "language")
    )


def context_of(return_request, template: str) -> dict:
    return Notification.objects.get(ticket_id=return_request.ticket_id, template=template, channel="email").context


def everywhere_in(language: str) -> list[tuple[str, str]]:
    return [(channel, language) for channel in CHANNELS]


# --- the table ---------------------------------------------------------------------------------------


def test_every_step_of_a_return_is_placed_in_the_table_of_customer_messages():
    assert set(CUSTOMER_MESSAGES) == set(ReturnVerb.values)


@pytest.mark.parametrize("template", sorted({t for t in CUSTOMER_MESSAGES.values() if t}))
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_customer_message_of_the_table_has_its_template_in_both_languages(template, language):
    for part in ("subject.txt", "body.txt", "short.txt"):
        assert (NOTIFICATIONS_DIR / template / part).is_file(), f"{template}/{part}"

    rendered = render_notification(
        template, {"ticket_number": "RT-000001", "merchant_name": "Trail Gear", "units": 1}, language
    )

    assert "RT-000001" in rendered.subject + rendered.short + rendered.body
    if language == "zh-hans":
        assert any("\u4e00" <= char <= "\u9fff" for char in rendered.subject), rendered.subject


# --- the steps that were silent --------------------------------------------------------------------


def test_an_approved_return_tells_the_customer_to_send_it_back_by_the_ship_by_day():
    world = make_world()
    reachable_everywhere(world.merchant, world.customer, language="en")

    return_request = drive(world, submit(world), ReturnStatus.APPROVED)

    assert told(return_request, "return_approved") == everywhere_in("en")
    ship_by = return_request.ticket.deadlines.get(kind="return.customer_ship").due_at
    assert context_of(return_request, "return_approved")["ship_by"] == timezone.localtime(
        ship_by, timezone=__import__("zoneinfo").ZoneInfo(world.merchant.timezone)
    ).strftime("%Y-%m-%d %H:%M")


def test_an_approved_refund_only_claim_tells_the_customer_nothing_is_to_be_sent_back():
    setup = settlement_setup()
    reachable_everywhere(setup["merchant"], setup["order"].customer, language="zh-hans")

    return_request = approved_return(setup, resolution="refund_only")

    assert told(return_request, "return_approved") == everywhere_in("zh-hans")
    context = context_of(return_request, "return_approved")
    assert context["ship_by"] == ""
    body = render_notification("return_approved", context, "zh-hans").body
    assert "无需寄回" in body


def test_a_declined_return_tells_the_customer_why_and_until_when_they_can_revise():
    world = make_world()
    reachable_everywhere(world.merchant, world.customer, language="en")

    return_request = drive(world, submit(world), ReturnStatus.REJECTED)

    assert told(return_request, "return_rejected") == everywhere_in("en")
    context = context_of(return_request, "return_rejected")
    assert context["reason"] == "The seal is broken."
    assert context["final"] is False
    assert context["revise_by"] != ""
    body = render_notification("return_rejected", context, "en").body
    assert "The seal is broken." in body
    assert f"Until {context['revise_by']} you can revise" in body


def test_a_supervisors_final_refusal_tells_the_customer_it_is_final():
    world = make_world()
    reachable_everywhere(world.merchant, world.customer, language="en")
    return_request = drive(world, submit(world), ReturnStatus.REJECTED)
    return_request_escalate(return_request=return_request, customer=world.customer, note="It was sealed.")

    return_request_reject(return_request=return_request, actor=world.supervisor, reason="Worn outside.")

    rows = told(return_request, "return_rejected")
    assert rows == everywhere_in("en") * 2
    final = Notification.objects.filter(ticket_id=return_request.ticket_id, template="return_rejected").last()
    assert final.context["final"] is True
    assert "it is final" in render_notification("return_rejected", final.context, "en").body


def test_a_cancelled_return_tells_the_customer():
    world = make_world()
    reachable_everywhere(world.merchant, world.customer, language="zh-hans")
    return_request = submit(world)

    return_request_cancel(return_request=return_request, customer=world.customer)

    assert told(return_request, "return_cancelled") == everywhere_in("zh-hans")


def test_a_booked_pickup_tells_the_customer_the_carrier_and_the_slot():
    world = make_world()
    reachable_everywhere(world.merchant, world.customer, language="en")
    return_request = drive(world, submit(world), ReturnStatus.APPROVED)
    start = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    return_shipping_choose(
        return_request=return_request,
        method="pickup",
        customer=world.customer,
        pickup_address="12 Home St",
        pickup_slot_start=start,
        pickup_slot_end=start + timedelta(hours=2),
    )

    return_pickup_book(return_request=return_request, actor=world.agent, carrier="SF Express", reference="P-1")

    assert told(return_request, "return_pickup_booked") == everywhere_in("en")
    context = context_of(return_request, "return_pickup_booked")
    assert context["carrier"] == "SF Express"
    assert context["pickup_address"] == "12 Home St"


def test_store_credit_and_the_completed_return_are_each_told_once():
    setup = settlement_setup()
    reachable_everywhere(setup["merchant"], setup["order"].customer, language="en")
    return_request = approved_return(setup, resolution="store_credit", status=ReturnStatus.RECEIVED)

    return_request_settle(return_request=return_request, actor=setup["supervisor"])

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.COMPLETED
    assert told(return_request, "return_store_credit_issued") == everywhere_in("en")
    assert context_of(return_request, "return_store_credit_issued")["amount"] == "580.00"
    assert told(return_request, "return_completed") == everywhere_in("en")


def test_a_shipped_replacement_and_the_completed_exchange_are_each_told_once():
    setup = settlement_setup()
    reachable_everywhere(setup["merchant"], setup["order"].customer, language="zh-hans")
    return_request = approved_return(setup, resolution="exchange", status=ReturnStatus.RECEIVED)
    return_request_settle(return_request=return_request, actor=setup["supervisor"])
    assert told(return_request, "return_replacement_shipped") == []

    exchange_ship(
        return_request=return_request, actor=setup["supervisor"], carrier="SF Express", tracking_number="SF123456"
    )

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.COMPLETED
    assert told(return_request, "return_replacement_shipped") == everywhere_in("zh-hans")
    context = context_of(return_request, "return_replacement_shipped")
    assert (context["carrier"], context["tracking_number"], context["units"]) == ("SF Express", "SF123456", 2)
    assert told(return_request, "return_completed") == everywhere_in("zh-hans")


def test_a_refused_step_tells_the_customer_nothing():
    world = make_world()
    return_request = drive(world, submit(world), ReturnStatus.APPROVED)
    before = Notification.objects.count()

    with pytest.raises(Exception, match="cannot become"):
        return_request_approve(return_request=return_request, actor=world.agent)

    assert Notification.objects.count() == before
