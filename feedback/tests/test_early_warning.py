"""The early-warning method (feedback.early_warning) against simulated delivery cohorts: what its
docstring promises, held to the documented false-alarm rate and detection delay."""

from datetime import date, timedelta

import pytest

from feedback.early_warning import (
    DOCUMENTED_DETECTION_DAYS,
    DOCUMENTED_FALSE_ALARMS_PER_SKU_YEAR,
    MIN_DEFECTS,
    Cohort,
    flags_for_day,
    laney_flags,
    poisson_upper_tail,
)
from feedback.tests.simulation import FIRST_DAY, Sku, run_daily, simulate, stable_skus

HISTORY_DAYS = 84
EVALUATED_DAYS = 120
SPIKE_DAY = HISTORY_DAYS + 60


def test_stable_skus_raise_no_more_alerts_than_the_documented_false_alarm_rate():
    # Given 200 SKUs in 4 categories, each at its category's 2 % for 204 days of cohorts
    skus = stable_skus(count=200, categories=4, base_rate=0.02, spread=0.0, seed=1)
    days = HISTORY_DAYS + EVALUATED_DAYS

    # When the daily run evaluates each of the last 120 days (every alert dismissed at once)
    alarms = run_daily(simulate(skus, days=days, seed=2), days=days)

    # Then the alarms per SKU-year stay within the documented rate (at most 3 here)
    sku_years = len(skus) * EVALUATED_DAYS / 365
    assert len(alarms) / sku_years <= DOCUMENTED_FALSE_ALARMS_PER_SKU_YEAR
    assert len(alarms) <= 3


@pytest.mark.parametrize("seed", range(4))
def test_a_sku_whose_rate_triples_is_flagged_within_the_documented_days(seed):
    # Given 40 stable SKUs in 2 categories, one of which triples its rate from one cohort on
    skus = stable_skus(count=40, categories=2, base_rate=0.02, spread=0.0, seed=seed)
    failing = skus[0]
    skus[0] = Sku(
        failing.product_id, failing.category, 0.02, failing.daily_units, spike_from=SPIKE_DAY, spike_factor=3.0
    )
    days = SPIKE_DAY + 30

    # When the daily run goes on past the change
    alarms = run_daily(simulate(skus, days=days, seed=seed + 10), days=days)

    # Then the failing SKU is flagged within the documented number of mature cohorts
    spike_on = FIRST_DAY + timedelta(days=SPIKE_DAY)
    found = [day for day, flag in alarms if flag.product_id == failing.product_id and day >= spike_on]
    assert found, "the planted spike was never flagged"
    assert (found[0] - spike_on).days < DOCUMENTED_DETECTION_DAYS
    # and never before it
    assert not [day for day, flag in alarms if flag.product_id == failing.product_id and day < spike_on]


def _cohorts(product_id: int, category: str, *, units: int, defects: int, days: int = 7) -> list[Cohort]:
    return [Cohort(product_id, category, date(2026, 3, 1) + timedelta(days=day), units, defects) for day in range(days)]


def test_laney_flag_names_the_rate_against_the_category_without_the_sku_itself():
    # Given five peers at 2 % and one SKU at 10 %, 700 units each over the week
    cohorts = [c for pid in range(1, 6) for c in _cohorts(pid, "kettles", units=100, defects=2)]
    cohorts += _cohorts(9, "kettles", units=100, defects=10)

    # When the week is tested
    [flag] = laney_flags(cohorts, start=date(2026, 3, 1), end=date(2026, 3, 7))

    # Then the SKU is flagged against its peers' 2 %, not a baseline it inflated
    assert flag.product_id == 9
    assert flag.method == "laney"
    assert flag.delivered_units == 700
    assert flag.defect_units == 70
    assert flag.rate == pytest.approx(0.10)
    assert flag.baseline_rate == pytest.approx(0.02)
    assert flag.upper_limit is not None
    assert flag.rate > flag.upper_limit


def test_too_few_claims_raise_nothing_however_high_the_rate():
    cohorts = [c for pid in range(1, 6) for c in _cohorts(pid, "kettles", units=100, defects=1)]
    cohorts += _cohorts(9, "kettles", units=1, defects=0, days=6) + _cohorts(
        9, "kettles", units=2, defects=MIN_DEFECTS - 1, days=1
    )

    assert laney_flags(cohorts, start=date(2026, 3, 1), end=date(2026, 3, 7)) == []


def test_dismissed_cohorts_stop_counting_for_the_sku():
    cohorts = [c for pid in range(1, 6) for c in _cohorts(pid, "kettles", units=100, defects=2, days=91)]
    cohorts += _cohorts(9, "kettles", units=100, defects=2, days=84) + [
        Cohort(9, "kettles", date(2026, 3, 1) + timedelta(days=84 + day), 100, 10) for day in range(7)
    ]
    last = date(2026, 3, 1) + timedelta(days=90)

    assert [flag.product_id for flag in flags_for_day(cohorts, last_mature_day=last)] == [9]
    assert flags_for_day(cohorts, last_mature_day=last, counted_after={9: last}) == []


def test_three_claims_against_a_fraction_of_one_expected_are_not_an_alarm():
    # Given peers with 2 claims in 8,000 units, and a SKU with 3 claims in 1,400 units (0.35
    # expected): the p-chart's normal approximation puts it 4.5σ above; the exact Poisson tail
    # (about 0.5 %) does not
    peers = [c for pid in range(1, 6) for c in _cohorts(pid, "kettles", units=200, defects=0)]
    peers += [Cohort(1, "kettles", date(2026, 2, 28), 1000, 2)]
    sku = [*_cohorts(9, "kettles", units=200, defects=0, days=6), Cohort(9, "kettles", date(2026, 3, 7), 200, 3)]

    flags = laney_flags(peers + sku, start=date(2026, 2, 28), end=date(2026, 3, 7))

    assert poisson_upper_tail(3, 0.4) > 0.005
    assert flags == []
