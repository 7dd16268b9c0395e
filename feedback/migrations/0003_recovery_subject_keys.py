"""Recovery cases opened before subjects were kept as keys get their key where the stored subject
is exactly what the system wrote ("Following up on your request <number>" in English or Chinese),
so they too read in each reader's language; any other subject keeps showing as stored. Their
first messages are left as they were written: the timeline is never rewritten."""

from django.db import migrations
from django.utils import translation
from django.utils.translation import gettext

KEY = "feedback.recovery_subject"
BATCH = 500


def _written(number: str) -> set[str]:
    texts = set()
    for language in ("en", "zh-hans"):
        with translation.override(language):
            texts.add((gettext("Following up on your request %(number)s") % {"number": number})[:200])
    return texts


def forwards(apps, schema_editor):
    RecoveryCase = apps.get_model("feedback", "RecoveryCase")
    Ticket = apps.get_model("tickets", "Ticket")
    rows = (
        RecoveryCase.objects.filter(recovery_ticket__system_subject={})
        .values_list("recovery_ticket_id", "recovery_ticket__subject", "original_ticket__number")
        .order_by("pk")
        .iterator(chunk_size=BATCH)
    )
    for ticket_id, subject, number in rows:
        if subject in _written(number):
            Ticket.objects.filter(pk=ticket_id, system_subject={}).update(
                system_subject={"key": KEY, "params": {"number": number}}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0002_survey_and_repair_daily_rollups"),
        ("tickets", "0015_system_texts"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
