"""The daily quality run and the decisions on its alerts.

``quality_run`` refreshes the merchant's delivery cohorts from the order, return, repair and
complaint tables (one statement: the claims summed per order line, a unit claimed defective by a
merchant-responsible return of it, a repair of it diagnosed as a product defect, or a product-
quality complaint naming its order line, never more claims than units delivered; the cohorts
upserted, so that an unchanged one is not written again), evaluates them with
``feedback.early_warning`` on sums the database makes per product and span (only the products
whose CUSUM runs have their daily cohorts read) and raises an alert per newly flagged product,
telling the quality owner. It runs for every merchant each morning on beat
(``feedback.tasks.quality_runs``); a second run on the same day finds the live alerts and adds
nothing.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import Membership, Merchant, Notification, Product, User
from aftersales.services.notifications import notification_queue
from feedback.early_warning import (
    BASELINE_DAYS,
    CUSUM_DAYS,
    WINDOW_DAYS,
    Cohort,
    CohortSums,
    Flag,
    cusum_baselines,
    cusum_flags_of_days,
    laney_flags_of_sums,
    one_flag_per_product,
)
from feedback.locks import quality_alert_lock, quality_settings_lock
from feedback.models import (
    LIVE_ALERT_STATUSES,
    AlertStatus,
    QualityAlert,
    QualityAlertEvent,
    QualityCohort,
    QualitySettings,
)
from feedback.roles import require_quality_decider
from repairs.models import RepairOrder, RepairStatus
from repairs.models import Responsibility as FaultOf
from returns.models import Responsibility, ReturnLine, ReturnStatus
from tickets.models import ComplaintCategory, Ticket, TicketStatus

HISTORY_DAYS = BASELINE_DAYS + CUSUM_DAYS
LATE_CHANGE_DAYS = 7
TOP_REASONS = 3
LINKED_CASES = 50
# Returns that are no claim: withdrawn, never sent, or refused by the merchant.
NOT_A_CLAIM = (ReturnStatus.CANCELLED, ReturnStatus.EXPIRED, ReturnStatus.REJECTED)
# Repairs that are no claim: withdrawn or refused at triage.
REPAIR_NOT_A_CLAIM = (RepairStatus.CANCELLED, RepairStatus.REJECTED)
RATE_PLACES = Decimal("0.000001")

# The claims are summed per order line first, each kind over the merchant's own rows joined to
# the delivered lines (hash joins over the few claimed lines), and then joined to the delivered
# lines once: a LATERAL subquery per delivered line probed three indexes for each of them and
# cost 6.6 s for a week of 10,000 SKUs where this costs well under one. The result is upserted:
# a cohort that did not change is not written again (nor its foreign keys checked again at
# commit), and one that lost all its lines is deleted. Raw SQL: an INSERT … SELECT … ON CONFLICT
# with data-modifying CTEs has no ORM form.
_REFRESH_SQL = """
WITH delivered AS MATERIALIZED (
    SELECT line.id AS line_id, line.product_id, line.quantity,
           ord.delivered_at, (ord.delivered_at AT TIME ZONE %(zone)s)::date AS delivered_on
    FROM aftersales_orderline line
    JOIN aftersales_order ord ON ord.id = line.order_id
    WHERE line.merchant_id = %(merchant)s AND ord.merchant_id = %(merchant)s
      AND ord.delivered_at >= %(start)s AND ord.delivered_at < %(end)s
),
claims AS (
    SELECT return_line.order_line_id AS line_id, SUM(return_line.quantity) AS units
    FROM returns_returnline return_line
    JOIN returns_returnrequest request ON request.id = return_line.return_request_id
    JOIN returns_returnreason reason ON reason.id = request.reason_id
    JOIN delivered ON delivered.line_id = return_line.order_line_id
    WHERE request.merchant_id = %(merchant)s
      AND reason.responsibility = %(merchant_fault)s
      AND request.status <> ALL(%(not_a_claim)s)
      AND request.submitted_at < delivered.delivered_at + make_interval(days => %(window)s)
    GROUP BY 1
    UNION ALL
    SELECT repair.order_line_id, count(*)
    FROM repairs_repairorder repair
    JOIN repairs_diagnosiscode diagnosis ON diagnosis.id = repair.diagnosis_code_id
    JOIN delivered ON delivered.line_id = repair.order_line_id
    WHERE repair.merchant_id = %(merchant)s
      AND diagnosis.responsibility = %(product_defect)s
      AND repair.status <> ALL(%(repair_not_a_claim)s)
      AND repair.requested_at < delivered.delivered_at + make_interval(days => %(window)s)
    GROUP BY 1
    UNION ALL
    SELECT named.orderline_id, count(*)
    FROM tickets_complaint complaint
    JOIN tickets_ticket complaint_ticket ON complaint_ticket.id = complaint.ticket_id
    JOIN tickets_ticket_order_lines named ON named.ticket_id = complaint.ticket_id
    JOIN delivered ON delivered.line_id = named.orderline_id
    WHERE complaint.merchant_id = %(merchant)s AND complaint_ticket.merchant_id = %(merchant)s
      AND complaint.category = %(product_quality)s
      AND complaint_ticket.status <> %(cancelled_case)s
      AND complaint_ticket.created_at < delivered.delivered_at + make_interval(days => %(window)s)
    GROUP BY 1
),
claimed AS (
    SELECT line_id, SUM(units) AS units FROM claims GROUP BY line_id
),
fresh AS MATERIALIZED (
    SELECT delivered.product_id, product.category, delivered.delivered_on,
           SUM(delivered.quantity) AS delivered_units,
           LEAST(SUM(delivered.quantity), COALESCE(SUM(claimed.units), 0)) AS defect_units
    FROM delivered
    JOIN aftersales_product product ON product.id = delivered.product_id
    LEFT JOIN claimed ON claimed.line_id = delivered.line_id
    GROUP BY 1, 2, 3
),
gone AS (
    DELETE FROM feedback_qualitycohort cohort
    WHERE cohort.merchant_id = %(merchant)s
      AND cohort.delivered_on >= %(first_day)s AND cohort.delivered_on <= %(last_day)s
      AND NOT EXISTS (
          SELECT 1 FROM fresh
          WHERE fresh.product_id = cohort.product_id AND fresh.delivered_on = cohort.delivered_on
      )
    RETURNING 1
),
written AS (
    INSERT INTO feedback_qualitycohort
        (merchant_id, product_id, category, delivered_on, delivered_units, defect_units, created_at, updated_at)
    SELECT %(merchant)s, product_id, category, delivered_on, delivered_units, defect_units, %(now)s, %(now)s
    FROM fresh
    ON CONFLICT (merchant_id, product_id, delivered_on) DO UPDATE
    SET category = EXCLUDED.category, delivered_units = EXCLUDED.delivered_units,
        defect_units = EXCLUDED.defect_units, updated_at = EXCLUDED.updated_at
    WHERE (feedback_qualitycohort.category, feedback_qualitycohort.delivered_units,
           feedback_qualitycohort.defect_units)
          IS DISTINCT FROM (EXCLUDED.category, EXCLUDED.delivered_units, EXCLUDED.defect_units)
    RETURNING 1
)
SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM written), (SELECT count(*) FROM gone)
"""

# Each product's cohorts summed over the spans the two tests read (``early_warning.CohortSums``),
# the spans as FILTERs of one grouped scan of the merchant's history. Raw SQL: a cohort counts in
# the window and the CUSUM span only after its product's latest dismissed alert, a join to the
# alerts per product that the ORM could only write as a subquery run for every cohort.
_SUMS_SQL = """
SELECT cohort.product_id, cohort.category, MAX(cohort.delivered_on),
       COALESCE(SUM(cohort.delivered_units) FILTER (WHERE counted AND cohort.delivered_on >= %(window_start)s), 0),
       COALESCE(SUM(cohort.defect_units) FILTER (WHERE counted AND cohort.delivered_on >= %(window_start)s), 0),
       COALESCE(SUM(cohort.delivered_units) FILTER (WHERE cohort.delivered_on < %(span_start)s), 0),
       COALESCE(SUM(cohort.defect_units) FILTER (WHERE cohort.delivered_on < %(span_start)s), 0),
       COALESCE(SUM(cohort.delivered_units) FILTER (WHERE counted AND cohort.delivered_on >= %(span_start)s), 0),
       COUNT(*) FILTER (WHERE counted AND cohort.delivered_on >= %(span_start)s)
FROM (
    SELECT cohort.*, dismissed.last_cohort IS NULL OR cohort.delivered_on > dismissed.last_cohort AS counted
    FROM feedback_qualitycohort cohort
    LEFT JOIN (
        SELECT product_id, MAX(cohort_end) AS last_cohort
        FROM feedback_qualityalert
        WHERE merchant_id = %(merchant)s AND status = %(dismissed)s
        GROUP BY product_id
    ) dismissed ON dismissed.product_id = cohort.product_id
    WHERE cohort.merchant_id = %(merchant)s
      AND cohort.delivered_on >= %(first_day)s AND cohort.delivered_on <= %(last_day)s
) cohort
GROUP BY cohort.product_id, cohort.category
"""


@dataclass(frozen=True)
class QualityRun:
    last_mature_day: date
    cohorts: int
    products: int
    alerts: list[QualityAlert]


def _without_jit(cursor: CursorWrapper) -> None:
    """The planner's cost of the run's grouped statements passes the JIT threshold, and compiling
    the refresh took 4 s of its 9.5 s (the sums, 0.3 s of 2): off until the transaction ends."""
    cursor.execute("SET LOCAL jit = off")


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def quality_cohorts_refresh(*, merchant: Merchant, first_day: date, last_day: date, claim_window_days: int) -> int:
    """Recompute the merchant's cohorts delivered on [first_day, last_day]; returns the rows
    computed (those that changed are written, those left without a delivery deleted)."""
    zone = ZoneInfo(merchant.timezone)
    with transaction.atomic(), connection.cursor() as cursor:
        _without_jit(cursor)
        cursor.execute(
            _REFRESH_SQL,
            {
                "zone": merchant.timezone,
                "now": timezone.now(),
                "merchant_fault": Responsibility.MERCHANT.value,
                "not_a_claim": [status.value for status in NOT_A_CLAIM],
                "product_defect": FaultOf.PRODUCT_DEFECT.value,
                "repair_not_a_claim": [status.value for status in REPAIR_NOT_A_CLAIM],
                "product_quality": ComplaintCategory.PRODUCT_QUALITY.value,
                "cancelled_case": TicketStatus.CANCELLED.value,
                "window": claim_window_days,
                "merchant": merchant.pk,
                "start": _day_start(first_day, zone),
                "end": _day_start(last_day + timedelta(days=1), zone),
                "first_day": first_day,
                "last_day": last_day,
            },
        )
        computed, _written, _deleted = cursor.fetchone()
        return int(computed)


def quality_settings_of(merchant: Merchant) -> QualitySettings:
    quality_settings, _created = QualitySettings.objects.get_or_create(merchant=merchant)
    return quality_settings


def _cohort_sums(merchant: Merchant, last_mature_day: date) -> list[CohortSums]:
    """Every product's cohorts of the history summed per span, by the database."""
    with connection.cursor() as cursor:
        _without_jit(cursor)
        cursor.execute(
            _SUMS_SQL,
            {
                "merchant": merchant.pk,
                "dismissed": AlertStatus.DISMISSED.value,
                "first_day": last_mature_day - timedelta(days=HISTORY_DAYS - 1),
                "last_day": last_mature_day,
                "window_start": last_mature_day - timedelta(days=WINDOW_DAYS - 1),
                "span_start": last_mature_day - timedelta(days=CUSUM_DAYS - 1),
            },
        )
        return [CohortSums(*row) for row in cursor.fetchall()]


def quality_flags(*, merchant: Merchant, last_mature_day: date) -> tuple[list[Flag], int]:
    """``early_warning.flags_for_day`` on the merchant's cohort table, without loading it: the
    database sums each product's spans, and only the products whose CUSUM runs have their daily
    cohorts of the span read. Returns the flags and how many products have cohorts."""
    sums = _cohort_sums(merchant, last_mature_day)
    laney = laney_flags_of_sums(sums, start=last_mature_day - timedelta(days=WINDOW_DAYS - 1), end=last_mature_day)
    baselines = cusum_baselines(sums)
    cusum: list[Flag] = []
    if baselines:
        counted_after = dict(
            QualityAlert.objects.filter(merchant=merchant, status=AlertStatus.DISMISSED, product_id__in=baselines)
            .values("product_id")
            .annotate(last=Max("cohort_end"))
            .values_list("product_id", "last")
        )
        span = QualityCohort.objects.filter(
            merchant=merchant,
            product_id__in=baselines,
            delivered_on__gte=last_mature_day - timedelta(days=CUSUM_DAYS - 1),
            delivered_on__lte=last_mature_day,
        ).values_list("product_id", "category", "delivered_on", "delivered_units", "defect_units")
        cusum = cusum_flags_of_days(
            baselines,
            (
                Cohort(*row)
                for row in span.iterator(chunk_size=10_000)
                if row[0] not in counted_after or row[2] > counted_after[row[0]]
            ),
        )
    return one_flag_per_product(laney, cusum), len({row.product_id for row in sums})


def quality_run(*, merchant: Merchant, today: date | None = None) -> QualityRun:
    """The merchant's daily run: refresh the cohorts, test the mature ones, raise new alerts."""
    quality_settings_of(merchant)
    zone = ZoneInfo(merchant.timezone)
    today = today or timezone.localdate(timezone=zone)
    with transaction.atomic():
        quality_settings = quality_settings_lock(merchant.pk)
        window = quality_settings.claim_window_days
        # A cohort is mature once its whole claim window has passed.
        last_mature_day = today - timedelta(days=window + 1)
        first_day = last_mature_day - timedelta(days=HISTORY_DAYS - 1)
        # Cohorts older than the last mature day are final (their window has passed); a week
        # more is recomputed for late changes (a claim withdrawn). The whole history is computed
        # on the first run, or after a week without one.
        previous = quality_settings.cohorts_refreshed_on
        recent = last_mature_day - timedelta(days=LATE_CHANGE_DAYS)
        refresh_from = (
            recent if previous is not None and previous >= today - timedelta(days=LATE_CHANGE_DAYS) else first_day
        )
        refreshed = quality_cohorts_refresh(
            merchant=merchant, first_day=refresh_from, last_day=today, claim_window_days=window
        )
        quality_settings.cohorts_refreshed_on = today
        quality_settings.save(update_fields=["cohorts_refreshed_on", "updated_at"])
        flags, products = quality_flags(merchant=merchant, last_mature_day=last_mature_day)
        live = set(
            QualityAlert.objects.filter(merchant=merchant, status__in=LIVE_ALERT_STATUSES).values_list(
                "product_id", flat=True
            )
        )
        alerts = _raise(merchant, [flag for flag in flags if flag.product_id not in live], today)
        if alerts:
            _notify(merchant, quality_settings, alerts)
    return QualityRun(last_mature_day=last_mature_day, cohorts=refreshed, products=products, alerts=alerts)


def _claims(merchant: Merchant, flag: Flag) -> tuple[list[dict[str, object]], list[int]]:
    """The flagged cohorts' claims: the top reasons (units) and the cases, newest first. The
    reasons of returns are their return reasons, of repairs their diagnoses, of complaints their
    category."""
    zone = ZoneInfo(merchant.timezone)
    delivered_from = _day_start(flag.cohort_start, zone)
    delivered_until = _day_start(flag.cohort_end + timedelta(days=1), zone)
    lines = ReturnLine.objects.filter(
        return_request__ticket__merchant=merchant,
        order_line__product_id=flag.product_id,
        order_line__order__delivered_at__gte=delivered_from,
        order_line__order__delivered_at__lt=delivered_until,
        return_request__reason__responsibility=Responsibility.MERCHANT,
    ).exclude(return_request__status__in=NOT_A_CLAIM)
    repairs = RepairOrder.objects.filter(
        merchant=merchant,
        order_line__product_id=flag.product_id,
        order_line__order__delivered_at__gte=delivered_from,
        order_line__order__delivered_at__lt=delivered_until,
        diagnosis_code__responsibility=FaultOf.PRODUCT_DEFECT,
    ).exclude(status__in=REPAIR_NOT_A_CLAIM)
    complaint_tickets = Ticket.objects.filter(
        merchant=merchant,
        complaint__category=ComplaintCategory.PRODUCT_QUALITY,
        order_lines__product_id=flag.product_id,
        order_lines__order__delivered_at__gte=delivered_from,
        order_lines__order__delivered_at__lt=delivered_until,
    ).exclude(status=TicketStatus.CANCELLED)
    reasons: list[dict[str, object]] = [
        {"reason": row["return_request__reason__name"], "units": row["units"], "cases": row["cases"]}
        for row in lines.values("return_request__reason__name").annotate(
            units=Sum("quantity"), cases=Count("return_request", distinct=True)
        )
    ]
    reasons += [
        {"reason": row["diagnosis_code__name"], "units": row["cases"], "cases": row["cases"]}
        for row in repairs.values("diagnosis_code__name").annotate(cases=Count("id"))
    ]
    complaints = complaint_tickets.values("pk").distinct().count()
    if complaints:
        reasons.append(
            {"reason": str(ComplaintCategory.PRODUCT_QUALITY.label), "units": complaints, "cases": complaints}
        )
    reasons.sort(key=lambda reason: (-int(str(reason["units"])), str(reason["reason"])))
    newest: list[tuple[datetime, int]] = [
        *lines.order_by("-return_request__submitted_at").values_list(
            "return_request__submitted_at", "return_request__ticket_id"
        )[: LINKED_CASES * 2],
        *repairs.order_by("-requested_at").values_list("requested_at", "ticket_id")[:LINKED_CASES],
        *complaint_tickets.order_by("-created_at").values_list("created_at", "pk").distinct()[:LINKED_CASES],
    ]
    newest.sort(key=lambda case: case[0], reverse=True)
    ticket_ids = list(dict.fromkeys(ticket_id for _at, ticket_id in newest))[:LINKED_CASES]
    return reasons[:TOP_REASONS], ticket_ids


def _rate(value: float) -> Decimal:
    return Decimal(str(value)).quantize(RATE_PLACES)


def _raise(merchant: Merchant, flags: list[Flag], today: date) -> list[QualityAlert]:
    """An alert per flag, with its event, in bulk; the claims are read per flag (a few a day)."""
    if not flags:
        return []
    products = Product.objects.filter(merchant=merchant).in_bulk([flag.product_id for flag in flags])
    alerts = []
    for flag in flags:
        reasons, ticket_ids = _claims(merchant, flag)
        product = products[flag.product_id]
        alerts.append(
            QualityAlert(
                merchant=merchant,
                product=product,
                sku=product.sku,
                category=flag.category,
                method=flag.method,
                detected_on=today,
                cohort_start=flag.cohort_start,
                cohort_end=flag.cohort_end,
                delivered_units=flag.delivered_units,
                defect_units=flag.defect_units,
                rate=_rate(flag.rate),
                baseline_rate=_rate(flag.baseline_rate),
                upper_limit=_rate(flag.upper_limit) if flag.upper_limit is not None else None,
                statistic=Decimal(str(round(flag.statistic, 3))),
                top_reasons=reasons,
                ticket_ids=ticket_ids,
            )
        )
    QualityAlert.objects.bulk_create(alerts)
    QualityAlertEvent.objects.bulk_create(
        QualityAlertEvent(merchant=merchant, alert=alert, verb=QualityAlertEvent.Verb.RAISED) for alert in alerts
    )
    return alerts


def _quality_recipients(merchant: Merchant, quality_settings: QualitySettings) -> list[User]:
    if quality_settings.owner is not None and quality_settings.owner.email:
        return [quality_settings.owner]
    return list(
        User.objects.filter(
            memberships__merchant=merchant,
            memberships__is_active=True,
            memberships__role=Membership.Role.MERCHANT_ADMIN,
        )
        .exclude(email="")
        .order_by("pk")
    )


def _notify(merchant: Merchant, quality_settings: QualitySettings, alerts: list[QualityAlert]) -> None:
    for user in _quality_recipients(merchant, quality_settings):
        for alert in alerts:
            notification_queue(
                merchant=merchant,
                channel=Notification.Channel.EMAIL,
                recipient=user.email,
                recipient_user=user,
                template="quality_alert",
                context={
                    "merchant_name": merchant.name,
                    "sku": alert.sku,
                    "rate_percent": f"{alert.rate * 100:.2f}",
                    "baseline_percent": f"{alert.baseline_rate * 100:.2f}",
                    "defect_units": alert.defect_units,
                    "delivered_units": alert.delivered_units,
                    "reasons": ", ".join(str(reason["reason"]) for reason in alert.top_reasons),
                    "alert_url": settings.SITE_URL + reverse("dashboard:quality_alert", kwargs={"pk": alert.pk}),
                },
                language=user.language or merchant.default_language,
            )


def quality_alert_acknowledge(*, alert: QualityAlert, actor: User, note: str = "") -> QualityAlert:
    """Someone is on it: the alert stays live (no new one for the product) until dismissed."""
    with transaction.atomic():
        alert = quality_alert_lock(alert.pk)
        require_quality_decider(actor, alert.merchant_id, _owner_id(alert.merchant_id))
        _check(alert, AlertStatus.ACKNOWLEDGED)
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by = actor
        alert.acknowledged_at = timezone.now()
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "updated_at"])
        QualityAlertEvent.objects.create(
            merchant_id=alert.merchant_id, alert=alert, actor=actor, verb=QualityAlertEvent.Verb.ACKNOWLEDGED, note=note
        )
    return alert


def quality_alert_dismiss(*, alert: QualityAlert, actor: User, reason: str) -> QualityAlert:
    """Not a quality problem (a bad batch already pulled, a mislabelled reason, …): the alert and
    the cohorts it covered stop counting, so only new evidence can flag the product again."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the alert is dismissed."), code="reason_required")
    with transaction.atomic():
        alert = quality_alert_lock(alert.pk)
        require_quality_decider(actor, alert.merchant_id, _owner_id(alert.merchant_id))
        _check(alert, AlertStatus.DISMISSED)
        alert.status = AlertStatus.DISMISSED
        alert.dismissed_by = actor
        alert.dismissed_at = timezone.now()
        alert.note = reason
        alert.save(update_fields=["status", "dismissed_by", "dismissed_at", "note", "updated_at"])
        QualityAlertEvent.objects.create(
            merchant_id=alert.merchant_id, alert=alert, actor=actor, verb=QualityAlertEvent.Verb.DISMISSED, note=reason
        )
    return alert


def _owner_id(merchant_id: int) -> int | None:
    return QualitySettings.objects.filter(merchant_id=merchant_id).values_list("owner_id", flat=True).first()


def _check(alert: QualityAlert, status: str) -> None:
    if not alert.can_transition_to(status):
        raise TransitionNotAllowed(
            _("An alert that is %(current)s cannot become %(target)s.")
            % {"current": alert.get_status_display(), "target": AlertStatus(status).label},
            extra={"from": alert.status, "to": status},
        )
