# The KPI home's backlog reads a merchant's active tickets by kind and age from this partial index
# alone. Built CONCURRENTLY: on a table of millions of tickets a plain CREATE INDEX would block
# every ticket write while it runs.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tickets", "0012_mailbox_fetch_error_reason"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("status__in", ("new", "open", "waiting_customer", "waiting_third_party"))),
                fields=["merchant", "kind", "created_at"],
                name="ticket_backlog_active",
            ),
        ),
    ]
