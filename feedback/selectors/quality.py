"""Reads of quality alerts: the merchant's list (newest first, by status), one alert, its cases."""

from django.db.models import QuerySet

from aftersales.models import Merchant
from feedback.models import QualityAlert, QualityAlertEvent
from tickets.models import Ticket


def alerts_of(merchant: Merchant, *, status: str = "") -> QuerySet[QualityAlert]:
    alerts = QualityAlert.objects.filter(merchant=merchant).select_related("product")
    if status:
        alerts = alerts.filter(status=status)
    return alerts.order_by("-detected_on", "-id")


def alert_of(merchant: Merchant, alert_id: int) -> QualityAlert | None:
    return alerts_of(merchant).filter(pk=alert_id).first()


def alert_cases(alert: QualityAlert) -> QuerySet[Ticket]:
    """The cases the alert links, from the alert's merchant only."""
    return (
        Ticket.objects.filter(merchant_id=alert.merchant_id, pk__in=alert.ticket_ids)
        .select_related("customer")
        .order_by("-created_at", "-id")
    )


def alert_events(alert: QualityAlert) -> QuerySet[QualityAlertEvent]:
    return alert.events.select_related("actor").order_by("created_at", "id")
