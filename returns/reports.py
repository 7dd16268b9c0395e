"""The returns report (issue 4, "Measures"): refund and stage times, return rates, mixes.

Every figure is computed by the database over one merchant and a period [start, end) that the
page makes of whole days in the merchant's time zone. Two clocks decide what falls in a period:

- times count in the period in which they ended (the first payout, the first event of a stage),
  as the SLA report counts a clock where it was met;
- rates and mixes count returns submitted in the period, against units delivered in it; a
  withdrawn (cancelled) or expired return is not a return;
- lost parcels count where they were declared lost (with what was claimed from the carrier), and
  what the carriers paid back counts where the claim was paid.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.utils import translation
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aftersales.models import Merchant, OrderLine
from returns.models import CarrierClaim, ClaimState, Refund, Resolution, ReturnLine, ReturnRequest
from returns.models.requests import HOLDING_STATUSES
from tickets.models import TicketEvent

ONE_DECIMAL = Decimal("0.1")
# The stages of a return, each timed from submission to the first event that marks it.
STAGES = (
    ("return_approved", _("Approved")),
    ("return_in_transit", _("Shipped back")),
    ("return_received", pgettext_lazy("return status", "Received")),
    ("return_inspected", _("Inspected")),
    ("return_completed", _("Completed")),
)
AUTO_APPROVAL_NOTE = "Approved by policy."  # the note returns.services.requests records, translated


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile in minutes (None when nothing ended in the period)."""

    count: int
    median_minutes: Decimal | None
    p90_minutes: Decimal | None


@dataclass(frozen=True)
class StageTime:
    verb: str
    label: str
    durations: Durations


@dataclass(frozen=True)
class ProductRate:
    product_id: int | None
    sku: str
    name: str
    delivered_units: int
    returned_units: int

    @property
    def rate_percent(self) -> Decimal | None:
        return _percent(self.returned_units, self.delivered_units)


@dataclass(frozen=True)
class ReasonRate:
    reason_id: int
    name: str
    returns: int
    returned_units: int
    delivered_units: int  # every product's, in the period

    @property
    def rate_percent(self) -> Decimal | None:
        return _percent(self.returned_units, self.delivered_units)


@dataclass(frozen=True)
class ResolutionShare:
    resolution: str
    label: str
    returns: int
    share_percent: Decimal | None


@dataclass(frozen=True)
class LostParcels:
    """Parcels declared lost in the period and the claims on their carriers, in one currency."""

    currency: str
    parcels: int
    claimed: Decimal
    recovered: Decimal  # paid by the carriers in the period, whenever the parcel was lost


@dataclass(frozen=True)
class ReturnsReport:
    refund_time: Durations
    stage_times: list[StageTime]
    delivered_units: int
    returned_units: int
    by_product: list[ProductRate]
    by_reason: list[ReasonRate]
    resolutions: list[ResolutionShare]
    returns: int
    approved: int
    auto_approved: int
    lost_parcels: list[LostParcels]

    @property
    def lost_parcel_count(self) -> int:
        return sum(row.parcels for row in self.lost_parcels)

    @property
    def return_rate_percent(self) -> Decimal | None:
        return _percent(self.returned_units, self.delivered_units)

    @property
    def auto_approved_percent(self) -> Decimal | None:
        return _percent(self.auto_approved, self.approved)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def _minutes(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def auto_approval_notes() -> list[str]:
    """The note of an approval by policy in every shipped language: it is stored as translated
    in the language that was active when the return was submitted."""
    notes = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            notes.add(gettext(AUTO_APPROVAL_NOTE))
    return sorted(notes)


_PERCENTILES = """
    count(*),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM took) / 60),
    percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM took) / 60)
"""


def refund_time(*, merchant: Merchant, start: datetime, end: datetime) -> Durations:
    """From submission to the first refund paid (money out), for returns first paid in [start, end)."""
    sql = f"""
        WITH firsts AS (
            SELECT min(f.paid_at) - r.submitted_at AS took
            FROM {ReturnRequest._meta.db_table} r
            JOIN {Refund._meta.db_table} f ON f.return_request_id = r.id
            WHERE r.merchant_id = %s AND f.merchant_id = %s AND f.paid_at IS NOT NULL
            GROUP BY r.id, r.submitted_at
            HAVING min(f.paid_at) >= %s AND min(f.paid_at) < %s
        )
        SELECT {_PERCENTILES} FROM firsts
    """  # noqa: S608 (table names come from the models; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [merchant.pk, merchant.pk, start, end])
        count, median, p90 = cursor.fetchone()
    return Durations(count=count, median_minutes=_minutes(median), p90_minutes=_minutes(p90))


def stage_times(*, merchant: Merchant, start: datetime, end: datetime) -> list[StageTime]:
    """Per stage, from submission to the first event of that stage, for stages reached in [start, end)."""
    verbs = [verb for verb, _label in STAGES]
    sql = f"""
        WITH firsts AS (
            SELECT e.verb, min(e.created_at) - r.submitted_at AS took
            FROM {ReturnRequest._meta.db_table} r
            JOIN {TicketEvent._meta.db_table} e ON e.ticket_id = r.ticket_id
            WHERE r.merchant_id = %s AND e.merchant_id = %s AND e.verb = ANY(%s)
            GROUP BY r.id, r.submitted_at, e.verb
            HAVING min(e.created_at) >= %s AND min(e.created_at) < %s
        )
        SELECT verb, {_PERCENTILES} FROM firsts GROUP BY verb
    """  # noqa: S608 (table names come from the models; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [merchant.pk, merchant.pk, verbs, start, end])
        found = {verb: (count, median, p90) for verb, count, median, p90 in cursor.fetchall()}
    return [
        StageTime(
            verb=verb,
            label=str(label),
            durations=Durations(
                count=found.get(verb, (0,))[0],
                median_minutes=_minutes(found.get(verb, (0, None))[1]),
                p90_minutes=_minutes(found.get(verb, (0, None, None))[2]),
            ),
        )
        for verb, label in STAGES
    ]


def lost_parcels(*, merchant: Merchant, start: datetime, end: datetime) -> list[LostParcels]:
    """Per currency: parcels declared lost in [start, end) and what was claimed for them, and what
    carriers paid in [start, end) on any claim."""
    lost = Q(opened_at__gte=start, opened_at__lt=end)
    paid = Q(state=ClaimState.PAID, decided_at__gte=start, decided_at__lt=end)
    zero = Decimal("0.00")
    return [
        LostParcels(
            currency=row["currency"],
            parcels=row["parcels"],
            claimed=row["claimed"] or zero,
            recovered=row["recovered"] or zero,
        )
        for row in CarrierClaim.objects.filter(lost | paid, merchant=merchant)
        .values("currency")
        .annotate(
            parcels=Count("pk", filter=lost),
            claimed=Sum("amount_claimed", filter=lost),
            recovered=Sum("amount_recovered", filter=paid),
        )
        .order_by("currency")
    ]


def returns_report(*, merchant: Merchant, start: datetime, end: datetime) -> ReturnsReport:
    """Every figure of the returns report for one merchant and [start, end): eight queries."""
    submitted = ReturnRequest.objects.filter(
        merchant=merchant, submitted_at__gte=start, submitted_at__lt=end, status__in=HOLDING_STATUSES
    )
    delivered: dict[int | None, Any] = {
        row["product_id"]: row
        for row in OrderLine.objects.filter(
            merchant=merchant, order__merchant=merchant, order__delivered_at__gte=start, order__delivered_at__lt=end
        )
        .values("product_id", product_sku=F("product__sku"), product_name=F("product__name"))
        .annotate(units=Sum("quantity"))
        .order_by()
    }
    returned: dict[int | None, Any] = {
        row["product_id"]: row
        for row in ReturnLine.objects.filter(return_request__in=submitted)
        .values(
            product_id=F("order_line__product_id"),
            product_sku=F("order_line__product__sku"),
            product_name=F("order_line__product__name"),
        )
        .annotate(units=Sum("quantity"))
        .order_by()
    }
    by_product = []
    for product_id in delivered.keys() | returned.keys():
        product = delivered.get(product_id) or returned[product_id]
        by_product.append(
            ProductRate(
                product_id=product_id,
                sku=product["product_sku"],
                name=product["product_name"],
                delivered_units=delivered.get(product_id, {}).get("units") or 0,
                returned_units=returned.get(product_id, {}).get("units") or 0,
            )
        )
    by_product.sort(key=lambda row: (-row.returned_units, -row.delivered_units, row.sku, row.product_id))
    delivered_units = sum(row.delivered_units for row in by_product)
    returned_units = sum(row.returned_units for row in by_product)

    by_reason = [
        ReasonRate(
            reason_id=row["reason_id"],
            name=row["reason__name"],
            returns=row["returns"],
            returned_units=row["units"] or 0,
            delivered_units=delivered_units,
        )
        for row in submitted.values("reason_id", "reason__name")
        .annotate(returns=Count("id", distinct=True), units=Sum("lines__quantity"))
        .order_by("-units", "reason__name", "reason_id")
    ]

    mix = dict(submitted.values_list("resolution").annotate(returns=Count("id")).order_by())
    returns = sum(mix.values())
    resolutions = [
        ResolutionShare(
            resolution=value,
            label=str(label),
            returns=mix.get(value, 0),
            share_percent=_percent(mix.get(value, 0), returns),
        )
        for value, label in Resolution.choices
    ]

    # An approval by policy is recorded with no actor and the policy's note (services/requests.py).
    approvals = TicketEvent.objects.filter(
        merchant=merchant, verb="return_approved", ticket__return_request__in=submitted
    ).aggregate(
        approved=Count("ticket_id", distinct=True),
        auto_approved=Count(
            "ticket_id",
            distinct=True,
            filter=Q(actor_user__isnull=True, data__note__in=auto_approval_notes()),
        ),
    )
    return ReturnsReport(
        refund_time=refund_time(merchant=merchant, start=start, end=end),
        stage_times=stage_times(merchant=merchant, start=start, end=end),
        delivered_units=delivered_units,
        returned_units=returned_units,
        by_product=by_product,
        by_reason=by_reason,
        resolutions=resolutions,
        returns=returns,
        approved=approvals["approved"],
        auto_approved=approvals["auto_approved"],
        lost_parcels=lost_parcels(merchant=merchant, start=start, end=end),
    )
