"""The subject repairs gives a repair's case ("Repair: <product>") is kept as a key and its
parameters, so it reads in each reader's language, whatever language the request came in; the
stored text stays for search, exports and the API."""

import pytest
from django.urls import reverse
from django.utils import translation

from repairs.tests.builders import request_repair

pytestmark = pytest.mark.django_db


def test_a_repair_requested_in_english_has_a_chinese_subject_for_a_chinese_reader(client, world):
    # Given a repair requested while English was active
    with translation.override("en"):
        repair = request_repair(world)
    ticket = repair.ticket
    product = world.product.name

    # When a Chinese-reading agent opens the case and the queue, and an English one the case
    client.force_login(world.agent)
    client.cookies["aftersales_language"] = "zh-hans"
    chinese = client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number})).content.decode()
    queue = client.get(reverse("dashboard:queue")).content.decode()
    client.cookies["aftersales_language"] = "en"
    english = client.get(reverse("dashboard:ticket", kwargs={"number": ticket.number})).content.decode()

    # Then each reads it in their language; the stored subject is the one it was written in
    assert (ticket.subject, ticket.system_subject) == (
        f"Repair: {product}",
        {"key": "repairs.repair_subject", "params": {"product": product}},
    )
    assert f'<span class="ticket-number">{ticket.number}</span> 维修：{product}</h1>' in chinese
    assert f">维修：{product}</a></td>" in queue
    assert f'<span class="ticket-number">{ticket.number}</span> Repair: {product}</h1>' in english


def test_a_known_warranty_component_is_named_in_the_readers_language_and_another_as_written():
    from repairs.warranty import coverage_name

    with translation.override("zh-hans"):
        chinese = [coverage_name(kind="component", component=name) for name in ("igniter", "Battery", "pump seal")]
    with translation.override("en"):
        english = [coverage_name(kind="component", component=name) for name in ("igniter", "Battery", "pump seal")]

    assert chinese == ["点火器", "电池", "pump seal"]
    assert english == ["Igniter", "Battery", "pump seal"]


def test_repairs_opened_before_keys_were_kept_get_their_key_when_the_subject_is_the_systems(world):
    import importlib

    from django.apps import apps

    from tickets.models import Ticket

    # Given two older repairs: one with the subject the system wrote in Chinese, one edited
    with translation.override("zh-hans"):
        written = request_repair(world).ticket
    edited = request_repair(world).ticket
    Ticket.objects.filter(pk__in=[written.pk, edited.pk]).update(system_subject={})
    Ticket.objects.filter(pk=edited.pk).update(subject="Tap leaks again, customer angry")

    # When the migration runs
    importlib.import_module("repairs.migrations.0005_repair_subject_keys").forwards(apps, None)

    # Then the system's subject has its key, and the edited one stays as stored
    written.refresh_from_db()
    edited.refresh_from_db()
    assert written.subject == f"维修：{world.product.name}"
    assert written.system_subject == {"key": "repairs.repair_subject", "params": {"product": world.product.name}}
    assert (edited.subject, edited.system_subject) == ("Tap leaks again, customer angry", {})
