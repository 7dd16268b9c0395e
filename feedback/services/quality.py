"""The daily quality run and the decisions on its alerts.

``quality_run`` refreshes the merchant's delivery cohorts from the order, return, repair and
complaint tables (one grouped INSERT … SELECT: a unit is claimed defective by a merchant-
responsible return of it, a repair of it diagnosed as a product defect, or a product-quality
complaint naming its order line, never more claims than units delivered), evaluates them with
``feedback.early_warning`` and raises an alert per newly flagged product, telling the quality
owner. It runs for every merchant each morning on beat
(``feedback.tasks.quality_runs``); a second run on the same day finds the live alerts and adds
nothing.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import Membership, Merchant, Notification, Product, User
from aftersales.services.notifications import notification_queue
from feedback.early_warning import BASELINE_DAYS, CUSUM_DAYS, Cohort, Flag, flags_for_day
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

_REFRESH_SQL = """
INSERT INTO feedback_qualitycohort
    (merchant_id, product_id, category, delivered_on, delivered_units, defect_units, created_at, updated_at)
SELECT line.merchant_id, line.product_id, product.category, (ord.delivered_at AT TIME ZONE %(zone)s)::date,
       SUM(line.quantity),
       LEAST(
           SUM(line.quantity),
           COALESCE(SUM(claim.units), 0) + COALESCE(SUM(repair_claim.units), 0)
           + COALESCE(SUM(complaint_claim.units), 0)
       ),
       %(now)s, %(now)s
FROM aftersales_orderline line
JOIN aftersales_order ord ON ord.id = line.order_id
JOIN aftersales_product product ON product.id = line.product_id
LEFT JOIN LATERAL (
    SELECT SUM(return_line.quantity) AS units
    FROM returns_returnline return_line
    JOIN returns_returnrequest request ON request.id = return_line.return_request_id
    JOIN returns_returnreason reason ON reason.id = request.reason_id
    WHERE return_line.order_line_id = line.id
      AND reason.responsibility = %(merchant_fault)s
      AND request.status <> ALL(%(not_a_claim)s)
      AND request.submitted_at < ord.delivered_at + make_interval(days => %(window)s)
) claim ON TRUE
LEFT JOIN LATERAL (
    SELECT count(*) AS units
    FROM repairs_repairorder repair
    JOIN repairs_diagnosiscode diagnosis ON diagnosis.id = repair.diagnosis_code_id
    WHERE repair.order_line_id = line.id
      AND diagnosis.responsibility = %(product_defect)s
      AND repair.status <> ALL(%(repair_not_a_claim)s)
      AND repair.requested_at < ord.delivered_at + make_interval(days => %(window)s)
) repair_claim ON TRUE
LEFT JOIN LATERAL (
    SELECT count(*) AS units
    FROM tickets_complaint complaint
    JOIN tickets_ticket_order_lines named ON named.ticket_id = complaint.ticket_id
    JOIN tickets_ticket complaint_ticket ON complaint_ticket.id = complaint.ticket_id
    WHERE named.orderline_id = line.id
      AND complaint.category = %(product_quality)s
      AND complaint_ticket.status <> %(cancelled_case)s
      AND complaint_ticket.created_at < ord.delivered_at + make_interval(days => %(window)s)
) complaint_claim ON TRUE
WHERE line.merchant_id = %(merchant)s AND ord.merchant_id = %(merchant)s
  AND ord.delivered_at >= %(start)s AND ord.delivered_at < %(end)s
GROUP BY 1, 2, 3, 4
"""


@dataclass(frozen=True)
class QualityRun:
    last_mature_day: date
    cohorts: int
    products: int
    alerts: list[QualityAlert]


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def quality_cohorts_refresh(*, merchant: Merchant, first_day: date, last_day: date, claim_window_days: int) -> int:
    """Recompute the merchant's cohorts delivered on [first_day, last_day]; returns the rows."""
    zone = ZoneInfo(merchant.timezone)
    with transaction.atomic():
        QualityCohort.objects.filter(
            merchant=merchant, delivered_on__gte=first_day, delivered_on__lte=last_day
        ).delete()
        with connection.cursor() as cursor:
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
                },
            )
            return int(cursor.rowcount)


def quality_settings_of(merchant: Merchant) -> QualitySettings:
    quality_settings, _created = QualitySettings.objects.get_or_create(merchant=merchant)
    return quality_settings


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
        cohorts = [
            Cohort(*row)
            for row in QualityCohort.objects.filter(
                merchant=merchant, delivered_on__gte=first_day, delivered_on__lte=last_mature_day
            ).values_list("product_id", "category", "delivered_on", "delivered_units", "defect_units")
        ]
        counted_after = dict(
            QualityAlert.objects.filter(merchant=merchant, status=AlertStatus.DISMISSED)
            .values("product_id")
            .annotate(last=Max("cohort_end"))
            .values_list("product_id", "last")
        )
        live = set(
            QualityAlert.objects.filter(merchant=merchant, status__in=LIVE_ALERT_STATUSES).values_list(
                "product_id", flat=True
            )
        )
        flags = [
            flag
            for flag in flags_for_day(cohorts, last_mature_day=last_mature_day, counted_after=counted_after)
            if flag.product_id not in live
        ]
        alerts = [_raise(merchant, flag, today) for flag in flags]
        if alerts:
            _notify(merchant, quality_settings, alerts)
    return QualityRun(
        last_mature_day=last_mature_day,
        cohorts=refreshed,
        products=len({cohort.product_id for cohort in cohorts}),
        alerts=alerts,
    )


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


def _raise(merchant: Merchant, flag: Flag, today: date) -> QualityAlert:
    product = Product.objects.get(pk=flag.product_id, merchant=merchant)
    reasons, ticket_ids = _claims(merchant, flag)
    alert = QualityAlert.objects.create(
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
    QualityAlertEvent.objects.create(merchant=merchant, alert=alert, verb=QualityAlertEvent.Verb.RAISED)
    return alert


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
