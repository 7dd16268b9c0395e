"""Feedback: product quality signals and the KPI rollups (surveys, follow-ups and recovery in
their own modules)."""

from .quality import (
    ALERT_TRANSITIONS,
    DEFAULT_CLAIM_WINDOW_DAYS,
    LIVE_ALERT_STATUSES,
    AlertMethod,
    AlertStatus,
    QualityAlert,
    QualityAlertEvent,
    QualityCohort,
    QualitySettings,
)
from .rollups import ReturnDailyRollup, RollupRefresh, TicketDailyRollup

__all__ = [
    "ALERT_TRANSITIONS",
    "DEFAULT_CLAIM_WINDOW_DAYS",
    "LIVE_ALERT_STATUSES",
    "AlertMethod",
    "AlertStatus",
    "QualityAlert",
    "QualityAlertEvent",
    "QualityCohort",
    "QualitySettings",
    "ReturnDailyRollup",
    "RollupRefresh",
    "TicketDailyRollup",
]
