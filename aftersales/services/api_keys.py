from django.utils import timezone

from aftersales.models import ApiKey, Merchant


def api_key_create(*, merchant: Merchant, name: str, created_by=None) -> tuple[ApiKey, str]:
    """Create a key; the full key is returned once and never stored."""
    full_key, prefix, key_hash = ApiKey.generate()
    api_key = ApiKey.objects.create(
        merchant=merchant, name=name, prefix=prefix, key_hash=key_hash, created_by=created_by
    )
    return api_key, full_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key
