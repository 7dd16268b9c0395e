"""The arithmetic of the KPI rollups, pure: duration histograms and their percentiles.

A median cannot be added across days, stores or agents, but a histogram can. Each rollup row
keeps, per duration it measures, the count of cases in each of ``BUCKET_EDGES_MINUTES``'s
buckets; a report sums the rows it needs (any period, any filter) and reads the median and p90
from the summed histogram, interpolating linearly inside the bucket where the rank falls. The
edges are closer together where the targets usually sit (minutes to a few days), so the error is
at most half a bucket: under 2.5 minutes below an hour, under 3 hours below two days.
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

# Upper edges (exclusive) of each bucket, in minutes; the last bucket is open-ended.
BUCKET_EDGES_MINUTES: tuple[int, ...] = (
    5, 10, 15, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 960, 1440, 2160, 2880, 4320,
    5760, 7200, 10080, 14400, 20160, 30240, 43200,
)  # fmt: skip
BUCKETS = len(BUCKET_EDGES_MINUTES) + 1
# What the open-ended last bucket is taken to span, for interpolation only.
LAST_BUCKET_SPAN_MINUTES = 43200


def empty_histogram() -> list[int]:
    return [0] * BUCKETS


def bucket_of(minutes: float) -> int:
    """The 0-based bucket of a duration (the SQL of the refresh uses ``width_bucket`` alike)."""
    for index, edge in enumerate(BUCKET_EDGES_MINUTES):
        if minutes < edge:
            return index
    return BUCKETS - 1


def add_histograms(histograms: Sequence[Sequence[int]]) -> list[int]:
    total = empty_histogram()
    for histogram in histograms:
        for index, count in enumerate(histogram):
            total[index] += count
    return total


def percentile_minutes(histogram: Sequence[int], fraction: float) -> Decimal | None:
    """The duration under which ``fraction`` of the counted cases fall, or None for no case."""
    count = sum(histogram)
    if count == 0:
        return None
    rank = fraction * count
    seen = 0
    for index, bucket_count in enumerate(histogram):
        if bucket_count and seen + bucket_count >= rank:
            low = BUCKET_EDGES_MINUTES[index - 1] if index else 0
            high = BUCKET_EDGES_MINUTES[index] if index < len(BUCKET_EDGES_MINUTES) else low + LAST_BUCKET_SPAN_MINUTES
            share = (rank - seen) / bucket_count
            return Decimal(low + (high - low) * share).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        seen += bucket_count
    return Decimal(BUCKET_EDGES_MINUTES[-1])


def rate_percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
