"""A page that does not exist says so in the visitor's language, fits a phone, and leads back:
staff to their queue, a customer to the merchant's portal (Django's bare "Not Found" had no
way back, no viewport and no Chinese)."""

import pytest

from aftersales.tests.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def test_a_missing_case_in_the_portal_leads_back_to_the_merchants_orders_in_chinese(client):
    # Given a merchant's portal
    MerchantFactory(slug="trail-gear")

    # When a customer with a Chinese browser follows a link to a page that does not exist
    response = client.get("/portal/trail-gear/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-CN")

    # Then the page says so in Chinese, fits a phone and leads back to the portal's home
    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>找不到这个页面</h1>" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<a class="button button--primary" id="error-back" href="/portal/trail-gear/">返回我的订单</a>' in html


def test_an_unknown_merchant_in_the_portal_leads_to_the_portals_index(client):
    response = client.get("/portal/no-such-shop/", HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in html
    assert '<a class="button button--primary" id="error-back" href="/portal/">Customer service</a>' in html


def test_a_missing_page_of_the_dashboard_leads_staff_back_to_the_queue(client):
    # Given a signed-in agent
    agent = MembershipFactory(role="agent").user
    client.force_login(agent)

    # When they open a case number that does not exist
    response = client.get("/dashboard/tickets/XX-000001/", HTTP_ACCEPT_LANGUAGE="en")

    # Then the 404 leads back to the queue
    assert response.status_code == 404
    assert '<a class="button button--primary" id="error-back" href="/dashboard/">Back to the queue</a>' in (
        response.content.decode()
    )
