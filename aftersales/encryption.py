"""Secrets at rest (a refund gateway's API token): encrypted with Fernet under keys from the
environment, so a database dump or an operator's query does not hand them out.

``SECRETS_ENCRYPTION_KEYS`` lists Fernet keys, comma-separated: the first encrypts, every one
decrypts (``MultiFernet``). To rotate, put a new key first, run ``manage.py rotate_secrets``, then
drop the old key. With no key set, development (``DEBUG``) derives one from ``SECRET_KEY``;
production refuses to encrypt or decrypt, and ``check --deploy`` says so.
"""

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def development_key() -> bytes:
    digest = hashlib.sha256(b"aftersales.secrets-at-rest:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _keys() -> list[bytes]:
    keys = [key.strip().encode() for key in settings.SECRETS_ENCRYPTION_KEYS if key.strip()]
    if keys:
        return keys
    if settings.DEBUG:
        return [development_key()]
    raise ImproperlyConfigured(
        "SECRETS_ENCRYPTION_KEYS must be set when DEBUG is off. Generate a key with: "
        'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )


@functools.cache
def _multi_fernet() -> MultiFernet:
    """Built once per process from the settings."""
    return MultiFernet([Fernet(key) for key in _keys()])


def reset() -> None:
    """Forget the keys read so far (tests that change the settings)."""
    _multi_fernet.cache_clear()


class SecretUnreadable(ImproperlyConfigured):
    """A stored secret that none of the configured keys decrypts: a key was dropped too early."""


def encrypt(plain: str) -> str:
    return _multi_fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _multi_fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("A stored secret cannot be decrypted with SECRETS_ENCRYPTION_KEYS.") from exc


def rotate(token: str) -> str:
    """The same secret under the first key."""
    try:
        return _multi_fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("A stored secret cannot be decrypted with SECRETS_ENCRYPTION_KEYS.") from exc


class EncryptedTextField(models.TextField):
    """Text stored encrypted, read in clear. Empty stays empty, so ``if gateway.api_token`` still
    reads as "not set". It cannot be filtered on: each encryption of a value differs."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"widget": forms.TextInput, **kwargs})


@checks.register(checks.Tags.security, deploy=True)
def check_encryption_keys(app_configs, **kwargs):
    if settings.DEBUG or any(key.strip() for key in settings.SECRETS_ENCRYPTION_KEYS):
        return []
    return [
        checks.Error(
            "SECRETS_ENCRYPTION_KEYS is not set: secrets stored at rest (refund gateway tokens) cannot be read.",
            hint="Set it to one or more Fernet keys, comma-separated, the newest first.",
            id="aftersales.E001",
        )
    ]
