"""Knowledge-base search: Chinese questions without spaces and English questions with other word
forms find the expected article first; drafts and other merchants' articles are never found."""

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from tickets.models import ArticleLanguage, ArticleStatus
from tickets.segmentation import query_words, segment
from tickets.selectors import article_search
from tickets.services import article_create, article_publish

pytestmark = pytest.mark.django_db

ZH = ArticleLanguage.ZH_HANS
EN = ArticleLanguage.EN


@pytest.fixture
def editor(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user


@pytest.fixture
def publish(merchant, editor):
    def make(language, title, body, *, on=None, draft=False):
        owner = on or merchant
        actor = editor if on is None else MembershipFactory(merchant=owner, role=Membership.Role.SUPERVISOR).user
        article = article_create(merchant=owner, actor=actor, language=language, title=title, body=body)
        return article if draft else article_publish(article=article, actor=actor)

    return make


@pytest.fixture
def shelf(publish):
    return {
        "return": publish(ZH, "如何申请退货", "在订单页面点击申请退货，选择退货原因并上传照片，审核通过后寄回商品。"),
        "invoice": publish(ZH, "发票开具说明", "订单完成后可以在订单详情中申请开具电子发票。"),
        "shipping": publish(ZH, "退货运费由谁承担", "七天无理由退货的运费由买家承担，质量问题由商家承担运费。"),
        "warranty": publish(ZH, "保修期和维修", "商品保修期为一年，保修期内免费维修。"),
        "en_return": publish(
            EN, "How to return an item", "Open your order, choose the items you are returning and print the label."
        ),
        "en_refund": publish(EN, "When will I get my refund?", "Refunds are paid within three days of inspection."),
        "en_repair": publish(EN, "Repairs under warranty", "Devices are repaired free of charge during the warranty."),
    }


def titles(found):
    return [article.title for article in found]


def test_segment_splits_chinese_into_words_and_leaves_english_alone():
    assert segment("怎么申请退货") == "怎么 申请 退货"
    assert segment("How to return") == "How to return"


def test_query_words_drop_question_words_and_punctuation():
    assert query_words("怎么申请退货？") == ["申请", "退货"]
    assert query_words("How do I return it?!") == ["return"]


def test_a_chinese_question_without_spaces_finds_the_article_on_it_first(merchant, shelf):
    found = article_search(merchant=merchant, text="怎么申请退货")

    assert found[0] == shelf["return"]
    assert shelf["warranty"] not in found


def test_a_chinese_question_about_shipping_costs_finds_the_shipping_article_first(merchant, shelf):
    found = article_search(merchant=merchant, text="退货的运费谁出")

    assert found[0] == shelf["shipping"]


def test_a_chinese_question_finds_a_word_inside_a_longer_word(merchant, shelf):
    found = article_search(merchant=merchant, text="电子发票怎么开")

    assert found[0] == shelf["invoice"]


def test_an_english_question_finds_its_article_through_other_word_forms(merchant, shelf):
    found = article_search(merchant=merchant, text="returning items")

    assert found[0] == shelf["en_return"]


def test_an_english_question_ranks_the_title_match_first(merchant, shelf):
    found = article_search(merchant=merchant, text="refunded")

    assert titles(found) == ["When will I get my refund?"]


def test_a_question_still_being_typed_matches_the_prefix_of_its_last_word(merchant, shelf):
    found = article_search(merchant=merchant, text="warr", as_you_type=True)

    assert found[0] == shelf["en_repair"]
    assert article_search(merchant=merchant, text="warr") == []


def test_a_question_of_only_noise_finds_nothing_and_does_not_fail(merchant, shelf):
    assert article_search(merchant=merchant, text="？！ & | ( ) : * '") == []
    assert article_search(merchant=merchant, text="怎么") == []


def test_drafts_are_never_found_by_customers_but_are_by_staff(merchant, publish):
    draft = publish(ZH, "换货流程", "申请换货后我们会寄出新的商品。", draft=True)

    assert article_search(merchant=merchant, text="换货") == []
    assert article_search(merchant=merchant, text="换货", published_only=False) == [draft]
    assert draft.status == ArticleStatus.DRAFT


def test_another_merchants_articles_are_never_found(merchant, publish):
    other = MerchantFactory()
    publish(ZH, "如何申请退货", "其他商家的文章。", on=other)

    assert article_search(merchant=merchant, text="申请退货") == []
