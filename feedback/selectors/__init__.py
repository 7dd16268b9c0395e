"""Every read of feedback that pages, the API and tasks share."""

from .kpi import (
    AgentScorecard,
    BacklogRow,
    DayFigures,
    Durations,
    Figures,
    KpiFilters,
    KpiHome,
    ReasonShare,
    SkuReturnRate,
    agents_of,
    kpi_home,
    period_of,
    stores_of,
    teams_of,
)
from .quality import alert_cases, alert_events, alert_of, alerts_of

__all__ = [
    "AgentScorecard",
    "BacklogRow",
    "DayFigures",
    "Durations",
    "Figures",
    "KpiFilters",
    "KpiHome",
    "ReasonShare",
    "SkuReturnRate",
    "agents_of",
    "alert_cases",
    "alert_events",
    "alert_of",
    "alerts_of",
    "kpi_home",
    "period_of",
    "stores_of",
    "teams_of",
]
