"""Keeping the ``Idempotency-Key`` answers (``aftersales.api.idempotency``) from growing forever."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from aftersales.models import IdempotencyRecord

PURGE_BATCH = 1000


def idempotency_records_purge(*, older_than: timedelta | None = None, batch_size: int = PURGE_BATCH) -> int:
    """Delete the answers stored more than ``older_than`` ago (``IDEMPOTENCY_RECORD_DAYS`` by
    default), ``batch_size`` rows per statement; return how many went.

    Each batch is its own short statement, so a large backlog never holds many row locks or one
    long transaction. A retry that comes after its record is gone runs again, and its effects,
    keyed by names derived from the key (a grant key, a payment's idempotency key), find the
    first ones instead of repeating them.
    """
    if older_than is None:
        older_than = timedelta(days=settings.IDEMPOTENCY_RECORD_DAYS)
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        ids = list(
            IdempotencyRecord.objects.filter(created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        count, _per_model = IdempotencyRecord.objects.filter(pk__in=ids).delete()
        deleted += count
        if len(ids) < batch_size:
            return deleted
