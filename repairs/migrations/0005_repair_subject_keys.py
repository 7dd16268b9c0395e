"""Repairs opened before subjects were kept as keys get their key where the stored subject is
exactly what the system wrote ("Repair: <product>" in English or Chinese), so they too read in
each reader's language. A subject that differs (edited, cut short, written in another language)
is left as it is and keeps showing as stored."""

from django.db import migrations
from django.utils import translation
from django.utils.translation import gettext

KEY = "repairs.repair_subject"
BATCH = 500


def _written(product: str) -> set[str]:
    texts = set()
    for language in ("en", "zh-hans"):
        with translation.override(language):
            texts.add((gettext("Repair: %(product)s") % {"product": product})[:150])
    return texts


def forwards(apps, schema_editor):
    RepairOrder = apps.get_model("repairs", "RepairOrder")
    Ticket = apps.get_model("tickets", "Ticket")
    rows = (
        RepairOrder.objects.filter(ticket__system_subject={})
        .values_list("ticket_id", "ticket__subject", "product__name")
        .order_by("pk")
        .iterator(chunk_size=BATCH)
    )
    for ticket_id, subject, product in rows:
        if product and subject in _written(product):
            Ticket.objects.filter(pk=ticket_id, system_subject={}).update(
                system_subject={"key": KEY, "params": {"product": product}}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("repairs", "0004_repairpolicy_auto_triage"),
        ("tickets", "0015_system_texts"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
