"""feedback's data: one module per family; what other modules use is re-exported here."""

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
from .surveys import (
    SURVEY_TRANSITIONS,
    Survey,
    SurveyKind,
    SurveySettings,
    SurveyStatus,
)

__all__ = [
    "FOLLOWUP_TRANSITIONS",
    "RECOVERY_TRANSITIONS",
    "SURVEY_TRANSITIONS",
    "CallResult",
    "FollowUp",
    "FollowUpCall",
    "FollowUpOutcome",
    "FollowUpRule",
    "FollowUpStatus",
    "FollowUpTrigger",
    "RecoveryCase",
    "RecoveryStatus",
    "RecoveryTrigger",
    "Survey",
    "SurveyKind",
    "SurveySettings",
    "SurveyStatus",
]
