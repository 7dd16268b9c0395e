"""The dashboard's exchange: the variant each line asked for and its price difference, the
confirmation that a dearer variant was paid, and the replacement parcel prefilled with the
variant — refused until the difference is paid."""

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.builders import flash_messages
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from returns.models import Refund, ReplacementShipment, ReturnRequest, ReturnStatus
from returns.services import exchange_difference_confirm_paid
from returns.tests.builders import received, variant_shop
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def _url(name: str, return_request: ReturnRequest) -> str:
    return reverse(name, kwargs={"number": return_request.ticket.number})


def _state(return_request: ReturnRequest) -> tuple:
    fresh = ReturnRequest.objects.get(pk=return_request.pk)
    return (
        fresh.status,
        fresh.exchange_difference_paid_at,
        fresh.exchange_difference_reference,
        ReplacementShipment.objects.filter(return_request=fresh).count(),
        Refund.objects.filter(return_request=fresh).count(),
        TicketEvent.objects.filter(ticket_id=fresh.ticket_id).count(),
    )


def test_the_page_shows_the_wish_and_its_difference_and_holds_the_parcel_until_it_is_paid(client):
    # Given a received exchange of 2 jackets for size L (+20.00 each) and the socks as they are
    shop = variant_shop()
    world = shop.world
    return_request = received(shop, {shop.jacket: shop.large}, quantities=(2, 1))
    client.force_login(world.agent)

    # When an agent opens it
    page = client.get(_url("dashboard:return", return_request))
    html = page.content.decode()

    # then each line says what to send instead and the difference, and 40.00 is owed, not paid
    exchange = page.context["exchange"]
    rows = [(row.line.exchange_sku, row.variant_label, row.paid_per_unit, row.difference) for row in exchange.lines]
    assert rows == [
        ("JKT-L", "Size: L, Colour: black", Decimal("100.00"), Decimal("40.00")),
        ("", "", Decimal("100.00"), Decimal("0.00")),
    ]
    assert (exchange.due, exchange.refunded, exchange.unpaid) == (Decimal("40.00"), Decimal("0.00"), True)
    assert "Size: L, Colour: black" in html
    assert "+20.00 CNY" in html
    assert "+40.00 CNY" in html
    assert "Not paid yet" in html
    assert _url("dashboard:return_exchange_difference_paid", return_request) in html
    assert "Not before the price difference is paid." in html

    # and the parcel form is prefilled with the units still held and the size asked for
    form = page.context["exchange_form"]
    jacket_line, socks_line = return_request.lines.order_by("pk")
    assert (form[f"units_{jacket_line.pk}"].initial, form[f"sku_{jacket_line.pk}"].initial) == (2, "JKT-L")
    assert (form[f"units_{socks_line.pk}"].initial, form[f"sku_{socks_line.pk}"].initial) == (1, shop.socks.sku)

    # When the parcel is sent anyway, it is refused and nothing changes
    before = _state(return_request)
    response = client.post(
        _url("dashboard:return_exchange_ship", return_request),
        {"carrier": "SF", "tracking_number": "SF1"},
        follow=True,
    )
    assert "confirm it is paid before shipping the replacement" in flash_messages(response)[0]
    assert _state(return_request) == before

    # When the agent confirms the payment
    response = client.post(
        _url("dashboard:return_exchange_difference_paid", return_request), {"reference": "PAY-9"}, follow=True
    )
    assert flash_messages(response) == ["Payment of the price difference confirmed; the replacement may ship."]
    assert "PAY-9" in response.content.decode()
    assert response.context["can_confirm_difference"] is False

    # then the parcel, as prefilled, sends the size asked for and completes the exchange
    response = client.post(
        _url("dashboard:return_exchange_ship", return_request),
        {
            "carrier": "SF",
            "tracking_number": "SF1",
            f"units_{jacket_line.pk}": "2",
            f"sku_{jacket_line.pk}": "JKT-L",
            f"units_{socks_line.pk}": "1",
            f"sku_{socks_line.pk}": shop.socks.sku,
        },
        follow=True,
    )
    assert flash_messages(response) == ["Replacement shipped."]
    assert sorted(ReplacementShipment.objects.values_list("sku", "quantity", "product_id")) == sorted(
        [("JKT-L", 2, shop.large.pk), (shop.socks.sku, 1, shop.socks.product_id)]
    )
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.COMPLETED


def test_staff_may_send_fewer_units_or_another_sku_from_the_form(client):
    shop = variant_shop()
    return_request = received(shop, {shop.jacket: shop.small})
    client.force_login(shop.world.warehouse)
    line = return_request.lines.get()

    response = client.post(
        _url("dashboard:return_exchange_ship", return_request),
        {"carrier": "SF", "tracking_number": "SF1", f"units_{line.pk}": "1", f"sku_{line.pk}": "JKT-M-RED"},
        follow=True,
    )

    assert flash_messages(response) == ["Replacement shipped."]
    assert list(ReplacementShipment.objects.values_list("sku", "quantity", "product_id")) == [
        ("JKT-M-RED", 1, shop.red.pk)
    ]
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.SETTLING
    page = client.get(_url("dashboard:return", return_request))
    assert page.context["exchange_form"][f"units_{line.pk}"].initial == 1


def test_a_parcel_with_no_unit_is_refused_on_the_form(client):
    shop = variant_shop()
    return_request = received(shop, {shop.jacket: shop.small})
    client.force_login(shop.world.agent)
    line = return_request.lines.get()
    before = _state(return_request)

    response = client.post(
        _url("dashboard:return_exchange_ship", return_request),
        {"carrier": "SF", "tracking_number": "SF1", f"units_{line.pk}": "0"},
    )

    assert response.status_code == 400
    assert "Send at least one unit." in response.content.decode()
    assert _state(return_request) == before


def test_a_cheaper_variant_shows_the_refund_to_come_and_its_refund_once_shipped(client):
    shop = variant_shop()
    return_request = received(shop, {shop.jacket: shop.red})
    client.force_login(shop.world.warehouse)

    page = client.get(_url("dashboard:return", return_request))
    assert (page.context["exchange"].due, page.context["exchange"].refunded) == (Decimal("0.00"), Decimal("30.00"))
    assert page.context["can_confirm_difference"] is False
    response = client.post(
        _url("dashboard:return_exchange_ship", return_request), {"carrier": "SF", "tracking_number": "SF1"}, follow=True
    )

    assert flash_messages(response) == ["Replacement shipped."]
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("30.00")]
    assert "30.00" in response.content.decode()


def test_the_warehouse_is_told_who_confirms_the_payment_and_is_refused_it(client):
    shop = variant_shop()
    return_request = received(shop, {shop.jacket: shop.large})
    client.force_login(shop.world.warehouse)
    before = _state(return_request)

    page = client.get(_url("dashboard:return", return_request))
    response = client.post(
        _url("dashboard:return_exchange_difference_paid", return_request), {"reference": "PAY-1"}, follow=True
    )

    assert (page.context["can_confirm_difference"], page.context["difference_needs_role"]) == (False, True)
    assert "an agent, supervisor or merchant admin confirms the payment" in page.content.decode()
    assert flash_messages(response) == ["Your role does not allow confirming payments."]
    assert _state(return_request) == before


def test_a_payment_without_a_reference_is_refused_on_the_form(client):
    shop = variant_shop()
    return_request = received(shop, {shop.jacket: shop.large})
    client.force_login(shop.world.agent)
    before = _state(return_request)

    response = client.post(_url("dashboard:return_exchange_difference_paid", return_request), {"reference": ""})

    assert response.status_code == 400
    assert response.context["difference_form"].errors["reference"]
    assert _state(return_request) == before


def test_a_return_that_is_not_an_exchange_has_no_exchange_section(client):
    shop = variant_shop()
    return_request = received(shop, {}, resolution="refund")
    client.force_login(shop.world.agent)

    page = client.get(_url("dashboard:return", return_request))

    assert page.context["exchange"] is None
    assert 'id="exchange-title"' not in page.content.decode()


@pytest.mark.parametrize("name", ["dashboard:return_exchange_difference_paid", "dashboard:return_exchange_ship"])
def test_another_merchants_staff_get_404_and_nothing_changes(client, name):
    shop = variant_shop()
    return_request = received(shop, {shop.jacket: shop.large})
    exchange_difference_confirm_paid(return_request=return_request, actor=shop.world.agent, reference="PAY-1")
    before = _state(return_request)
    client.force_login(MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN).user)

    response = client.post(_url(name, return_request), {"reference": "PAY-2", "carrier": "SF", "tracking_number": "X"})

    assert response.status_code == 404
    assert _state(return_request) == before
