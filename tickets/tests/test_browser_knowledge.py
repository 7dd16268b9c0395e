"""Deflection in a real browser (Debian's Chromium driven by Playwright), on a phone-sized screen:
while the customer types a new request, the best article shows; "this answered my question" ends
the flow without a ticket. And an agent puts an article's link in a reply from the ticket page."""

import re

import pytest
from django.core import mail

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, OrderFactory, OrderLineFactory
from tickets.models import ArticleLanguage, Deflection, Ticket, TicketChannel, TicketKind
from tickets.services import article_create, article_publish, ticket_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code_from_last_mail() -> str:
    found = re.search(r"^\s*(\d{6})\s*$", str(mail.outbox[-1].body), re.MULTILINE)
    assert found is not None, "no code in the last mail"
    return found.group(1)


@pytest.fixture
def shop():
    merchant = MerchantFactory(slug="kb-shop", name="Trail Gear", default_language="zh-hans")
    order = OrderFactory(merchant=merchant, external_number="KB-1001", customer__email="lin@example.com")
    OrderLineFactory(order=order, name="Tent", quantity=1)
    admin_user = MembershipFactory(
        merchant=merchant, role=Membership.Role.MERCHANT_ADMIN, user__username="kbadmin"
    ).user
    article = article_create(
        merchant=merchant,
        actor=admin_user,
        language=ArticleLanguage.ZH_HANS,
        title="如何申请退货",
        body="在订单页面点击申请退货，选择原因并上传照片。",
    )
    article_publish(article=article, actor=admin_user)
    return merchant, order, admin_user


def test_the_best_article_shows_while_typing_and_answers_the_question_without_a_ticket(live_server, browser, shop):
    merchant, order, _ = shop
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/portal/kb-shop/")
    page.fill("input[name=order_number]", "KB-1001")
    page.fill("input[name=contact]", "lin@example.com")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/portal/kb-shop/verify/"))
    page.fill("input[name=code]", _code_from_last_mail())
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(rf"/portal/kb-shop/orders/{order.pk}/"))

    page.goto(f"{live_server.url}/portal/kb-shop/orders/{order.pk}/new/")
    page.fill("input[name=subject]", "怎么申请退货")
    suggestion = page.locator("#help-suggestions .help-result__title")
    suggestion.first.wait_for(timeout=10_000)
    assert suggestion.first.inner_text() == "如何申请退货"
    page.locator("#help-suggestions").get_by_role("button", name="这解决了我的问题").first.click()
    page.wait_for_url(re.compile(rf"/portal/kb-shop/orders/{order.pk}/$"))

    assert Ticket.objects.filter(merchant=merchant).count() == 0
    deflection = Deflection.objects.get()
    assert (deflection.query, deflection.order_id) == ("怎么申请退货", order.pk)


def test_an_agent_inserts_an_article_link_into_a_reply(live_server, browser, shop):
    merchant, order, admin_user = shop
    admin_user.set_password("pass-word-123")
    admin_user.save()
    ticket = ticket_create(
        merchant=merchant,
        kind=TicketKind.SUPPORT,
        subject="退货",
        body="怎么退？",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
    )
    staff = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 900})
    staff.goto(f"{live_server.url}/dashboard/login/")
    staff.fill("input[name=username]", "kbadmin")
    staff.fill("input[name=password]", "pass-word-123")
    staff.locator("form button[type=submit]").first.click()
    staff.wait_for_url(re.compile(r"/dashboard/$"))
    staff.goto(f"{live_server.url}/dashboard/tickets/{ticket.number}/")

    staff.locator(".kb-insert summary").click()
    staff.fill("#kb-insert-q", "申请退货")
    staff.locator(".kb-insert__results button").first.click()

    reply = staff.locator(".kb-insert").locator("xpath=ancestor::form").locator("textarea[name=body]")
    value = reply.input_value()
    assert value.startswith("如何申请退货: http")
    assert re.search(r"/portal/kb-shop/help/articles/\d+/$", value)
