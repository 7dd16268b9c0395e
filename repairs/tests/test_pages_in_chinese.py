"""The warranty answer on the repair pages reads in the reader's language: each coverage by its
label (not its code), the 三包 floor in words, and the snapshot taken at triage said again in
Chinese for a Chinese reader, though an English-speaking agent triaged it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from aftersales.portal import portal_grant
from repairs.tests.builders import request_repair

SHANGHAI = ZoneInfo("Asia/Shanghai")
A_MONTH_ON = datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def month_on():
    with time_machine.travel(A_MONTH_ON, tick=False):
        yield


def _portal_client(client, order):
    """A browser that proved the order (as the one-time code does)."""
    request = RequestFactory().get("/")
    request.session = client.session
    portal_grant(request, merchant=order.merchant, order=order)
    request.session.save()
    client.cookies["sessionid"] = request.session.session_key
    return client


@pytest.mark.usefixtures("month_on")
def test_the_repair_request_page_names_each_coverage_by_its_label_in_chinese(client, world):
    # Given a customer who proved the order, with a Chinese browser
    _portal_client(client, world.order)

    # When they open the repair request for the line
    page = client.get(
        reverse("portal:repair_request", args=[world.merchant.slug, world.line.pk]), HTTP_ACCEPT_LANGUAGE="zh-CN"
    )

    # Then each coverage is named by its label and no code shows
    html = page.content.decode()
    assert page.status_code == 200
    assert "<li>工时：保修期至 2026-09-10 当天结束。</li>" in html
    assert "labour:" not in html
    assert "free_repair" not in html
    assert "return_7_days" not in html


@pytest.mark.usefixtures("month_on")
def test_a_repair_triaged_in_english_shows_its_warranty_in_chinese_to_a_chinese_reader(client, world):
    # Given a repair whose warranty answer was taken while English was active
    with translation.override("en"):
        repair = request_repair(world)
    assert "In warranty until the end of 2027-03-10." in str(repair.eligibility)
    client.force_login(world.agent)

    # When a Chinese-speaking agent opens its case
    page = client.get(reverse("dashboard:ticket", args=[repair.ticket.number]), HTTP_ACCEPT_LANGUAGE="zh-CN")

    # Then the coverage table says it in Chinese, naming each coverage by its label
    html = page.content.decode()
    assert page.status_code == 200
    assert "<td>保修期至 2027-03-10 当天结束。</td>" in html
    assert "<td>工时</td>" in html
    assert "In warranty until the end of" not in html


@pytest.mark.usefixtures("month_on")
def test_a_customers_active_registration_reads_as_in_force_not_as_work_under_way(client, world):
    # Given a customer's registration in force (its status is "active")
    from repairs.tests.factories import RegistrationFactory

    RegistrationFactory(
        merchant=world.merchant, product=world.product, customer=world.customer, serial_number="TAP-0099"
    )
    _portal_client(client, world.order)

    # When they open their registrations with a Chinese browser
    page = client.get(reverse("portal:repair_registrations", args=[world.merchant.slug]), HTTP_ACCEPT_LANGUAGE="zh-CN")

    # Then it reads 有效 (in force), not 进行中 (under way), which is the tickets' "Active"
    html = page.content.decode()
    assert page.status_code == 200
    assert f"{world.product.name} · TAP-0099 · 有效</li>" in html
    assert "进行中" not in html
