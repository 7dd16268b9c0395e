"""The knowledge base's pages: the portal's help centre and deflection, the dashboard's editor,
the ticket page's article search, and the read API; each merchant sees only its own articles."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.models import Membership
from aftersales.tests.builders import sign_in
from aftersales.tests.factories import MembershipFactory, MerchantFactory, OrderFactory, api_key_for
from tickets.models import Article, ArticleFeedback, ArticleLanguage, ArticleStatus, ArticleVersion, Deflection, Ticket
from tickets.services import article_create, article_publish

pytestmark = pytest.mark.django_db
ZH = ArticleLanguage.ZH_HANS
EN = ArticleLanguage.EN


@pytest.fixture
def editor(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user


def published(merchant, language, title, body):
    actor = MembershipFactory(merchant=merchant, role=Membership.Role.MERCHANT_ADMIN).user
    return article_publish(
        article=article_create(merchant=merchant, actor=actor, language=language, title=title, body=body), actor=actor
    )


@pytest.fixture
def return_article(merchant):
    return published(merchant, ZH, "如何申请退货", "在订单页面点击申请退货，选择原因并上传照片。")


@pytest.fixture
def theirs():
    other = MerchantFactory(slug="other-shop")
    return published(other, ZH, "如何申请退货（别家）", "别家的退货说明。")


# --- portal ---------------------------------------------------------------------------------------


def test_the_help_centre_searches_in_chinese_without_javascript(client, merchant, return_article, theirs):
    response = client.get(reverse("portal:help_search", args=[merchant.slug]), {"q": "怎么申请退货"})

    assert response.status_code == 200
    assert response.context["results"] == [return_article]
    assert "如何申请退货（别家）" not in response.content.decode()


def test_the_help_centre_home_lists_published_articles_of_the_page_language(client, merchant, return_article, editor):
    article_create(merchant=merchant, actor=editor, language=ZH, title="草稿文章", body="还没发布。")

    response = client.get(reverse("portal:help", args=[merchant.slug]), HTTP_ACCEPT_LANGUAGE="zh-hans")

    body = response.content.decode()
    assert response.status_code == 200
    assert "如何申请退货" in body
    assert "草稿文章" not in body


def test_suggestions_while_typing_show_the_best_articles_for_a_partial_question(client, merchant, return_article):
    response = client.get(reverse("portal:help_suggest", args=[merchant.slug]), {"q": "申请退"})

    assert response.status_code == 200
    assert response.context["results"] == [return_article]
    assert "This answered my question" in response.content.decode()


def test_suggestions_for_an_empty_or_overlong_question_are_empty_not_an_error(client, merchant, return_article):
    empty = client.get(reverse("portal:help_suggest", args=[merchant.slug]), {"q": ""})
    overlong = client.get(reverse("portal:help_suggest", args=[merchant.slug]), {"q": "退" * 500})

    assert (empty.status_code, empty.context["results"]) == (200, [])
    assert (overlong.status_code, overlong.context["results"]) == (200, [])


def test_a_draft_or_another_merchants_article_is_not_found_in_the_portal(client, merchant, editor, theirs):
    draft = article_create(merchant=merchant, actor=editor, language=EN, title="Draft", body="Not yet.")

    assert client.get(reverse("portal:help_article", args=[merchant.slug, draft.pk])).status_code == 404
    assert client.get(reverse("portal:help_article", args=[merchant.slug, theirs.pk])).status_code == 404
    response = client.post(reverse("portal:help_answered", args=[merchant.slug, theirs.pk]))
    assert response.status_code == 404
    assert Deflection.objects.count() == 0


def test_this_answered_my_question_from_a_new_request_ends_the_flow_without_a_ticket(
    client, django_capture_on_commit_callbacks, order, return_article
):
    sign_in(client, django_capture_on_commit_callbacks, order)
    merchant = order.merchant
    new_request = client.get(reverse("portal:ticket_new", args=[merchant.slug, order.pk]))
    assert reverse("portal:help_suggest", args=[merchant.slug]) in new_request.content.decode()
    tickets_before = Ticket.objects.count()

    url = reverse("portal:help_answered", args=[merchant.slug, return_article.pk])
    response = client.post(url, {"q": "怎么申请退货", "order": order.pk})

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:order", args=[merchant.slug, order.pk])
    assert Ticket.objects.count() == tickets_before
    deflection = Deflection.objects.get()
    assert (deflection.article, deflection.query, deflection.order, deflection.customer) == (
        return_article,
        "怎么申请退货",
        order,
        order.customer,
    )
    return_article.refresh_from_db()
    assert return_article.deflection_count == 1


def test_a_deflection_is_counted_once_per_session_and_unproven_orders_are_not_tied(client, merchant, return_article):
    url = reverse("portal:help_answered", args=[merchant.slug, return_article.pk])
    other_order = OrderFactory(merchant=merchant)

    client.post(url, {"q": "退货", "order": other_order.pk})
    client.post(url, {"q": "退货"})

    deflection = Deflection.objects.get()
    assert (deflection.order, deflection.customer) == (None, None)
    return_article.refresh_from_db()
    assert return_article.deflection_count == 1


def test_article_feedback_is_counted_once_per_session(client, merchant, return_article):
    url = reverse("portal:help_feedback", args=[merchant.slug, return_article.pk])

    client.post(url, {"helpful": "yes"})
    client.post(url, {"helpful": "no"})
    client.post(url, {"helpful": "maybe"})

    return_article.refresh_from_db()
    assert (return_article.helpful_count, return_article.not_helpful_count) == (1, 0)
    assert ArticleFeedback.objects.get().helpful is True


def test_feedback_from_another_browser_is_counted_too(client, merchant, return_article):
    url = reverse("portal:help_feedback", args=[merchant.slug, return_article.pk])
    client.post(url, {"helpful": "yes"})
    client.cookies.clear()

    client.post(url, {"helpful": "no"})

    return_article.refresh_from_db()
    assert (return_article.helpful_count, return_article.not_helpful_count) == (1, 1)


# --- dashboard ------------------------------------------------------------------------------------


def test_an_agent_drafts_an_article_and_every_save_is_a_version(client, merchant, agent):
    client.force_login(agent)

    client.post(reverse("dashboard:article_new"), {"title": "How to return", "language": EN, "body": "Open the order."})
    article = Article.objects.get(merchant=merchant)
    client.post(
        reverse("dashboard:article", args=[article.pk]),
        {"title": "How to return an item", "language": EN, "body": "Open the order, then choose the items."},
    )

    article.refresh_from_db()
    assert (article.status, article.version, article.title) == (ArticleStatus.DRAFT, 2, "How to return an item")
    assert list(ArticleVersion.objects.filter(article=article).values_list("number", "title")) == [
        (2, "How to return an item"),
        (1, "How to return"),
    ]


def test_an_empty_title_is_a_clear_error_and_nothing_is_saved(client, merchant, agent):
    client.force_login(agent)

    response = client.post(reverse("dashboard:article_new"), {"title": " ", "language": EN, "body": "Text."})

    assert response.status_code == 400
    assert Article.objects.count() == 0


def test_an_agent_may_not_publish_and_nothing_changes(client, merchant, agent, editor):
    article = article_create(merchant=merchant, actor=agent, language=EN, title="Warranty", body="One year.")
    client.force_login(agent)

    client.post(reverse("dashboard:article_status", args=[article.pk]), {"status": ArticleStatus.PUBLISHED})

    article.refresh_from_db()
    assert (article.status, article.published_at) == (ArticleStatus.DRAFT, None)


def test_a_supervisor_publishes_and_customers_then_find_the_article(client, merchant, editor):
    article = article_create(merchant=merchant, actor=editor, language=EN, title="Warranty", body="One year.")
    client.force_login(editor)

    client.post(reverse("dashboard:article_status", args=[article.pk]), {"status": ArticleStatus.PUBLISHED})

    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    assert article.published_at is not None
    client.logout()
    response = client.get(reverse("portal:help_search", args=[merchant.slug]), {"q": "warranty"})
    assert response.context["results"] == [article]


def test_the_dashboard_never_shows_another_merchants_article(client, merchant, agent, theirs):
    client.force_login(agent)

    assert client.get(reverse("dashboard:article", args=[theirs.pk])).status_code == 404
    listing = client.get(reverse("dashboard:articles"), {"q": "退货"})
    assert listing.context["articles"] == []
    suggest = client.get(reverse("dashboard:article_suggest"), {"q": "退货"})
    assert suggest.json() == {"articles": []}


def test_the_ticket_page_offers_published_articles_to_link_in_a_reply(
    client, merchant, agent, make_ticket, return_article
):
    ticket = make_ticket()
    client.force_login(agent)

    page = client.get(reverse("dashboard:ticket", args=[ticket.number]))
    found = client.get(reverse("dashboard:article_suggest"), {"q": "申请退货"}).json()

    assert reverse("dashboard:article_suggest") in page.content.decode()
    assert [a["title"] for a in found["articles"]] == ["如何申请退货"]
    assert found["articles"][0]["url"].endswith(reverse("portal:help_article", args=[merchant.slug, return_article.pk]))


# --- API ------------------------------------------------------------------------------------------


@pytest.fixture
def api(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")
    return client


def test_the_api_searches_lists_and_reads_only_our_published_articles(api, merchant, editor, return_article, theirs):
    article_create(merchant=merchant, actor=editor, language=ZH, title="申请退货草稿", body="草稿。")

    search = api.get(reverse("api:article-search"), {"q": "怎么申请退货"})
    listing = api.get(reverse("api:article-list"))
    detail = api.get(reverse("api:article-detail", args=[return_article.pk]))

    assert [a["id"] for a in search.json()] == [return_article.pk]
    assert [a["id"] for a in listing.json()["results"]] == [return_article.pk]
    assert detail.json()["body"] == return_article.body
    assert api.get(reverse("api:article-detail", args=[theirs.pk])).status_code == 404


def test_the_api_refuses_a_search_without_a_question(api):
    response = api.get(reverse("api:article-search"))

    assert response.status_code == 400
