"""feedback's data, one module per family (surveys, follow-ups and recovery, product quality
signals, the KPI rollups); re-exported here."""

from .followups import (
    FOLLOWUP_TRANSITIONS,
    RECOVERY_TRANSITIONS,
    CallResult,
    FollowUp,
    FollowUpCall,
    FollowUpOutcome,
    FollowUpRule,
    FollowUpStatus,
    FollowUpTrigger,
    RecoveryCase,
    RecoveryStatus,
    RecoveryTrigger,
)
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
from .surveys import (
    SURVEY_TRANSITIONS,
    Survey,
    SurveyKind,
    SurveySettings,
    SurveyStatus,
)

__all__ = [
    "ALERT_TRANSITIONS",
    "DEFAULT_CLAIM_WINDOW_DAYS",
    "FOLLOWUP_TRANSITIONS",
    "LIVE_ALERT_STATUSES",
    "RECOVERY_TRANSITIONS",
    "SURVEY_TRANSITIONS",
    "AlertMethod",
    "AlertStatus",
    "CallResult",
    "FollowUp",
    "FollowUpCall",
    "FollowUpOutcome",
    "FollowUpRule",
    "FollowUpStatus",
    "FollowUpTrigger",
    "QualityAlert",
    "QualityAlertEvent",
    "QualityCohort",
    "QualitySettings",
    "RecoveryCase",
    "RecoveryStatus",
    "RecoveryTrigger",
    "ReturnDailyRollup",
    "RollupRefresh",
    "Survey",
    "SurveyKind",
    "SurveySettings",
    "SurveyStatus",
    "TicketDailyRollup",
]
