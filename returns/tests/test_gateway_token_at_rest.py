"""The HTTP refund gateway's token is encrypted at rest (Fernet, keys from SECRETS_ENCRYPTION_KEYS,
the first encrypts and every one decrypts, so keys rotate), readable only through the model."""

import importlib

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from aftersales import encryption
from aftersales.tests.factories import MerchantFactory
from returns.models import RefundGateway

pytestmark = pytest.mark.django_db

TOKEN = "sk_live_51HxQ-refund-token"


def stored(gateway: RefundGateway) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_token FROM returns_refundgateway WHERE id = %s", [gateway.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def keys(settings):
    def use(*keys: bytes) -> None:
        settings.SECRETS_ENCRYPTION_KEYS = [key.decode() for key in keys]
        encryption.reset()

    yield use
    encryption.reset()


def test_the_token_is_stored_encrypted_and_read_back_in_clear(keys):
    key = Fernet.generate_key()
    keys(key)

    gateway = RefundGateway.objects.create(
        merchant=MerchantFactory(), adapter="http", endpoint_url="https://shop.example.com/refunds", api_token=TOKEN
    )

    raw = stored(gateway)
    assert TOKEN not in raw
    assert Fernet(key).decrypt(raw.encode()).decode() == TOKEN
    assert RefundGateway.objects.get(pk=gateway.pk).api_token == TOKEN


def test_an_empty_token_stays_empty(keys):
    keys(Fernet.generate_key())

    gateway = RefundGateway.objects.create(merchant=MerchantFactory(), adapter="manual")

    assert stored(gateway) == ""
    assert RefundGateway.objects.get(pk=gateway.pk).api_token == ""


def test_a_new_key_first_still_reads_the_old_and_rotation_re_encrypts(keys):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    keys(old)
    gateway = RefundGateway.objects.create(
        merchant=MerchantFactory(), adapter="http", endpoint_url="https://shop.example.com/refunds", api_token=TOKEN
    )

    keys(new, old)
    assert RefundGateway.objects.get(pk=gateway.pk).api_token == TOKEN
    call_command("rotate_secrets", verbosity=0)

    assert Fernet(new).decrypt(stored(gateway).encode()).decode() == TOKEN
    keys(new)
    assert RefundGateway.objects.get(pk=gateway.pk).api_token == TOKEN


def test_the_migration_encrypts_tokens_stored_in_clear_and_back(keys):
    key = Fernet.generate_key()
    keys(key)
    gateway = RefundGateway.objects.create(
        merchant=MerchantFactory(), adapter="http", endpoint_url="https://shop.example.com/refunds"
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE returns_refundgateway SET api_token = %s WHERE id = %s", [TOKEN, gateway.pk])
    migration = importlib.import_module("returns.migrations.0010_refund_gateway_token_encrypted")

    with connection.schema_editor() as editor:
        migration.encrypt_tokens(None, editor)
    assert Fernet(key).decrypt(stored(gateway).encode()).decode() == TOKEN
    with connection.schema_editor() as editor:
        migration.decrypt_tokens(None, editor)
    assert stored(gateway) == TOKEN


def test_without_keys_the_development_key_comes_from_secret_key_only_in_debug(settings, keys):
    settings.SECRETS_ENCRYPTION_KEYS = []
    settings.DEBUG = True
    encryption.reset()
    first = encryption.encrypt("x")
    assert encryption.decrypt(first) == "x"

    settings.DEBUG = False
    encryption.reset()
    with pytest.raises(ImproperlyConfigured, match="SECRETS_ENCRYPTION_KEYS"):
        encryption.encrypt("x")
