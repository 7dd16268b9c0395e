"""Import a shop's order export: one CSV row per order line.

Rows are grouped by order number; each order is validated by the same serializer as the API
(``OrderIntakeSerializer``) and written by ``order_upsert``, so it lands whole or not at all, and
importing the file again updates the orders instead of duplicating them. Errors name the CSV row
(as a spreadsheet numbers it: the header is row 1) and the column.
"""

import csv
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError
from aftersales.intake import OrderIntakeSerializer
from aftersales.models import Merchant, Store
from aftersales.services.orders import order_upsert

ORDER_COLUMNS = (
    "placed_at",
    "shipped_at",
    "delivered_at",
    "currency",
    "shipping_amount",
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_wechat_openid",
)
LINE_COLUMNS = (
    "line_number",
    "sku",
    "product_name",
    "category",
    "quantity",
    "unit_price",
    "discount_amount",
    "variant_group",
    "product_price",
)
REQUIRED_COLUMNS = ("order_number", "placed_at", "line_number", "sku", "quantity", "unit_price")
KNOWN_COLUMNS = ("order_number", *ORDER_COLUMNS, *LINE_COLUMNS)

# Serializer field → CSV column.
ORDER_FIELD_COLUMNS = {
    "number": "order_number",
    "store": "order_number",
    "currency": "currency",
    "placed_at": "placed_at",
    "shipped_at": "shipped_at",
    "delivered_at": "delivered_at",
    "shipping_amount": "shipping_amount",
    "lines": "line_number",
}
CUSTOMER_FIELD_COLUMNS = {
    "name": "customer_name",
    "email": "customer_email",
    "phone": "customer_phone",
    "wechat_openid": "customer_wechat_openid",
}
LINE_FIELD_COLUMNS = {"name": "product_name", "serial_numbers": "sku"}


@dataclass
class CsvRow:
    number: int  # the spreadsheet row: the header is row 1
    values: dict[str, str]


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class OrderRows:
    number: str
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class Command(BaseCommand):
    help = _(
        "Import orders from a shop's CSV export (one row per order line). Each order is written whole "
        "or not at all; importing the same file again updates the orders."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("The CSV file (UTF-8, with or without BOM)."))
        parser.add_argument("--merchant", required=True, help=_("The merchant's slug."))
        parser.add_argument("--store", required=True, type=int, help=_("The id of the merchant's store."))
        parser.add_argument("--dry-run", action="store_true", help=_("Check every order, write nothing."))

    def handle(self, *args, file, merchant, store, dry_run, **options):
        merchant_obj = Merchant.objects.filter(slug=merchant).first()
        if merchant_obj is None:
            raise CommandError(_("No merchant with the slug %(slug)s.") % {"slug": merchant})
        if not Store.objects.filter(merchant=merchant_obj, pk=store).exists():
            raise CommandError(
                _("Store %(store)s is not a store of %(merchant)s.") % {"store": store, "merchant": merchant}
            )
        try:
            with open(file, encoding="utf-8-sig", newline="") as handle:
                orders, stray_errors = read_orders(handle)
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc.strerror}) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(_("%(file)s is not UTF-8 text. Save it as CSV UTF-8.") % {"file": file}) from exc

        # Times without an offset are the merchant's local times, as its shop exports them.
        with timezone.override(zoneinfo.ZoneInfo(merchant_obj.timezone)):
            created = updated = failed = 0
            for order in orders:
                outcome = import_order(merchant=merchant_obj, store_id=store, order=order, dry_run=dry_run)
                if outcome == "created":
                    created += 1
                elif outcome == "updated":
                    updated += 1
                else:
                    failed += 1
                    self._report(order.number, order.errors)
        for error in stray_errors:
            self._report("", [error])

        if dry_run:
            summary = _("Dry run, nothing written: %(created)s to create, %(updated)s to update, %(failed)s failed.")
        else:
            summary = _("%(created)s created, %(updated)s updated, %(failed)s failed.")
        self.stdout.write(summary % {"created": created, "updated": updated, "failed": failed})
        if stray_errors:
            self.stdout.write(_("%(count)s rows without an order number were skipped.") % {"count": len(stray_errors)})
        if failed or stray_errors:
            raise CommandError(_("Some rows were not imported; see the errors above."), returncode=1)

    def _report(self, order_number: str, errors: Iterable[RowError]) -> None:
        for error in errors:
            where = _("row %(row)s, %(column)s") % {"row": error.row, "column": error.column}
            if order_number:
                where = _("%(where)s (order %(order)s)") % {"where": where, "order": order_number}
            self.stderr.write(f"{where}: {error.message}")


def read_orders(lines: Iterable[str]) -> tuple[list[OrderRows], list[RowError]]:
    """Group the rows by order number, in the order the file first names each order."""
    reader = csv.DictReader(lines)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise CommandError(_("The file lacks the columns: %(columns)s.") % {"columns": ", ".join(missing)})
    reader.fieldnames = header
    orders: dict[str, OrderRows] = {}
    stray: list[RowError] = []
    for index, record in enumerate(reader, start=2):
        values = {name: (record.get(name) or "").strip() for name in KNOWN_COLUMNS}
        row = CsvRow(number=index, values=values)
        number = values["order_number"]
        if not number:
            stray.append(RowError(index, "order_number", _("This field may not be blank.")))
            continue
        orders.setdefault(number, OrderRows(number=number)).rows.append(row)
    return list(orders.values()), stray


def import_order(*, merchant: Merchant, store_id: int, order: OrderRows, dry_run: bool) -> str:
    """Validate and write one order; return "created", "updated" or "failed" (errors on ``order``)."""
    order.errors = _inconsistent_order_columns(order.rows)
    if order.errors:
        return "failed"
    serializer = OrderIntakeSerializer(data=_payload(order, store_id))
    if not serializer.is_valid():
        order.errors = _row_errors(serializer.errors, order.rows)
        return "failed"
    try:
        with transaction.atomic():
            result = order_upsert(merchant=merchant, data=serializer.to_input())
            if dry_run:
                transaction.set_rollback(True)
    except ApplicationError as exc:
        order.errors = [_service_error(exc, order.rows)]
        return "failed"
    except IntegrityError as exc:
        order.errors = [RowError(order.rows[0].number, "order_number", str(exc).splitlines()[0])]
        return "failed"
    return "created" if result.created else "updated"


def _inconsistent_order_columns(rows: list[CsvRow]) -> list[RowError]:
    """The order's own columns repeat on each of its lines; they must say the same thing."""
    first = rows[0]
    return [
        RowError(
            row.number,
            column,
            _("Differs from row %(row)s of the same order (%(value)s).")
            % {"row": first.number, "value": first.values[column] or '""'},
        )
        for row in rows[1:]
        for column in ORDER_COLUMNS
        if row.values[column] != first.values[column]
    ]


def _payload(order: OrderRows, store_id: int) -> dict:
    head = order.rows[0].values
    payload: dict[str, Any] = {
        "store": store_id,
        "number": order.number,
        "currency": head["currency"],
        "placed_at": head["placed_at"],
        "shipped_at": head["shipped_at"] or None,
        "delivered_at": head["delivered_at"] or None,
        "customer": {
            "name": head["customer_name"],
            "email": head["customer_email"],
            "phone": head["customer_phone"],
            "wechat_openid": head["customer_wechat_openid"],
        },
        "lines": [],
    }
    if head["shipping_amount"]:
        payload["shipping_amount"] = head["shipping_amount"]
    for row in order.rows:
        values = row.values
        line = {
            "line_number": values["line_number"],
            "sku": values["sku"],
            "name": values["product_name"],
            "category": values["category"],
            "quantity": values["quantity"],
            "unit_price": values["unit_price"],
        }
        if values["discount_amount"]:
            line["discount_amount"] = values["discount_amount"]
        if values["variant_group"]:
            line["variant_group"] = values["variant_group"]
        if values["product_price"]:
            line["product_price"] = values["product_price"]
        payload["lines"].append(line)
    return payload


def _row_errors(errors: dict, rows: list[CsvRow]) -> list[RowError]:
    """Put each serializer error on the CSV row and column it came from."""
    found = []
    first = rows[0].number
    for name, detail in errors.items():
        if name == "customer" and isinstance(detail, dict):
            for sub, messages in detail.items():
                column = CUSTOMER_FIELD_COLUMNS.get(sub, "customer_email")
                found += [RowError(first, column, str(message)) for message in messages]
        elif name == "lines" and _per_line(detail):
            # DRF gives a line's errors by position, as a dict {index: errors} or a list.
            by_index = detail if isinstance(detail, dict) else dict(enumerate(detail))
            for index, line_errors in by_index.items():
                row = rows[index]
                for sub, messages in line_errors.items():
                    column = LINE_FIELD_COLUMNS.get(sub) or sub
                    found += [RowError(row.number, column, str(message)) for message in _flat(messages)]
        else:
            column = ORDER_FIELD_COLUMNS.get(name, "order_number")
            found += [RowError(first, column, str(message)) for message in _flat(detail)]
    return found


def _per_line(detail) -> bool:
    if isinstance(detail, dict):
        return bool(detail) and all(isinstance(key, int) for key in detail)
    return isinstance(detail, list) and bool(detail) and all(isinstance(item, dict) for item in detail)


def _flat(detail) -> list:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flat(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flat(value)]
    return [detail]


def _service_error(exc: ApplicationError, rows: list[CsvRow]) -> RowError:
    line = exc.extra.get("line")
    row = next((row for row in rows if line is not None and row.values["line_number"] == line), rows[0])
    column = {"lines": "line_number", "store": "order_number"}.get(exc.extra.get("field", ""), "order_number")
    return RowError(row.number, column, str(exc.message))
