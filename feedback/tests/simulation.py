"""Simulated delivery cohorts for the early-warning tests: stable SKUs and a planted spike."""

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from feedback.early_warning import BASELINE_DAYS, CUSUM_DAYS, Cohort, Flag, flags_for_day

FIRST_DAY = date(2026, 1, 1)


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Successes in n trials by geometric skips: O(np), fast for the small rates here."""
    if p <= 0:
        return 0
    log_q = math.log(1 - p)
    count, position = 0, 0
    while True:
        position += int(math.log(1 - rng.random()) / log_q) + 1
        if position > n:
            return count
        count += 1


@dataclass(frozen=True)
class Sku:
    product_id: int
    category: str
    rate: float
    daily_units: int
    spike_from: int | None = None  # the cohort day from which the rate is multiplied
    spike_factor: float = 1.0


def stable_skus(*, count: int, categories: int, base_rate: float, spread: float, seed: int) -> list[Sku]:
    rng = random.Random(seed)
    return [
        Sku(
            product_id=index + 1,
            category=f"category-{index % categories}",
            rate=base_rate * math.exp(rng.gauss(0, spread)),
            daily_units=rng.randint(80, 250),
        )
        for index in range(count)
    ]


def simulate(skus: list[Sku], *, days: int, seed: int) -> list[Cohort]:
    rng = random.Random(seed)
    cohorts = []
    for day in range(days):
        for sku in skus:
            units = max(1, int(rng.gauss(sku.daily_units, sku.daily_units * 0.2)))
            rate = sku.rate * (sku.spike_factor if sku.spike_from is not None and day >= sku.spike_from else 1.0)
            cohorts.append(
                Cohort(
                    product_id=sku.product_id,
                    category=sku.category,
                    delivered_on=FIRST_DAY + timedelta(days=day),
                    delivered_units=units,
                    defect_units=binomial(rng, units, min(rate, 0.99)),
                )
            )
    return cohorts


def run_daily(cohorts: list[Cohort], *, days: int) -> list[tuple[date, Flag]]:
    """The daily run over each mature day once there is a full history, with every alert
    dismissed at once (its cohorts stop counting): every flag is a fresh alarm."""
    by_day: dict[date, list[Cohort]] = {}
    for cohort in cohorts:
        by_day.setdefault(cohort.delivered_on, []).append(cohort)
    counted_after: dict[int, date] = {}
    alarms = []
    history = BASELINE_DAYS + CUSUM_DAYS
    for day in range(history, days):
        last = FIRST_DAY + timedelta(days=day)
        window = [c for offset in range(history) for c in by_day.get(last - timedelta(days=offset), [])]
        for flag in flags_for_day(window, last_mature_day=last, counted_after=counted_after):
            alarms.append((last, flag))
            counted_after[flag.product_id] = flag.cohort_end
    return alarms
