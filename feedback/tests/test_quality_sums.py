"""The daily run's statistics read sums, not every cohort (``feedback.services.quality``): on a
random history they must flag exactly what ``early_warning.flags_for_day`` flags on the cohorts
themselves; and the cohort refresh writes only what changed."""

import random
from datetime import date, timedelta

import pytest
from django.utils import timezone

from aftersales.models import Product
from aftersales.tests.factories import MerchantFactory, ProductFactory
from feedback.early_warning import BASELINE_DAYS, CUSUM_DAYS, Cohort, flags_for_day
from feedback.models import AlertStatus, QualityCohort
from feedback.services import quality_cohorts_refresh
from feedback.services.quality import quality_flags
from feedback.tests.builders import claim, delivered, local
from feedback.tests.factories import QualityAlertFactory
from feedback.tests.simulation import FIRST_DAY, Sku, simulate, stable_skus
from returns.models import ReturnStatus
from returns.tests.factories import ReturnReasonFactory

pytestmark = pytest.mark.django_db

HISTORY = BASELINE_DAYS + CUSUM_DAYS
DAYS = HISTORY + 40


def _history(merchant, *, seed: int) -> list[Cohort]:
    """40 SKUs in 3 categories with spread rates, three of which go bad late in the history (one
    triples, one doubles, one better than its peers triples to their level); a few days without
    a delivery; stored as the merchant's cohorts."""
    rng = random.Random(seed)
    products = [ProductFactory.create(merchant=merchant, category=f"category-{n % 3}") for n in range(40)]
    skus = stable_skus(count=len(products), categories=3, base_rate=0.02, spread=0.3, seed=seed)
    skus = [
        Sku(product.pk, product.category, sku.rate, sku.daily_units, sku.spike_from, sku.spike_factor)
        for product, sku in zip(products, skus, strict=True)
    ]
    skus[0] = Sku(skus[0].product_id, skus[0].category, 0.02, 200, spike_from=HISTORY + 10, spike_factor=3.0)
    skus[1] = Sku(skus[1].product_id, skus[1].category, 0.02, 150, spike_from=HISTORY + 20, spike_factor=2.0)
    # one better than its peers that becomes as bad as them: only its own past (the CUSUM) sees it
    skus[2] = Sku(skus[2].product_id, skus[2].category, 0.008, 250, spike_from=HISTORY + 5, spike_factor=3.0)
    cohorts = [cohort for cohort in simulate(skus, days=DAYS, seed=seed + 100) if rng.random() > 0.05]
    QualityCohort.objects.bulk_create(
        QualityCohort(
            merchant=merchant,
            product_id=cohort.product_id,
            category=cohort.category,
            delivered_on=cohort.delivered_on,
            delivered_units=cohort.delivered_units,
            defect_units=cohort.defect_units,
        )
        for cohort in cohorts
    )
    return cohorts


def _compare(seed: int) -> tuple[list[int], list]:
    """Each of the last 40 days of a random history evaluated both ways; the flags raised."""
    # Given a random history, another merchant's failing SKU, and dismissed alerts whose cohorts
    # stop counting: one inside the Laney window, one inside the CUSUM's span, one long before
    merchant = MerchantFactory.create()
    cohorts = _history(merchant, seed=seed)
    product_ids = sorted({cohort.product_id for cohort in cohorts})
    other = MerchantFactory.create()
    _history(other, seed=seed + 1)
    last_days = [FIRST_DAY + timedelta(days=day) for day in range(HISTORY - 1, DAYS, 3)]
    counted_after = {
        product_ids[6]: last_days[-1] - timedelta(days=3),
        product_ids[5]: last_days[-1] - timedelta(days=15),
        product_ids[9]: FIRST_DAY + timedelta(days=10),
    }
    for product_id, last_cohort in counted_after.items():
        QualityAlertFactory.create(
            merchant=merchant,
            product=Product.objects.get(pk=product_id),
            status=AlertStatus.DISMISSED,
            dismissed_at=timezone.now(),
            note="Batch recalled already.",
            cohort_start=last_cohort - timedelta(days=6),
            cohort_end=last_cohort,
        )
    QualityAlertFactory.create(
        merchant=merchant, product=Product.objects.get(pk=product_ids[3]), cohort_end=last_days[-1]
    )

    # When each day of the last 40 is evaluated both ways
    compared = []
    for last in last_days:
        history = [c for c in cohorts if last - timedelta(days=HISTORY - 1) <= c.delivered_on <= last]
        expected = flags_for_day(history, last_mature_day=last, counted_after=counted_after)
        flags, products = quality_flags(merchant=merchant, last_mature_day=last)

        # Then the flags are the same, to the last bit of every rate
        assert flags == expected
        assert products == len({c.product_id for c in history})
        compared += flags

    assert all(flag.product_id in product_ids for flag in compared)
    return product_ids, compared


def test_the_sums_flag_exactly_what_the_cohorts_flag():
    # (two random histories; the comparisons are made in _compare)
    methods = set()
    for seed in (3, 7):
        product_ids, compared = _compare(seed)
        # The comparison meant something: the failing SKUs were flagged
        assert {product_ids[0], product_ids[1], product_ids[2]} <= {flag.product_id for flag in compared}
        methods |= {flag.method for flag in compared}
    # by both tests
    assert methods == {"laney", "cusum"}


def test_a_product_that_moved_category_is_judged_in_the_category_of_its_newest_cohort():
    merchant = MerchantFactory.create()
    peers = [ProductFactory.create(merchant=merchant, category="kettles") for _n in range(5)]
    moved = ProductFactory.create(merchant=merchant, category="kettles")
    last = date(2026, 3, 31)
    rows = [
        QualityCohort(
            merchant=merchant,
            product=product,
            category="kettles",
            delivered_on=last - timedelta(days=day),
            delivered_units=100,
            defect_units=2,
        )
        for product in peers
        for day in range(7)
    ]
    rows += [
        QualityCohort(
            merchant=merchant,
            product=moved,
            category="heaters" if day >= 3 else "kettles",
            delivered_on=last - timedelta(days=day),
            delivered_units=100,
            defect_units=10,
        )
        for day in range(7)
    ]
    QualityCohort.objects.bulk_create(rows)

    [flag], products = quality_flags(merchant=merchant, last_mature_day=last)

    assert products == 6
    assert (flag.product_id, flag.category, flag.method) == (moved.pk, "kettles", "laney")
    assert (flag.delivered_units, flag.defect_units) == (700, 70)
    assert flag.baseline_rate == pytest.approx(0.02)


def test_a_second_refresh_writes_nothing_and_a_withdrawn_claim_is_taken_out():
    # Given two kettles delivered on one day, one of them with a fault claim, refreshed once
    merchant = MerchantFactory.create(timezone="Asia/Shanghai")
    fault = ReturnReasonFactory.create(merchant=merchant, name="Stopped working", responsibility="merchant")
    kettle = ProductFactory.create(merchant=merchant, category="kettles")
    line = delivered(merchant, kettle, 40, local(2026, 3, 2))
    request = claim(line, fault, 3, local(2026, 3, 5))
    day = date(2026, 3, 2)
    assert quality_cohorts_refresh(merchant=merchant, first_day=day, last_day=day, claim_window_days=14) == 1
    cohort = QualityCohort.objects.get(merchant=merchant)
    assert (cohort.product_id, cohort.delivered_units, cohort.defect_units) == (kettle.pk, 40, 3)

    # When nothing changed, the refresh leaves the row as it was (not written again)
    assert quality_cohorts_refresh(merchant=merchant, first_day=day, last_day=day, claim_window_days=14) == 1
    again = QualityCohort.objects.get(merchant=merchant)
    assert (again.pk, again.updated_at, again.defect_units) == (cohort.pk, cohort.updated_at, 3)

    # When the claim is withdrawn, the same row loses it
    request.status = ReturnStatus.CANCELLED
    request.save(update_fields=["status"])
    quality_cohorts_refresh(merchant=merchant, first_day=day, last_day=day, claim_window_days=14)
    withdrawn = QualityCohort.objects.get(merchant=merchant)
    assert (withdrawn.pk, withdrawn.delivered_units, withdrawn.defect_units) == (cohort.pk, 40, 0)
    assert withdrawn.updated_at > cohort.updated_at

    # When the delivery turns out to be another day's, the day's cohort goes
    line.order.delivered_at = local(2026, 3, 4)
    line.order.save(update_fields=["delivered_at"])
    assert quality_cohorts_refresh(merchant=merchant, first_day=day, last_day=day, claim_window_days=14) == 0
    assert not QualityCohort.objects.filter(merchant=merchant).exists()
