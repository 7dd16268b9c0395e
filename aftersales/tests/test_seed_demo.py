import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import Count

from aftersales.models import ApiKey, Membership, Merchant, Notification, Order, Store, User
from tickets.models import SlaPolicy, Team, Ticket, TicketEvent, TicketKind, TicketStatus

pytestmark = pytest.mark.django_db


def seed(*extra) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--orders", "20", "--tickets", "30", *extra, stdout=out)
    return out.getvalue()


def test_seed_builds_both_merchants_every_role_and_cases_in_every_status():
    # When the demo is seeded at a small size
    output = seed()

    # Then both merchants exist with their stores and staff of every role
    demo = Merchant.objects.get(slug="demo")
    second = Merchant.objects.get(slug="second")
    assert (demo.name, demo.timezone, demo.currency, demo.default_language) == (
        "Demo Outdoor Co.",
        "Asia/Shanghai",
        "CNY",
        "zh-hans",
    )
    assert second.name == "Second Shop"
    assert set(Store.objects.filter(merchant=demo).values_list("platform", flat=True)) == {"tmall", "shopify"}
    assert set(Membership.objects.filter(merchant=demo).values_list("role", flat=True)) == set(Membership.Role.values)
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="agent").check_password("aftersales-demo")
    assert Team.objects.filter(merchant=demo).count() == 2
    assert list(SlaPolicy.objects.filter(merchant=demo).values_list("name", flat=True)) == [
        "VIP customers",
        "Complaints",
        "Standard",
    ]

    # and its history: the orders asked for, cases of every kind in every status, each with a timeline
    assert Order.objects.filter(merchant=demo).count() == 20
    tickets = Ticket.objects.filter(merchant=demo)
    assert tickets.count() == 30
    assert set(tickets.values_list("status", flat=True)) == set(TicketStatus.values)
    assert set(tickets.values_list("kind", flat=True)) == set(TicketKind.values)
    assert not tickets.annotate(event_count=Count("events")).filter(event_count=0).exists()
    assert not Ticket.objects.filter(merchant=second).filter(customer__merchant=demo).exists()
    assert Ticket.objects.filter(merchant=second).count() == 7
    # The timeline came from the services: a closed case was resolved first, each step an event.
    closed = tickets.filter(status=TicketStatus.CLOSED).first()
    moves = [
        (event["data"]["from"], event["data"]["to"])
        for event in closed.events.filter(verb=TicketEvent.Verb.STATUS_CHANGED).values("data")
    ]
    assert moves[-1] == (TicketStatus.RESOLVED, TicketStatus.CLOSED)
    assert closed.resolved_at is not None and closed.closed_at > closed.resolved_at

    # Nothing was sent while seeding, and the built history leaves nothing for the worker to send
    assert mail.outbox == []
    assert Notification.objects.filter(merchant__in=[demo, second]).count() == 0

    # and the output tells how to log in, where the portal is and the API key, which works
    portal_order = Order.objects.get(merchant=demo, external_number=_after(output, "Order number: "))
    assert "Password for all: " in output and "aftersales-demo" in output
    assert "/portal/demo/" in output
    assert portal_order.contact_email in output and portal_order.contact_phone in output
    key = ApiKey.objects.get(merchant=demo, revoked_at__isnull=True)
    assert ApiKey.hash(_line_after(output, "API key of Demo Outdoor Co.")) == key.key_hash


def test_seeding_twice_duplicates_nothing():
    # Given a seeded demo
    seed()
    counts = {
        "merchants": Merchant.objects.count(),
        "users": User.objects.count(),
        "stores": Store.objects.count(),
        "memberships": Membership.objects.count(),
        "teams": Team.objects.count(),
        "sla policies": SlaPolicy.objects.count(),
        "orders": Order.objects.count(),
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
    }

    # When it is seeded again
    output = seed()

    # Then nothing is duplicated; only the API key is replaced, so the printed one works
    assert {
        "merchants": Merchant.objects.count(),
        "users": User.objects.count(),
        "stores": Store.objects.count(),
        "memberships": Membership.objects.count(),
        "teams": Team.objects.count(),
        "sla policies": SlaPolicy.objects.count(),
        "orders": Order.objects.count(),
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
    } == counts
    assert "left as it is" in output
    demo = Merchant.objects.get(slug="demo")
    assert ApiKey.objects.filter(merchant=demo).count() == 2
    active = ApiKey.objects.get(merchant=demo, revoked_at__isnull=True)
    assert ApiKey.hash(_line_after(output, "API key of Demo Outdoor Co.")) == active.key_hash


def test_the_demo_is_the_same_on_every_build():
    # Given the demo built once
    seed()
    first = list(Ticket.objects.order_by("merchant__slug", "number").values_list("number", "kind", "status", "subject"))

    # When the database is emptied of it and it is built again
    Ticket.objects.all().delete()
    Order.objects.all().delete()
    seed()

    # Then the cases are the same
    again = list(Ticket.objects.order_by("merchant__slug", "number").values_list("kind", "status", "subject"))
    assert again == [row[1:] for row in first]


def _after(output: str, label: str) -> str:
    line = next(line for line in output.splitlines() if label in line)
    return line.split(label, 1)[1].split()[0]


def _line_after(output: str, heading: str) -> str:
    lines = output.splitlines()
    index = next(i for i, line in enumerate(lines) if heading in line)
    return lines[index + 1].strip()
