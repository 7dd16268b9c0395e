"""What a walk through the support pages found, as an agent, a supervisor and an admin see them:
the routing page's title, words that meant something else, skills shown as codes, and deletes
that went through on one click."""

import pytest
from django.urls import reverse

from aftersales.tests.factories import StoreFactory
from tickets.models import AgentProfile, ArticleStatus, Macro, RoutingRule
from tickets.services import article_create
from tickets.tests.factories import MacroFactory, RoutingRuleFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_the_routing_page_is_titled_routing_with_no_markup_in_its_title(client, supervisor):
    client.force_login(supervisor)

    page = client.get(reverse("dashboard:routing_rules"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "<title>Routing · Aftersales</title>" in page
    assert page.count('id="settings-title"') == 1


def test_a_switched_on_macro_and_rule_are_qiyong_not_the_queues_in_progress(client, supervisor, merchant):
    # Given a shared macro and a rule, both on
    MacroFactory(merchant=merchant, name="退款说明", is_active=True)
    RoutingRuleFactory(merchant=merchant, name="帐篷", is_active=True)
    client.force_login(supervisor)

    # When a Chinese-speaking supervisor lists them
    macros = client.get(reverse("dashboard:macros"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    rules = client.get(reverse("dashboard:routing_rules"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    # Then "Active" is 启用 (switched on), as on their forms, not 进行中 (a case in progress)
    for page in (macros, rules):
        assert '<th scope="col">启用</th>' in page
        assert '<td data-label="启用">是</td>' in page
        assert "进行中" not in page


def test_the_desk_names_an_agents_skills_in_words_not_codes(client, supervisor, agent, merchant):
    # Given an agent who takes Chinese-speaking customers' returns of tents
    AgentProfile.objects.create(
        merchant=merchant,
        user=agent,
        languages=["zh-hans"],
        kinds=["return", "refund_only"],
        product_categories=["帐篷"],
    )
    client.force_login(supervisor)

    # When a supervisor opens the desk, in either language
    english = client.get(reverse("dashboard:agents"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(reverse("dashboard:agents"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    # Then the skills are said in words; a member with no profile takes anything
    assert '<td data-label="Skills">Simplified Chinese, Return, Refund only, 帐篷</td>' in english
    assert '<td data-label="技能">简体中文、退货、仅退款、帐篷</td>' in chinese
    assert '<td data-label="Skills">Any</td>' in english
    assert "zh-hans, " not in english


def test_deleting_a_shared_macro_asks_first_and_deletes_on_the_answer(client, supervisor, merchant):
    # Given a macro the whole team uses
    macro = MacroFactory(merchant=merchant, name="Refund started")
    client.force_login(supervisor)
    delete_url = reverse("dashboard:macro_delete", args=[macro.pk])

    # When the supervisor presses Delete on the list
    listing = client.get(reverse("dashboard:macros"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<a class="btn btn--small btn--ghost" href="{delete_url}">Delete</a>' in listing
    question = client.get(delete_url, HTTP_ACCEPT_LANGUAGE="en")

    # Then the page asks, and nothing is deleted yet
    assert question.status_code == 200
    page = question.content.decode()
    assert "Delete the macro “Refund started”?" in page
    assert "Everyone at the merchant loses it from their macros." in page
    assert Macro.objects.filter(pk=macro.pk).exists()

    # And the answer deletes it
    response = client.post(delete_url)
    assert response.status_code == 302
    assert not Macro.objects.filter(pk=macro.pk).exists()


def test_deleting_a_routing_rule_asks_first_and_an_agent_is_not_asked(client, supervisor, agent, merchant):
    rule = RoutingRuleFactory(merchant=merchant, name="VIP customers")
    delete_url = reverse("dashboard:routing_rule_delete", args=[rule.pk])
    client.force_login(agent)
    assert client.get(delete_url).status_code == 403

    client.force_login(supervisor)
    question = client.get(delete_url, HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert question.status_code == 200
    assert "删除分派规则“VIP customers”？" in question.content.decode()
    assert RoutingRule.objects.filter(pk=rule.pk).exists()
    client.post(delete_url)
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()


def test_empty_choices_say_what_they_mean_instead_of_dashes(client, supervisor, merchant):
    TeamFactory(merchant=merchant, name="Tents")
    client.force_login(supervisor)

    rules = client.get(reverse("dashboard:routing_rules"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    macros = client.get(reverse("dashboard:macros"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    article = client.get(reverse("dashboard:article_new"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    assert '<option value="" selected>保持不变</option>\n\n  <option value="' in rules
    assert '<option value="" selected>由团队自动分配</option>' in rules
    assert '<option value="" selected>无类别</option>' in article
    for page in (rules, macros, article):
        assert "---------" not in page


def test_a_status_the_article_cannot_take_is_refused_in_words_that_name_the_choices(client, merchant, supervisor):
    article = article_create(merchant=merchant, actor=supervisor, language="en", title="Warranty", body="One year.")
    client.force_login(supervisor)

    response = client.post(
        reverse("dashboard:article_status", args=[article.pk]),
        {"status": "zzz"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    page = response.content.decode()
    assert "Choose to publish the article, put it back to draft or archive it." in page
    assert "cannot become ." not in page
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT


def test_a_store_and_its_platform_are_bracketed_the_chinese_way_in_chinese(client, merchant, supervisor):
    StoreFactory(merchant=merchant, name="户外旗舰店", platform="tmall")
    client.force_login(supervisor)

    chinese = client.get(reverse("dashboard:routing_rules"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    english = client.get(reverse("dashboard:routing_rules"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "户外旗舰店（天猫）</label>" in chinese
    assert "户外旗舰店 (天猫)" not in chinese
    assert "户外旗舰店 (Tmall)</label>" in english
