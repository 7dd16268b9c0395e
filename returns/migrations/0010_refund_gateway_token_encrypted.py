"""The refund gateway's API token, stored in clear until now, is encrypted at rest."""

from django.db import migrations

import aftersales.encryption


def _convert(schema_editor, convert) -> None:
    # Raw SQL: the historical field already encrypts and decrypts, and the rows hold clear text.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, api_token FROM returns_refundgateway WHERE api_token <> '' FOR UPDATE")
        for row_id, value in cursor.fetchall():
            cursor.execute("UPDATE returns_refundgateway SET api_token = %s WHERE id = %s", [convert(value), row_id])


def encrypt_tokens(apps, schema_editor):
    _convert(schema_editor, aftersales.encryption.encrypt)


def decrypt_tokens(apps, schema_editor):
    _convert(schema_editor, aftersales.encryption.decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0009_field_labels"),
    ]

    operations = [
        migrations.AlterField(
            model_name="refundgateway",
            name="api_token",
            field=aftersales.encryption.EncryptedTextField(
                blank=True, help_text="Sent as a Bearer token, if set.", max_length=200, verbose_name="API token"
            ),
        ),
        migrations.RunPython(encrypt_tokens, decrypt_tokens),
    ]
