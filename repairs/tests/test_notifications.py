"""Every repair notification renders in both shipped languages, with its facts in it."""

import pytest

from aftersales.notifications.rendering import render_notification

CONTEXT = {
    "customer_name": "Li Wei",
    "merchant_name": "Aqua Home",
    "ticket_number": "RP-000042",
    "portal_url": "https://example.com/portal/aqua-home/",
    "product_name": "Kitchen tap",
    "outcome": "In warranty",
    "centre": "Xuhui centre",
    "centre_address": "88 Caoxi North Road",
    "reason": "Not our product",
    "total": "169.50",
    "currency": "CNY",
    "expected_on": "2026-05-02",
    "unrepaired": True,
    "fee": "50.00",
    "tracking": "SF123456",
    "remedy": "Exchange",
    "return_number": "EX-000007",
}
TEMPLATES = [
    "repair_requested",
    "repair_triaged",
    "repair_send_device",
    "repair_rejected",
    "repair_quote",
    "repair_waiting_parts",
    "repair_ready",
    "repair_returned",
    "repair_resolved",
]


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_repair_notification_renders_with_the_case_number_in_both_languages(template, language):
    rendered = render_notification(template, CONTEXT, language)

    assert "RP-000042" in rendered.subject + rendered.body
    assert "RP-000042" in rendered.short
    assert "{%" not in rendered.body
    assert "%(" not in rendered.body


def test_the_quote_notice_in_chinese_gives_the_total_with_chinese_punctuation():
    rendered = render_notification("repair_quote", CONTEXT, "zh-hans")

    assert "169.50 CNY（含税）。" in rendered.body
