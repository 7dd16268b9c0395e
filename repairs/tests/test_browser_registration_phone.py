"""The portal's product registration on a phone (390×844), in Chinese and English: the product
select asks for a product in words (it showed Django's "---------") and the purchase date is as
wide as the other fields (it was a 110-pixel box beside full-width fields). Screenshots are kept
in test-artifacts."""

from pathlib import Path

import pytest
from django.test import RequestFactory

from aftersales.portal import portal_grant
from repairs.tests.builders import build_world

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _granted_session(order) -> str:
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/")
    request.session = SessionStore()
    portal_grant(request, merchant=order.merchant, order=order)
    request.session.save()
    assert request.session.session_key is not None
    return request.session.session_key


@pytest.mark.parametrize(("language", "empty_label"), [("zh-hans", "选择商品"), ("en", "Choose the product")])
def test_the_registration_form_fits_a_phone_and_asks_for_the_product_in_words(
    live_server, browser, language, empty_label
):
    # Given a customer who proved their order
    world = build_world(slug=f"reg-{language}")
    session = _granted_session(world.order)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies(
        [
            {"name": "sessionid", "value": session, "url": live_server.url},
            {"name": "aftersales_language", "value": language, "url": live_server.url},
        ]
    )
    page = context.new_page()

    # When they open the registration page
    page.goto(f"{live_server.url}/portal/{world.merchant.slug}/repairs/registrations/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-registration-{language}-phone.png"), full_page=True)

    # Then the select says what to choose, and the date is as wide as the serial number
    widths = page.evaluate(
        "['id_serial_number', 'id_purchased_on'].map(id => document.getElementById(id).getBoundingClientRect().width)"
    )
    assert page.locator("#id_product option").first.inner_text() == empty_label
    assert widths[1] == widths[0]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
