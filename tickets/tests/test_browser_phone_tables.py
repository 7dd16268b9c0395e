"""On a phone (390×844, Chinese) a wide dashboard table neither squeezes each column to one
character a line nor hides its figures off the screen: a wide table scrolls sideways inside its
wrapper, and a list a person reads row by row (the knowledge base) turns into one card a row, and
the page itself never gets wider than the screen. Looked at in Chromium; the screenshot is kept
in test-artifacts."""

from pathlib import Path

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from tickets.models import ArticleLanguage
from tickets.services import article_create, article_publish

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_knowledge_base_list_scrolls_sideways_on_a_phone_instead_of_squeezing(live_server, browser):
    # Given a merchant admin with a Chinese article whose category name is Chinese
    merchant = MerchantFactory(slug="kb-phone", name="Trail Gear", default_language="zh-hans")
    admin_user = MembershipFactory(
        merchant=merchant, role=Membership.Role.MERCHANT_ADMIN, user__username="kbphone"
    ).user
    article = article_create(
        merchant=merchant,
        actor=admin_user,
        language=ArticleLanguage.ZH_HANS,
        title="保修期内的维修怎么申请？",
        body="在订单页面点击申请维修。",
    )
    article_publish(article=article, actor=admin_user)

    # When they open the knowledge base on a phone
    page = browser.new_page(locale="zh-CN", viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/dashboard/login/")
    page.fill("input[name=username]", "kbphone")
    page.fill("input[name=password]", "pass-word-123")
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/dashboard/")
    page.goto(f"{live_server.url}/dashboard/knowledge/")
    table = page.locator("#articles")
    table.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-knowledge-phone.png"), full_page=True)

    # Then the title keeps a readable width (one line of the status badge, not a character a line),
    # the article is one card whose every cell is on the screen (none scrolled off it), and the
    # page is no wider than the phone
    title_cell = page.locator("#articles tbody td").first.bounding_box()
    assert title_cell is not None
    assert title_cell["width"] >= 100
    cells = page.locator("#articles tbody tr").first.locator("td")
    assert cells.count() >= 4
    for index in range(cells.count()):
        box = cells.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
