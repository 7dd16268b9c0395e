"""Product quality early warning: which SKU has started coming back. Pure statistics, no I/O.

The data are delivery cohorts (``feedback.models.QualityCohort``): for each product and day, the
units delivered that day and the defect claims made on those units within the claim window
(merchant-responsible return reasons; carrier damage and customer-fault reasons excluded). A
cohort is used only once it is mature (its claim window has passed), so a young cohort never
looks good just because its claims have not arrived yet.

Two tests run each day on each product, against its category:

1. **Laney p′ chart** (cross-section, "significantly above its category"). Over the last
   ``WINDOW_DAYS`` mature cohorts, product *i* has *nᵢ* units and *xᵢ* claims, rate *pᵢ*. The
   baseline is its category's rate *without it* (p̄₋ᵢ, leave-one-out, so a failing product
   cannot raise its own bar). With σᵢ = √(p̄(1−p̄)/nᵢ) and zᵢ = (pᵢ − p̄)/σᵢ, Laney's σ_z is the
   average moving range of the category's zᵢ divided by 1.128: over-dispersion between products
   (real differences the binomial does not model, which make a plain p-chart cry wolf on large
   samples) widens the limits, by at least 1 (never narrower than the p-chart). A product is
   flagged when pᵢ > p̄₋ᵢ + ``LANEY_SIGMAS`` · σᵢ · σ_z and the exact Poisson upper tail of xᵢ
   against nᵢp̄₋ᵢ is as small as that limit's (``LANEY_TAIL``: with a few claims expected, the
   normal approximation would call 3 claims against 0.4 expected a 4σ event; LANEY_SIGMAS is 4,
   not the textbook 3: the test runs
   every day on every SKU, and at 3 the daily repetition gave about 0.3 false alarms per
   SKU-year), pᵢ is at least ``MIN_RATE_RATIO`` × p̄₋ᵢ, and it has at least ``MIN_DEFECTS`` claims.
   Categories with fewer than ``MIN_PRODUCTS_FOR_LANEY`` products have no σ_z estimate and use 1.

2. **CUSUM** (over time, "has started rising"). On the product's last ``CUSUM_DAYS`` mature
   daily cohorts, with the product's own rate over the ``BASELINE_DAYS`` before them as the
   in-control rate p₀ (its category's leave-one-out rate when it has too little history, under
   ``CUSUM_MIN_BASELINE_UNITS`` units, so a new product is held to its peers):
   zₜ = (xₜ − nₜp₀)/√(nₜp₀(1−p₀)), Sₜ = max(0, Sₜ₋₁ + zₜ − k). It flags when Sₜ > h
   (k = ``CUSUM_K`` = 1, tuned to a shift of two standard deviations per cohort, h =
   ``CUSUM_H`` = 8: with a few claims a day the binomial's long right tail makes the textbook
   k = 0.5, h = 5 cry wolf about twice per SKU-year in simulation; these settings do not).
   Cohorts with under ``CUSUM_MIN_UNITS`` units are skipped, and products expecting under
   ``CUSUM_MIN_EXPECTED`` claim per cohort are left to test 1. (one claim is no trend).
   Comparing a product with its own past catches a product that was fine and has changed;
   comparing it with its category (1.) catches one that is worse than its peers.

Measured on simulated data (``feedback/tests/test_early_warning.py``, fixed seeds, every alert
dismissed at once so that each flag counts as a fresh alarm): 200 stable SKUs in 4 categories at
2 % (80–250 units a day), evaluated daily for 120 days, raised no alert; the documented bound is
``DOCUMENTED_FALSE_ALARMS_PER_SKU_YEAR`` = 0.05 alerts per SKU-year. When SKUs genuinely differ
(rates spread log-normally, σ = 0.2), the ones flagged are those at least 1.5× their peers,
about 0.1 per SKU-year. A SKU whose rate triples (2 % → 6 %) from one cohort on is flagged within
``DOCUMENTED_DETECTION_DAYS`` = 7 mature cohorts (0–6 in the simulated runs), and a rate that
doubles, within 21.
"""

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

WINDOW_DAYS = 7
LANEY_SIGMAS = 4.0
MIN_DEFECTS = 3
# The one-sided tail of LANEY_SIGMAS under the normal: the exact Poisson test must reach it too.
LANEY_TAIL = 3.2e-5
# "Significantly above" must also be materially above: half as much again as the baseline.
MIN_RATE_RATIO = 1.5
MIN_PRODUCTS_FOR_LANEY = 5
CUSUM_DAYS = 28
BASELINE_DAYS = 56
CUSUM_MIN_BASELINE_UNITS = 1000
CUSUM_K = 1.0
CUSUM_H = 8.0
CUSUM_MIN_UNITS = 20
CUSUM_MIN_EXPECTED = 1.0  # claims expected per daily cohort
# What the simulation test holds the method to (see the module's docstring).
DOCUMENTED_FALSE_ALARMS_PER_SKU_YEAR = 0.05
DOCUMENTED_DETECTION_DAYS = 7
D2 = 1.128  # the moving range's bias constant for ranges of two


@dataclass(frozen=True)
class Cohort:
    product_id: int
    category: str
    delivered_on: date
    delivered_units: int
    defect_units: int


@dataclass(frozen=True)
class Flag:
    product_id: int
    category: str
    method: str  # "laney" or "cusum"
    cohort_start: date
    cohort_end: date
    delivered_units: int
    defect_units: int
    rate: float
    baseline_rate: float
    upper_limit: float | None
    statistic: float  # the product's z′ (Laney) or its CUSUM


@dataclass
class _Totals:
    units: int = 0
    defects: int = 0


def laney_flags(cohorts: Iterable[Cohort], *, start: date, end: date) -> list[Flag]:
    """Products significantly above their category over the cohorts delivered in [start, end]."""
    per_product: dict[int, _Totals] = defaultdict(_Totals)
    category_of: dict[int, str] = {}
    for cohort in cohorts:
        if start <= cohort.delivered_on <= end:
            totals = per_product[cohort.product_id]
            totals.units += cohort.delivered_units
            totals.defects += cohort.defect_units
            category_of[cohort.product_id] = cohort.category
    return _laney(per_product, category_of, start=start, end=end)


def _laney(per_product: dict[int, _Totals], category_of: dict[int, str], *, start: date, end: date) -> list[Flag]:
    by_category: dict[str, list[int]] = defaultdict(list)
    for product_id, totals in per_product.items():
        if totals.units:
            by_category[category_of[product_id]].append(product_id)
    flags = []
    for category, product_ids in by_category.items():
        product_ids.sort()
        units = sum(per_product[pid].units for pid in product_ids)
        defects = sum(per_product[pid].defects for pid in product_ids)
        z_scores = []
        for pid in product_ids:
            z = _z(per_product[pid], units, defects)
            if z is not None:
                z_scores.append(z)
        sigma_z = _laney_sigma_z(z_scores)
        for pid in product_ids:
            totals = per_product[pid]
            baseline = _leave_one_out(totals, units, defects)
            if baseline is None or totals.defects < MIN_DEFECTS:
                continue
            sigma = math.sqrt(baseline * (1 - baseline) / totals.units)
            limit = baseline + LANEY_SIGMAS * sigma * sigma_z
            rate = totals.defects / totals.units
            if (
                rate > limit
                and rate >= MIN_RATE_RATIO * baseline
                and poisson_upper_tail(totals.defects, totals.units * baseline) < LANEY_TAIL
            ):
                flags.append(
                    Flag(
                        product_id=pid,
                        category=category,
                        method="laney",
                        cohort_start=start,
                        cohort_end=end,
                        delivered_units=totals.units,
                        defect_units=totals.defects,
                        rate=rate,
                        baseline_rate=baseline,
                        upper_limit=limit,
                        statistic=(rate - baseline) / (sigma * sigma_z),
                    )
                )
    return flags


def poisson_upper_tail(observed: int, expected: float) -> float:
    """P(X ≥ observed) for X ~ Poisson(expected): exact where the normal approximation of the
    p-chart is not (a few claims expected), so three claims against 0.4 expected are not 4σ."""
    if observed <= 0:
        return 1.0
    term = math.exp(-expected)
    below = term
    for k in range(1, observed):
        term *= expected / k
        below += term
    return max(0.0, 1.0 - below)


def _leave_one_out(totals: _Totals, units: int, defects: int) -> float | None:
    """The category's rate without this product; None when it has no peers, or they no claims
    (a rate of 0 gives no spread to test against)."""
    other_units = units - totals.units
    if other_units <= 0:
        return None
    baseline = (defects - totals.defects) / other_units
    if baseline <= 0 or baseline >= 1:
        return None
    return baseline


def _z(totals: _Totals, units: int, defects: int) -> float | None:
    if units <= 0 or defects <= 0 or defects >= units:
        return None
    p_bar = defects / units
    return (totals.defects / totals.units - p_bar) / math.sqrt(p_bar * (1 - p_bar) / totals.units)


def _laney_sigma_z(z_scores: Sequence[float]) -> float:
    if len(z_scores) < MIN_PRODUCTS_FOR_LANEY:
        return 1.0
    moving_ranges = [abs(b - a) for a, b in itertools.pairwise(z_scores)]
    return max(1.0, (sum(moving_ranges) / len(moving_ranges)) / D2)


def cusum_flags(
    cohorts: Iterable[Cohort],
    *,
    baseline_start: date,
    start: date,
    end: date,
    counted_after: dict[int, date] | None = None,
) -> list[Flag]:
    """Products whose upper CUSUM over their daily cohorts in [start, end] crosses ``CUSUM_H``;
    the in-control rate is the product's own over [baseline_start, start), or its category's
    (leave-one-out) when it has under ``CUSUM_MIN_BASELINE_UNITS`` units there."""
    days: dict[int, dict[date, _Totals]] = defaultdict(lambda: defaultdict(_Totals))
    history: dict[int, _Totals] = defaultdict(_Totals)
    category_of: dict[int, str] = {}
    category_history: dict[str, _Totals] = defaultdict(_Totals)
    counted_after = counted_after or {}
    for cohort in cohorts:
        if start <= cohort.delivered_on <= end:
            if cohort.delivered_on <= counted_after.get(cohort.product_id, baseline_start):
                continue
            totals = days[cohort.product_id][cohort.delivered_on]
        elif baseline_start <= cohort.delivered_on < start:
            totals = history[cohort.product_id]
            category_history[cohort.category].units += cohort.delivered_units
            category_history[cohort.category].defects += cohort.defect_units
        else:
            continue
        totals.units += cohort.delivered_units
        totals.defects += cohort.defect_units
        category_of[cohort.product_id] = cohort.category
    flags = []
    for product_id, product_days in days.items():
        category = category_of[product_id]
        p0 = _cusum_p0(
            history[product_id],
            category_history[category],
            recent_units=sum(t.units for t in product_days.values()),
            recent_days=len(product_days),
        )
        if p0 is None:
            continue
        flag = _cusum(product_id, category, product_days, p0)
        if flag is not None:
            flags.append(flag)
    return flags


def _cusum_p0(own: _Totals, peers: _Totals, *, recent_units: int, recent_days: int) -> float | None:
    """The in-control rate the product's CUSUM runs against, or None when it is not run: no
    baseline, or too few claims expected per cohort."""
    if own.units >= CUSUM_MIN_BASELINE_UNITS and 0 < own.defects < own.units:
        p0: float | None = own.defects / own.units
    else:
        p0 = _leave_one_out(own, peers.units, peers.defects)
    if p0 is None:
        return None
    expected_per_day = p0 * recent_units / max(1, recent_days)
    if expected_per_day < CUSUM_MIN_EXPECTED:
        # A claim or two a month: the daily z of one claim is huge and means nothing; the
        # weekly Poisson test of 1. speaks for such products.
        return None
    return p0


def _cusum(product_id: int, category: str, product_days: dict[date, _Totals], p0: float) -> Flag | None:
    statistic = 0.0
    run = _Totals()
    run_start: date | None = None
    for day in sorted(product_days):
        totals = product_days[day]
        if totals.units < CUSUM_MIN_UNITS:
            continue
        z = (totals.defects - totals.units * p0) / math.sqrt(totals.units * p0 * (1 - p0))
        statistic = max(0.0, statistic + z - CUSUM_K)
        if statistic == 0.0:
            run, run_start = _Totals(), None
            continue
        run_start = run_start or day
        run.units += totals.units
        run.defects += totals.defects
        if statistic > CUSUM_H and run.defects >= MIN_DEFECTS and run.defects >= MIN_RATE_RATIO * p0 * run.units:
            return Flag(
                product_id=product_id,
                category=category,
                method="cusum",
                cohort_start=run_start,
                cohort_end=day,
                delivered_units=run.units,
                defect_units=run.defects,
                rate=run.defects / run.units,
                baseline_rate=p0,
                upper_limit=None,
                statistic=statistic,
            )
    return None


def flags_for_day(
    cohorts: Sequence[Cohort], *, last_mature_day: date, counted_after: dict[int, date] | None = None
) -> list[Flag]:
    """The day's flags, one per product at most: the Laney flag when both tests fire (it names
    the category baseline the merchant compares against), else the CUSUM's.

    ``counted_after`` maps a product to the last cohort of its latest dismissed alert: those
    cohorts stop counting for the product itself (they still count in its category's baseline),
    so a dismissed alert is raised again only on new evidence."""
    evidence = cohorts
    if counted_after:
        evidence = [
            cohort
            for cohort in cohorts
            if cohort.product_id not in counted_after or cohort.delivered_on > counted_after[cohort.product_id]
        ]
    laney = laney_flags(evidence, start=last_mature_day - timedelta(days=WINDOW_DAYS - 1), end=last_mature_day)
    cusum_start = last_mature_day - timedelta(days=CUSUM_DAYS - 1)
    cusum = cusum_flags(
        cohorts,
        baseline_start=cusum_start - timedelta(days=BASELINE_DAYS),
        start=cusum_start,
        end=last_mature_day,
        counted_after=counted_after,
    )
    return one_flag_per_product(laney, cusum)


def one_flag_per_product(laney: Iterable[Flag], cusum: Iterable[Flag]) -> list[Flag]:
    """The Laney flag where both tests flag a product, else the CUSUM's; by product id."""
    chosen = {flag.product_id: flag for flag in cusum}
    chosen.update({flag.product_id: flag for flag in laney})
    return [chosen[pid] for pid in sorted(chosen)]


@dataclass(frozen=True)
class CohortSums:
    """A product's cohorts of one category, summed by the database over the spans the two tests
    read (``feedback.services.quality``), so that the daily run never loads every cohort:

    - ``window_*``: the Laney window, the last ``WINDOW_DAYS`` mature cohorts;
    - ``baseline_*``: the CUSUM's baseline, the ``BASELINE_DAYS`` before its span, every cohort;
    - ``recent_*``: the CUSUM's span, the last ``CUSUM_DAYS`` mature cohorts (how many cohorts,
      and their units).

    The window and the span count only the cohorts after the product's latest dismissed alert,
    as ``flags_for_day``'s ``counted_after`` does. A product has one row per category its cohorts
    carry (several only when it moved category); its category is that of its newest cohort."""

    product_id: int
    category: str
    newest: date
    window_units: int
    window_defects: int
    baseline_units: int
    baseline_defects: int
    recent_units: int
    recent_days: int


def _products_of(sums: Iterable[CohortSums]) -> tuple[dict[int, list[CohortSums]], dict[int, str]]:
    rows_of: dict[int, list[CohortSums]] = defaultdict(list)
    for row in sums:
        rows_of[row.product_id].append(row)
    category_of = {pid: max(rows, key=lambda row: (row.newest, row.category)).category for pid, rows in rows_of.items()}
    return rows_of, category_of


def laney_flags_of_sums(sums: Sequence[CohortSums], *, start: date, end: date) -> list[Flag]:
    """``laney_flags`` on the window's sums (``start``, ``end``: the window, named in the flags)."""
    rows_of, category_of = _products_of(sums)
    per_product: dict[int, _Totals] = {}
    window_category: dict[int, str] = {}
    for pid, rows in rows_of.items():
        totals = _Totals(sum(row.window_units for row in rows), sum(row.window_defects for row in rows))
        if totals.units or totals.defects:
            per_product[pid] = totals
            window_category[pid] = category_of[pid]
    return _laney(per_product, window_category, start=start, end=end)


def cusum_baselines(sums: Sequence[CohortSums]) -> dict[int, tuple[str, float]]:
    """The products whose CUSUM is to be run, with their category and in-control rate p₀: only
    their daily cohorts of the span need to be read."""
    rows_of, category_of = _products_of(sums)
    category_history: dict[str, _Totals] = defaultdict(_Totals)
    for row in sums:
        category_history[row.category].units += row.baseline_units
        category_history[row.category].defects += row.baseline_defects
    baselines = {}
    for pid, rows in rows_of.items():
        recent_days = sum(row.recent_days for row in rows)
        if not recent_days:
            continue
        own = _Totals(sum(row.baseline_units for row in rows), sum(row.baseline_defects for row in rows))
        category = category_of[pid]
        p0 = _cusum_p0(
            own,
            category_history[category],
            recent_units=sum(row.recent_units for row in rows),
            recent_days=recent_days,
        )
        if p0 is not None:
            baselines[pid] = (category, p0)
    return baselines


def cusum_flags_of_days(baselines: dict[int, tuple[str, float]], cohorts: Iterable[Cohort]) -> list[Flag]:
    """``cusum_flags`` for the products of ``cusum_baselines``, on their counted daily cohorts
    of the span."""
    days: dict[int, dict[date, _Totals]] = defaultdict(lambda: defaultdict(_Totals))
    for cohort in cohorts:
        if cohort.product_id in baselines:
            totals = days[cohort.product_id][cohort.delivered_on]
            totals.units += cohort.delivered_units
            totals.defects += cohort.defect_units
    flags = []
    for pid, product_days in days.items():
        category, p0 = baselines[pid]
        flag = _cusum(pid, category, product_days, p0)
        if flag is not None:
            flags.append(flag)
    return flags
