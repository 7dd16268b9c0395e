"""The KPI home's reads: everything from the rollups (``feedback.models.rollups``), in a fixed
number of queries whatever the period or the size of the ticket table.

The one live read is the backlog (cases open now, by age and kind): it is a state, not a
history, and it reads only the active tickets through the hub's partial index on them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.models import Merchant, Product, Store, User
from feedback.kpi import BUCKETS, percentile_minutes, rate_percent
from feedback.models import RepairDailyRollup, ReturnDailyRollup, RollupRefresh, SurveyDailyRollup, TicketDailyRollup
from returns.models import ReturnReason
from tickets.models import ACTIVE_STATUSES, SlaTarget, Team, Ticket, TicketKind

MEDIAN = 0.5
P90 = 0.9
TOP_SKUS = 10
# Backlog ages: up to (exclusive) this many hours; the last is open-ended.
BACKLOG_AGES_HOURS = (24, 72, 168)

HISTOGRAMS = ("first_response_minutes", "resolution_minutes", "refund_cycle_minutes")
COUNTS = (
    "created",
    "resolved",
    "reopened",
    "first_contact_resolved",
    *[f"sla_{target}_{outcome}" for target in SlaTarget.values for outcome in ("met", "breached")],
)

_BUCKET_COLUMNS = {name: [f"{name}_{index}" for index in range(BUCKETS)] for name in HISTOGRAMS}


@dataclass(frozen=True)
class KpiFilters:
    start: date  # first day, inclusive (merchant's calendar)
    end: date  # last day, inclusive
    store_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None
    kind: str = ""


@dataclass(frozen=True)
class Durations:
    count: int
    median_minutes: Decimal | None
    p90_minutes: Decimal | None

    @classmethod
    def of(cls, histogram: list[int]) -> "Durations":
        return cls(
            count=sum(histogram),
            median_minutes=percentile_minutes(histogram, MEDIAN),
            p90_minutes=percentile_minutes(histogram, P90),
        )


@dataclass
class Figures:
    """Counts and summed histograms of some rollup rows (a day, an agent, the whole period)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    histograms: dict[str, list[int]] = field(default_factory=lambda: {name: [0] * BUCKETS for name in HISTOGRAMS})
    # The page reads each median and p90 several times (tables, charts): computed once per add.
    _durations: dict[str, Durations] = field(default_factory=dict, repr=False, compare=False)

    def add(self, row: dict[str, Any]) -> None:
        for name in COUNTS:
            self.counts[name] += row[name] or 0
        for name in HISTOGRAMS:
            histogram = self.histograms[name]
            for index, column in enumerate(_BUCKET_COLUMNS[name]):
                histogram[index] += row[column] or 0
        self._durations.clear()

    def _of(self, name: str) -> Durations:
        durations = self._durations.get(name)
        if durations is None:
            durations = self._durations[name] = Durations.of(self.histograms[name])
        return durations

    @property
    def first_response(self) -> Durations:
        return self._of("first_response_minutes")

    @property
    def resolution(self) -> Durations:
        return self._of("resolution_minutes")

    @property
    def refund_cycle(self) -> Durations:
        return self._of("refund_cycle_minutes")

    @property
    def first_contact_resolution_percent(self) -> Decimal | None:
        return rate_percent(self.counts["first_contact_resolved"], self.counts["resolved"])

    @property
    def reopen_percent(self) -> Decimal | None:
        return rate_percent(self.counts["reopened"], self.counts["resolved"])

    def sla_percent(self, target: str) -> Decimal | None:
        met = self.counts[f"sla_{target}_met"]
        return rate_percent(met, met + self.counts[f"sla_{target}_breached"])

    @property
    def sla(self) -> list["SlaFigure"]:
        return [
            SlaFigure(
                target=target,
                label=str(SlaTarget(target).label),
                met=self.counts[f"sla_{target}_met"],
                breached=self.counts[f"sla_{target}_breached"],
                percent=self.sla_percent(target),
            )
            for target in SlaTarget.values
        ]


@dataclass(frozen=True)
class SlaFigure:
    target: str
    label: str
    met: int
    breached: int
    percent: Decimal | None


@dataclass(frozen=True)
class DayFigures:
    day: date
    figures: Figures


@dataclass(frozen=True)
class AgentScorecard:
    agent_id: int | None
    name: str
    figures: Figures


@dataclass(frozen=True)
class BacklogRow:
    kind: str
    label: str
    by_age: list[int]  # one count per age band

    @property
    def total(self) -> int:
        return sum(self.by_age)


@dataclass(frozen=True)
class SkuReturnRate:
    product_id: int
    sku: str
    name: str
    delivered_units: int
    returned_units: int

    @property
    def rate_percent(self) -> Decimal | None:
        return rate_percent(self.returned_units, self.delivered_units)


@dataclass(frozen=True)
class ReasonShare:
    reason_id: int
    name: str
    returned_units: int
    percent_of_returns: Decimal | None


SURVEY_COUNTS = (
    "csat_sent",
    "csat_answered",
    "csat_score_sum",
    "nps_answered",
    "nps_promoters",
    "nps_detractors",
    "technician_rated",
    "punctuality_sum",
    "skill_sum",
    "courtesy_sum",
)
REPAIR_COUNTS = ("repairs_returned", "on_site_returned", "first_time_fixed", "arrivals", "arrivals_on_time")
TWO_PLACES = Decimal("0.01")


def _average(total: int, count: int) -> Decimal | None:
    return (Decimal(total) / count).quantize(TWO_PLACES) if count else None


@dataclass
class ServiceFigures:
    """Surveys (CSAT, NPS, technician ratings) and repairs (turnaround, first-time fix, on-time
    arrival) of some rollup rows: the period, or one technician."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*SURVEY_COUNTS, *REPAIR_COUNTS), 0))
    turnaround_histogram: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def add(self, row: dict[str, Any]) -> None:
        for name in self.counts:
            self.counts[name] += row.get(name) or 0
        for index in range(BUCKETS):
            self.turnaround_histogram[index] += row.get(f"turnaround_minutes_{index}") or 0

    @property
    def csat_average(self) -> Decimal | None:
        return _average(self.counts["csat_score_sum"], self.counts["csat_answered"])

    @property
    def csat_response_percent(self) -> Decimal | None:
        return rate_percent(self.counts["csat_answered"], self.counts["csat_sent"])

    @property
    def nps(self) -> Decimal | None:
        """Promoters' share minus detractors' share, in points (−100 … 100)."""
        answered = self.counts["nps_answered"]
        if not answered:
            return None
        return (Decimal(100) * (self.counts["nps_promoters"] - self.counts["nps_detractors"]) / answered).quantize(
            Decimal("0.1")
        )

    @property
    def punctuality_average(self) -> Decimal | None:
        return _average(self.counts["punctuality_sum"], self.counts["technician_rated"])

    @property
    def skill_average(self) -> Decimal | None:
        return _average(self.counts["skill_sum"], self.counts["technician_rated"])

    @property
    def courtesy_average(self) -> Decimal | None:
        return _average(self.counts["courtesy_sum"], self.counts["technician_rated"])

    @property
    def turnaround(self) -> Durations:
        return Durations.of(self.turnaround_histogram)

    @property
    def first_time_fix_percent(self) -> Decimal | None:
        return rate_percent(self.counts["first_time_fixed"], self.counts["on_site_returned"])

    @property
    def on_time_percent(self) -> Decimal | None:
        return rate_percent(self.counts["arrivals_on_time"], self.counts["arrivals"])


@dataclass(frozen=True)
class TechnicianScorecard:
    technician_id: int
    name: str
    figures: ServiceFigures


@dataclass(frozen=True)
class KpiHome:
    filters: KpiFilters
    refreshed_at: datetime | None
    totals: Figures
    days: list[DayFigures]
    scorecards: list[AgentScorecard]
    backlog: list[BacklogRow]
    backlog_ages: list[str]
    skus: list[SkuReturnRate]
    reasons: list[ReasonShare]
    delivered_units: int
    returned_units: int
    complaints: int
    service: ServiceFigures = field(default_factory=ServiceFigures)
    technicians: list[TechnicianScorecard] = field(default_factory=list)

    @property
    def return_rate_percent(self) -> Decimal | None:
        return rate_percent(self.returned_units, self.delivered_units)

    @property
    def complaints_per_thousand_units(self) -> Decimal | None:
        if not self.delivered_units:
            return None
        return (Decimal(1000) * self.complaints / self.delivered_units).quantize(Decimal("0.01"))


def _sums(merchant: Merchant, filters: KpiFilters) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per day and per agent: every count and every histogram bucket summed by the database, in
    one scan of the period's rows (GROUPING SETS; array elements have no ORM aggregate, so this
    one is SQL), with the complaints opened. Returns the days' rows and the agents' (agent_id
    None: unassigned)."""
    where = ["merchant_id = %s", "day BETWEEN %s AND %s"]
    params: list[Any] = [merchant.pk, filters.start, filters.end]
    for column, value in (("store_id", filters.store_id), ("team_id", filters.team_id), ("agent_id", filters.agent_id)):
        if value:
            where.append(f"{column} = %s")
            params.append(value)
    if filters.kind:
        where.append("kind = %s")
        params.append(filters.kind)
    columns = [f"sum({name}) AS {name}" for name in COUNTS] + [
        f"sum({name}[{index + 1}]) AS {name}_{index}" for name in HISTOGRAMS for index in range(BUCKETS)
    ]
    columns.append("sum(created) FILTER (WHERE kind = %s) AS complaints")
    params.insert(0, TicketKind.COMPLAINT.value)
    query = (
        f"SELECT GROUPING(day) AS per_agent, day, agent_id, {', '.join(columns)} "  # noqa: S608 - constants; values are parameters
        f"FROM {TicketDailyRollup._meta.db_table} WHERE {' AND '.join(where)} "
        "GROUP BY GROUPING SETS ((day), (agent_id)) ORDER BY per_agent, day, agent_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        names = [column.name for column in cursor.description or ()]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return [row for row in rows if not row["per_agent"]], [row for row in rows if row["per_agent"]]


def _survey_sums(merchant: Merchant, filters: KpiFilters) -> list[dict[str, Any]]:
    """The survey rollups of the period and filters, summed per technician (None: no technician)."""
    rows = SurveyDailyRollup.objects.filter(merchant=merchant, day__gte=filters.start, day__lte=filters.end)
    if filters.store_id:
        rows = rows.filter(store_id=filters.store_id)
    if filters.team_id:
        rows = rows.filter(team_id=filters.team_id)
    if filters.agent_id:
        rows = rows.filter(agent_id=filters.agent_id)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    summed = rows.values("technician_id").annotate(**{name: Sum(name) for name in SURVEY_COUNTS})
    return [dict(row) for row in summed.order_by("technician_id")]


def _repair_sums(merchant: Merchant, filters: KpiFilters) -> list[dict[str, Any]]:
    """The repair rollups of the period, summed per technician with their turnaround histograms.
    Repairs have a store but no team or agent: those filters leave them whole; a kind other than
    repair leaves none (the query still runs, so the home's query count does not depend on it)."""
    where = ["merchant_id = %s", "day BETWEEN %s AND %s", "%s"]
    params: list[Any] = [merchant.pk, filters.start, filters.end, filters.kind in ("", TicketKind.REPAIR)]
    if filters.store_id:
        where.append("store_id = %s")
        params.append(filters.store_id)
    columns = [f"sum({name}) AS {name}" for name in REPAIR_COUNTS] + [
        f"sum(turnaround_minutes[{index + 1}]) AS turnaround_minutes_{index}" for index in range(BUCKETS)
    ]
    query = (
        f"SELECT technician_id, {', '.join(columns)} FROM {RepairDailyRollup._meta.db_table} "  # noqa: S608 - constants; values are parameters
        f"WHERE {' AND '.join(where)} GROUP BY technician_id ORDER BY technician_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        names = [column.name for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _service(
    survey_rows: list[dict[str, Any]], repair_rows: list[dict[str, Any]]
) -> tuple[ServiceFigures, dict[int, ServiceFigures]]:
    """The period's service figures, and each technician's."""
    totals = ServiceFigures()
    per_technician: dict[int, ServiceFigures] = {}
    for row in (*survey_rows, *repair_rows):
        totals.add(row)
        if row["technician_id"] is not None:
            per_technician.setdefault(row["technician_id"], ServiceFigures()).add(row)
    return totals, per_technician


def _backlog(merchant: Merchant, filters: KpiFilters, now: datetime) -> list[BacklogRow]:
    tickets = Ticket.objects.filter(merchant=merchant, status__in=ACTIVE_STATUSES)
    if filters.store_id:
        tickets = tickets.filter(store_id=filters.store_id)
    if filters.team_id:
        tickets = tickets.filter(team_id=filters.team_id)
    if filters.agent_id:
        tickets = tickets.filter(assignee_id=filters.agent_id)
    if filters.kind:
        tickets = tickets.filter(kind=filters.kind)
    # Counted over created_at (never null, so the same numbers as counting ids): every column the
    # query reads is then in the partial index ticket_backlog_active, and PostgreSQL answers with an
    # index-only scan of the merchant's active tickets instead of reading all of its tickets.
    bands: dict[str, Any] = {}
    lower: datetime | None = None
    for index, hours in enumerate(BACKLOG_AGES_HOURS):
        upper = now - timedelta(hours=hours)
        bands[f"age_{index}"] = Count(
            "created_at", filter=Q(created_at__gt=upper) & (Q(created_at__lte=lower) if lower else Q())
        )
        lower = upper
    bands[f"age_{len(BACKLOG_AGES_HOURS)}"] = Count("created_at", filter=Q(created_at__lte=lower))
    counted: dict[str, dict[str, Any]] = {
        row["kind"]: dict(row) for row in tickets.values("kind").annotate(**bands).order_by()
    }
    rows = []
    for kind, label in TicketKind.choices:
        row = counted.get(kind)
        if row:
            rows.append(
                BacklogRow(
                    kind=kind, label=str(label), by_age=[row[f"age_{i}"] for i in range(len(BACKLOG_AGES_HOURS) + 1)]
                )
            )
    return rows


def _return_rollups(merchant: Merchant, filters: KpiFilters) -> QuerySet[ReturnDailyRollup]:
    rows = ReturnDailyRollup.objects.filter(merchant=merchant, day__gte=filters.start, day__lte=filters.end)
    if filters.store_id:
        rows = rows.filter(store_id=filters.store_id)
    return rows


def kpi_home(*, merchant: Merchant, filters: KpiFilters, backlog_ages: list[str]) -> KpiHome:
    """The home's figures for the period and filters; a fixed number of queries."""
    totals = Figures()
    days = []
    day_rows, by_agent = _sums(merchant, filters)
    by_day = {row["day"]: row for row in day_rows}
    for offset in range((filters.end - filters.start).days + 1):
        day = filters.start + timedelta(days=offset)
        figures = Figures()
        if day in by_day:
            figures.add(by_day[day])
            totals.add(by_day[day])
        days.append(DayFigures(day=day, figures=figures))
    service, per_technician = _service(_survey_sums(merchant, filters), _repair_sums(merchant, filters))
    # One read of the names for agents and technicians alike.
    names = dict(
        User.objects.filter(
            pk__in=[row["agent_id"] for row in by_agent if row["agent_id"]] + list(per_technician)
        ).values_list("pk", "username")
    )
    technicians = sorted(
        (
            TechnicianScorecard(technician_id=pk, name=names.get(pk, ""), figures=figures)
            for pk, figures in per_technician.items()
        ),
        key=lambda card: (-card.figures.counts["repairs_returned"], card.name),
    )
    scorecards = []
    for row in by_agent:
        figures = Figures()
        figures.add(row)
        scorecards.append(
            AgentScorecard(agent_id=row["agent_id"], name=names.get(row["agent_id"], ""), figures=figures)
        )
    scorecards.sort(key=lambda card: (-card.figures.counts["resolved"], card.name))
    returns = _return_rollups(merchant, filters)
    delivered_and_returned = returns.aggregate(delivered=Sum("delivered_units"), returned=Sum("returned_units"))
    delivered = delivered_and_returned["delivered"] or 0
    returned = delivered_and_returned["returned"] or 0
    top = list(
        returns.exclude(product=None)
        .values("product_id")
        .annotate(delivered=Sum("delivered_units"), returned=Sum("returned_units"))
        .filter(returned__gt=0)
        .order_by("-returned", "product_id")[:TOP_SKUS]
    )
    products = Product.objects.filter(merchant=merchant, pk__in=[row["product_id"] for row in top]).in_bulk()
    skus = [
        SkuReturnRate(
            product_id=row["product_id"],
            sku=products[row["product_id"]].sku,
            name=products[row["product_id"]].name,
            delivered_units=row["delivered"],
            returned_units=row["returned"],
        )
        for row in top
        if row["product_id"] in products
    ]
    by_reason = list(
        returns.exclude(reason=None).values("reason_id").annotate(units=Sum("returned_units")).order_by("-units")
    )
    reason_names = dict(
        ReturnReason.objects.filter(merchant=merchant, pk__in=[row["reason_id"] for row in by_reason]).values_list(
            "pk", "name"
        )
    )
    reasons = [
        ReasonShare(
            reason_id=row["reason_id"],
            name=reason_names.get(row["reason_id"], ""),
            returned_units=row["units"],
            percent_of_returns=rate_percent(row["units"], returned),
        )
        for row in by_reason
    ]
    complaints = sum(row["complaints"] or 0 for row in day_rows)
    refreshed_at = RollupRefresh.objects.filter(merchant=merchant).values_list("refreshed_at", flat=True).first()
    return KpiHome(
        filters=filters,
        refreshed_at=refreshed_at,
        totals=totals,
        days=days,
        scorecards=scorecards,
        backlog=_backlog(merchant, filters, timezone.now()),
        backlog_ages=backlog_ages,
        skus=skus,
        reasons=reasons,
        delivered_units=delivered,
        returned_units=returned,
        complaints=complaints,
        service=service,
        technicians=technicians,
    )


TECHNICIAN_SCORE_DAYS = 30


def technician_score_lines(*, merchant_id: int, user_ids: list[int]) -> dict[int, str]:
    """repairs' dispatch board asks (``repairs.hooks``): each technician's CSAT, on-time arrivals
    and first-visit fixes over the last 30 days, from the rollups; two queries for any number."""
    since = timezone.localdate() - timedelta(days=TECHNICIAN_SCORE_DAYS - 1)
    figures: dict[int, ServiceFigures] = {}
    surveys = (
        SurveyDailyRollup.objects.filter(merchant_id=merchant_id, day__gte=since, technician_id__in=user_ids)
        .values("technician_id")
        .annotate(csat_answered=Sum("csat_answered"), csat_score_sum=Sum("csat_score_sum"))
        .order_by()
    )
    repairs = (
        RepairDailyRollup.objects.filter(merchant_id=merchant_id, day__gte=since, technician_id__in=user_ids)
        .values("technician_id")
        .annotate(**{name: Sum(name) for name in REPAIR_COUNTS})
        .order_by()
    )
    for row in (*surveys, *repairs):
        figures.setdefault(row["technician_id"], ServiceFigures()).add(dict(row))
    return {
        user_id: _("CSAT %(csat)s · on time %(on_time)s · fixed at the first visit %(first_time)s (%(days)d days)")
        % {
            "csat": "—" if card.csat_average is None else card.csat_average,
            "on_time": "—" if card.on_time_percent is None else f"{card.on_time_percent}%",
            "first_time": "—" if card.first_time_fix_percent is None else f"{card.first_time_fix_percent}%",
            "days": TECHNICIAN_SCORE_DAYS,
        }
        for user_id, card in figures.items()
    }


def period_of(merchant: Merchant, *, days: int, today: date | None = None) -> tuple[date, date]:
    """The last ``days`` whole days up to today, in the merchant's calendar."""
    today = today or timezone.localdate(timezone=ZoneInfo(merchant.timezone))
    return today - timedelta(days=days - 1), today


def stores_of(merchant: Merchant) -> QuerySet[Store]:
    return Store.objects.filter(merchant=merchant).order_by("name", "pk")


def teams_of(merchant: Merchant) -> QuerySet[Team]:
    return Team.objects.filter(merchant=merchant).order_by("name", "pk")


def agents_of(merchant: Merchant) -> QuerySet[User]:
    return (
        User.objects.filter(memberships__merchant=merchant, memberships__is_active=True).order_by("username").distinct()
    )
