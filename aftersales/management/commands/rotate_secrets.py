"""Re-encrypt every secret stored at rest under the first of SECRETS_ENCRYPTION_KEYS.

Rotation: put the new key first (keep the old ones after it), run this, then drop the old keys.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from psycopg2 import sql

from aftersales.encryption import EncryptedTextField, rotate


class Command(BaseCommand):
    help = "Re-encrypt secrets stored at rest under the first key of SECRETS_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for model in apps.get_models():
                for field in model._meta.concrete_fields:
                    if not isinstance(field, EncryptedTextField):
                        continue
                    names = {
                        "table": sql.Identifier(model._meta.db_table),
                        "pk": sql.Identifier(model._meta.pk.column),
                        "column": sql.Identifier(field.column),
                    }
                    # Raw rows: the field would hand back clear text, and the rotation needs the token.
                    cursor.execute(
                        sql.SQL("SELECT {pk}, {column} FROM {table} WHERE {column} <> '' FOR UPDATE").format(**names)
                    )
                    for row_id, token in cursor.fetchall():
                        cursor.execute(
                            sql.SQL("UPDATE {table} SET {column} = %s WHERE {pk} = %s").format(**names),
                            [rotate(token), row_id],
                        )
                        rotated += 1
        if options["verbosity"]:
            self.stdout.write(f"{rotated} secret(s) re-encrypted under the first key.")
