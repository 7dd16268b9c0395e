"""What the customer reads in Chinese reads as Chinese: the case is titled by its kind, the items
and a variant's attributes are separated with Chinese punctuation, and what can be returned until
when is one sentence."""

import pytest
from django.conf import settings
from django.utils import translation

from returns.services import return_request_create
from returns.tests.builders import start_url
from returns.variants import list_text, variant_attributes_text

pytestmark = pytest.mark.usefixtures("private_storage", "day_ten")


@pytest.mark.parametrize(
    ("resolution", "language", "title"),
    [
        ("refund", "en", "Return: Trail Runner 42 × 1, Wool Socks 2 × 1"),
        ("exchange", "en", "Exchange: Trail Runner 42 × 1, Wool Socks 2 × 1"),
        ("refund", "zh-hans", "退货：Trail Runner 42 × 1、Wool Socks 2 × 1"),
        ("exchange", "zh-hans", "换货：Trail Runner 42 × 1、Wool Socks 2 × 1"),
        ("refund_only", "zh-hans", "仅退款：Trail Runner 42 × 1、Wool Socks 2 × 1"),
    ],
)
def test_a_case_is_titled_by_its_kind_in_the_language_it_was_sent_in(order, reasons, shop, resolution, language, title):
    shop.return_policy.rules.update(allowed_resolutions=["refund", "exchange", "refund_only"])
    lines = [(line, 1) for line in order.lines.order_by("line_number")]

    with translation.override(language):
        return_request = return_request_create(
            order=order, customer=order.customer, lines=lines, reason=reasons["changed_mind"], resolution=resolution
        )

    assert return_request.ticket.subject == title


def test_a_variants_attributes_read_with_chinese_punctuation_in_chinese():
    attributes = {"size": "L", "colour": "red"}

    with translation.override("zh-hans"):
        chinese = variant_attributes_text(attributes)
        items = list_text(["A", "B"])
    english = variant_attributes_text(attributes)

    assert chinese == "尺码：L，颜色：red"
    assert items == "A、B"
    assert english == "Size: L, Colour: red"


def test_the_return_form_says_how_many_and_until_when_in_one_chinese_sentence(signed_in, order):
    signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    page = " ".join(signed_in.get(start_url(order)).content.decode().split())

    assert "可退 2 件，截至 2026年12月10日" in page
    assert "件," not in page
