import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from aftersales.models import Customer, Order, OrderLine, Product
from aftersales.tests.builders import row, write_csv
from aftersales.tests.factories import MerchantFactory, StoreFactory

pytestmark = pytest.mark.django_db


def run_import(path, merchant, store, *extra):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_orders", path, "--merchant", merchant.slug, "--store", str(store.pk), *extra, stdout=out, stderr=err
        )
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


@pytest.fixture
def merchant():
    return MerchantFactory(slug="shop", timezone="Asia/Shanghai")


@pytest.fixture
def store(merchant):
    return StoreFactory(merchant=merchant)


def test_import_writes_exact_orders_lines_and_amounts(tmp_path, merchant, store):
    # Given an Excel export (UTF-8 with BOM) of two orders, the first with two lines
    path = write_csv(
        tmp_path / "orders.csv",
        [row("1001", "1"), row("1001", "2", quantity="1", unit_price="59.90", discount_amount=""), row("1002", "1")],
        bom=True,
    )

    # When it is imported
    out, err, failure = run_import(path, merchant, store)

    # Then both orders exist with their lines, amounts and the merchant's local times
    assert failure is None, err
    assert "2 created, 0 updated, 0 failed." in out
    assert Order.objects.filter(merchant=merchant).count() == 2
    first = Order.objects.get(store=store, external_number="1001")
    assert first.placed_at == datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    assert first.delivered_at == datetime(2025, 3, 4, 7, 30, tzinfo=UTC)
    assert first.shipping_amount == Decimal("12.00")
    assert first.currency == "CNY"
    assert first.contact_email == "buyer-1001@example.com"
    assert first.contact_phone == "+8613800138000"
    lines = list(
        first.lines.order_by("line_number").values_list(
            "line_number", "sku", "quantity", "unit_price", "discount_amount"
        )
    )
    assert lines == [
        ("1", "SKU-1", 2, Decimal("199.00"), Decimal("10.00")),
        ("2", "SKU-2", 1, Decimal("59.90"), Decimal("0.00")),
    ]
    assert first.total_amount == Decimal("459.90")  # 2 × 199 − 10, 59.90, shipping 12
    assert OrderLine.objects.filter(merchant=merchant).count() == 3
    assert Customer.objects.filter(merchant=merchant).count() == 2
    assert set(Product.objects.filter(merchant=merchant).values_list("sku", "category")) == {
        ("SKU-1", "tents"),
        ("SKU-2", "tents"),
    }


def test_importing_the_same_file_again_updates_without_duplicates(tmp_path, merchant, store):
    # Given a file that was imported once
    rows = [row("1001", "1"), row("1001", "2"), row("1002", "1")]
    path = write_csv(tmp_path / "orders.csv", rows)
    run_import(path, merchant, store)

    # When it is imported again with one changed quantity
    rows[1]["quantity"] = "5"
    write_csv(tmp_path / "orders.csv", rows)
    out, err, failure = run_import(path, merchant, store)

    # Then the orders are updated, not duplicated
    assert failure is None, err
    assert "0 created, 2 updated, 0 failed." in out
    assert Order.objects.filter(merchant=merchant).count() == 2
    assert OrderLine.objects.filter(merchant=merchant).count() == 3
    assert Customer.objects.filter(merchant=merchant).count() == 2
    assert OrderLine.objects.get(order__external_number="1001", line_number="2").quantity == 5


def test_a_bad_row_fails_its_whole_order_and_names_row_and_column(tmp_path, merchant, store):
    # Given three orders: 1001 has a quantity "abc" on its second line (CSV row 3), 1002 a bad e-mail
    path = write_csv(
        tmp_path / "orders.csv",
        [
            row("1001", "1"),
            row("1001", "2", quantity="abc"),
            row("1002", "1", customer_email="not-an-email"),
            row("1003", "1"),
        ],
    )

    # When it is imported
    out, err, failure = run_import(path, merchant, store)

    # Then each error names its row and column, the exit code says so, and only 1003 was written
    assert failure is not None
    assert failure.returncode == 1
    assert "row 3, quantity (order 1001): A valid integer is required." in err
    assert "row 4, customer_email (order 1002): Enter a valid email address." in err
    assert "1 created, 0 updated, 2 failed." in out
    assert list(Order.objects.filter(merchant=merchant).values_list("external_number", flat=True)) == ["1003"]
    assert OrderLine.objects.filter(merchant=merchant).count() == 1
    assert not Customer.objects.filter(email__in=["buyer-1001@example.com", "not-an-email"]).exists()
    assert not Product.objects.filter(merchant=merchant, sku="SKU-2").exists()


def test_a_service_refusal_is_reported_on_the_line_and_writes_nothing_of_the_order(tmp_path, merchant, store):
    # Given an order whose second line's discount exceeds its price
    path = write_csv(
        tmp_path / "orders.csv",
        [row("1001", "1"), row("1001", "2", quantity="1", unit_price="50.00", discount_amount="60.00")],
    )

    # When it is imported
    out, err, failure = run_import(path, merchant, store)

    # Then row 3 is named and nothing of the order exists
    assert failure is not None
    assert "row 3, line_number (order 1001): Line 2: the discount exceeds the line's price." in err
    assert "0 created, 0 updated, 1 failed." in out
    assert not Order.objects.filter(merchant=merchant).exists()
    assert not Customer.objects.filter(merchant=merchant).exists()


def test_order_columns_that_disagree_between_lines_fail_the_order(tmp_path, merchant, store):
    # Given an order whose two lines give different placing times
    path = write_csv(tmp_path / "orders.csv", [row("1001", "1"), row("1001", "2", placed_at="2025-03-05 10:00:00")])

    # When it is imported
    _out, err, failure = run_import(path, merchant, store)

    # Then row 3's placed_at is reported and nothing is written
    assert failure is not None
    assert "row 3, placed_at (order 1001): Differs from row 2 of the same order (2025-03-01 10:00:00)." in err
    assert not Order.objects.exists()


def test_dry_run_validates_everything_and_writes_nothing(tmp_path, merchant, store):
    # Given a file with one good and one bad order
    path = write_csv(tmp_path / "orders.csv", [row("1001", "1"), row("1002", "1", unit_price="-1")])

    # When it is checked with --dry-run
    out, err, failure = run_import(path, merchant, store, "--dry-run")

    # Then the report is complete but the database is untouched
    assert failure is not None
    assert "Dry run, nothing written: 1 to create, 0 to update, 1 failed." in out
    assert "row 3, unit_price (order 1002): Ensure this value is greater than or equal to 0." in err
    assert not Order.objects.exists()
    assert not Customer.objects.exists()
    assert not Product.objects.exists()


def test_a_row_without_an_order_number_is_reported_and_others_land(tmp_path, merchant, store):
    path = write_csv(tmp_path / "orders.csv", [row("", "1"), row("1002", "1")])

    out, err, failure = run_import(path, merchant, store)

    assert failure is not None
    assert "row 2, order_number: This field may not be blank." in err
    assert "1 created, 0 updated, 0 failed." in out
    assert list(Order.objects.values_list("external_number", flat=True)) == ["1002"]


def test_a_store_of_another_merchant_is_refused_before_reading(tmp_path, merchant):
    # Given a store that belongs to someone else
    other_store = StoreFactory()
    path = write_csv(tmp_path / "orders.csv", [row("1001", "1")])

    # When the import names it
    with pytest.raises(CommandError, match="is not a store of shop"):
        call_command("import_orders", path, "--merchant", "shop", "--store", str(other_store.pk), stdout=io.StringIO())

    # Then nothing is written anywhere
    assert not Order.objects.exists()


def test_a_file_without_the_required_columns_is_refused(tmp_path, merchant, store):
    path = tmp_path / "orders.csv"
    path.write_text("order_number,sku\n1001,SKU-1\n", encoding="utf-8")

    with pytest.raises(CommandError, match="lacks the columns: placed_at, line_number, quantity, unit_price"):
        call_command("import_orders", str(path), "--merchant", "shop", "--store", str(store.pk), stdout=io.StringIO())

    assert not Order.objects.exists()
