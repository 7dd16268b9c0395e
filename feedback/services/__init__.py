"""Every write of feedback: the quality run and its alerts' decisions, the KPI rollups' refresh."""

from .quality import (
    QualityRun,
    quality_alert_acknowledge,
    quality_alert_dismiss,
    quality_cohorts_refresh,
    quality_run,
    quality_settings_of,
)
from .rollups import rollups_refresh

__all__ = [
    "QualityRun",
    "quality_alert_acknowledge",
    "quality_alert_dismiss",
    "quality_cohorts_refresh",
    "quality_run",
    "quality_settings_of",
    "rollups_refresh",
]
