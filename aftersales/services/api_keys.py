from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict
from aftersales.models import ApiKey, Membership, Merchant, User


def api_key_create(*, merchant: Merchant, name: str, created_by: User | None = None) -> tuple[ApiKey, str]:
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


def api_key_actor(*, api_key: ApiKey) -> User:
    """The staff user an API key acts as when it works a case (replies, notes, assigns …).

    Services record a user on every event; a key has none. Each key gets its own integration
    user ``api-<prefix>`` with an agent membership at the key's merchant, so the timeline says
    which integration did what, and the usual staff checks (an active membership) apply: an
    admin who deactivates that membership stops the key's writes without revoking its reads.
    The user has no usable password, so it can never log in to the dashboard.

    Kept without a model field (no migration); ``ApiKey.actor`` would make the link explicit.
    """
    username = f"api-{api_key.prefix}"
    for attempt in range(2):
        try:
            with transaction.atomic():
                user = User.objects.filter(username=username).first()
                if user is not None and user.has_usable_password():
                    # A person's account under that name: never hand it a key's powers.
                    raise Conflict(_("The API key's user name is taken by a staff account."), code="api_actor_taken")
                if user is None:
                    user = User(username=username, first_name=api_key.name[:150], is_active=True)
                    user.set_unusable_password()
                    user.save()
                Membership.objects.get_or_create(
                    merchant_id=api_key.merchant_id, user=user, defaults={"role": Membership.Role.AGENT}
                )
                return user
        except IntegrityError:
            # Two first calls of a new key raced on the username or the membership: read theirs.
            if attempt:
                raise
    raise AssertionError("unreachable")
