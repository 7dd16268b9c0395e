"""The order lines a return is submitted for are locked through one statement compiled once."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from aftersales.tests.factories import MerchantFactory
from returns.locks import order_lines_lock
from returns.tests.builders import portal_order

pytestmark = pytest.mark.django_db


def test_the_lines_of_an_order_asked_for_come_back_locked_in_id_order(shop):
    order = portal_order(shop, lines=3)
    first, second, third = sorted(order.lines.all(), key=lambda line: line.pk)

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        locked = order_lines_lock([third.pk, first.pk], order=order, with_product=True)

    assert [line.pk for line in locked] == [first.pk, third.pk]
    assert [line.product.sku for line in locked] == [first.product.sku, third.product.sku]
    statements = [query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]]
    assert len(statements) == 1
    # Every line of the order is locked (in id order), whatever the list of ids.
    assert statements[0].endswith('ORDER BY "aftersales_orderline"."id" ASC FOR UPDATE OF "aftersales_orderline"')
    assert f'"aftersales_orderline"."order_id" = {order.pk}' in statements[0]
    assert " IN (" not in statements[0]  # no list of ids: the same statement for any lines asked for
    assert second.pk not in [line.pk for line in locked]


def test_lines_of_another_order_or_merchant_are_not_returned(shop):
    order = portal_order(shop, number="TG-1", lines=1)
    other = portal_order(shop, number="TG-2", email="other@example.com", lines=1)
    elsewhere = portal_order(MerchantFactory(), number="TG-3", lines=1)
    (line,) = order.lines.all()

    with transaction.atomic():
        locked = order_lines_lock(
            [line.pk, other.lines.get().pk, elsewhere.lines.get().pk], order=order, with_product=False
        )

    assert [each.pk for each in locked] == [line.pk]
