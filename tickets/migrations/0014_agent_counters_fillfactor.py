"""Room on each page of the two rows every assignment rewrites: the agent's load counters
(``tickets_agentload``, by migration 0010's trigger) and the agent's profile (its turn,
``last_assigned_at``). Neither update touches an indexed column, so with free space on the page
PostgreSQL writes the new version beside the old one (a HOT update: no new index entries, the old
version pruned on the page's next read). Packed full (fillfactor 100) most of these updates found
no room and went to another page with new entries in every index: in 2,000 assignments of the
support-assign bench, 11% of the profile updates were HOT and the 280 counter rows grew to
0.98 MB; at 50, 56% and 0.37 MB. The tables are small (a row per agent and kind), so the doubled space is
nothing. Existing pages keep their packing until rewritten (VACUUM FULL); new pages get the room."""

from django.db import migrations

TABLES = ("tickets_agentload", "tickets_agentprofile")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0013_ticket_backlog_active_index"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[f"ALTER TABLE {table} SET (fillfactor = 50)" for table in TABLES],
            reverse_sql=[f"ALTER TABLE {table} RESET (fillfactor)" for table in TABLES],
        ),
    ]
