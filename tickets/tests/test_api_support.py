"""The API of macros, merge, links and duplicates; every endpoint scoped to the key's merchant."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.tests.factories import OrderFactory, api_key_for
from tickets.models import Message, TicketLink, TicketPriority, TicketStatus
from tickets.services import ticket_create
from tickets.tests.factories import MacroFactory
from tickets.verbs import RoutingVerb

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")
    return client


def _other_merchants_ticket():
    order = OrderFactory()
    for _ in range(3):  # numbers are per merchant: SUP-000003 exists only there
        ticket = ticket_create(
            merchant=order.merchant,
            kind="support",
            subject="Theirs",
            body="Hello",
            customer=order.customer,
            channel="api",
            order=order,
        )
    return ticket


def test_creating_a_ticket_returns_its_possible_duplicates(client, make_ticket, order):
    earlier = make_ticket()

    response = client.post(
        reverse("api:ticket-list"),
        {"kind": "support", "subject": "Again", "body": "Still broken", "order": order.pk},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert [d["number"] for d in response.json()["possible_duplicates"]] == [earlier.number]


def test_list_and_apply_a_macro_over_the_api(client, merchant, make_ticket, order):
    order.customer.language = "zh-hans"
    order.customer.save()
    macro = MacroFactory(
        merchant=merchant, name="Thanks", reply_zh_hans="谢谢{customer_name}。", reply_en="Thanks.", set_priority=30
    )
    MacroFactory(name="Someone else's")
    ticket = make_ticket()

    listed = client.get(reverse("api:macro-list")).json()
    response = client.post(reverse("api:ticket-macro-apply", kwargs={"number": ticket.number, "pk": macro.pk}))

    assert [m["name"] for m in listed["results"]] == ["Thanks"]
    assert response.status_code == 200
    assert response.json()["priority"] == TicketPriority.HIGH
    assert ticket.messages.get(kind=Message.Kind.REPLY).body == f"谢谢{order.customer.name}。"
    assert ticket.events.filter(verb=RoutingVerb.MACRO_APPLIED).count() == 1


def test_merge_and_link_over_the_api(client, make_ticket):
    keep, duplicate, related = make_ticket(), make_ticket(), make_ticket()

    linked = client.post(
        reverse("api:ticket-links", kwargs={"number": keep.number}), {"other": related.number, "kind": "related"}
    )
    merged = client.post(reverse("api:ticket-merge", kwargs={"number": duplicate.number}), {"target": keep.number})

    assert linked.status_code == 201
    assert [(link["kind"], link["other"]["number"]) for link in linked.json()] == [("related", related.number)]
    assert merged.status_code == 200
    assert merged.json()["number"] == keep.number
    duplicate.refresh_from_db()
    assert duplicate.status == TicketStatus.CLOSED
    again = client.post(reverse("api:ticket-merge", kwargs={"number": duplicate.number}), {"target": keep.number})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "merge_final"
    link_id = linked.json()[0]["id"]
    assert client.delete(reverse("api:ticket-link", kwargs={"number": keep.number, "pk": link_id})).status_code == 204
    assert not TicketLink.objects.filter(kind="related").exists()


def test_another_merchants_tickets_macros_and_links_are_404(client, make_ticket):
    mine = make_ticket()
    theirs = _other_merchants_ticket()
    their_macro = MacroFactory(merchant=theirs.merchant, set_priority=40)

    answers = [
        client.post(reverse("api:ticket-merge", kwargs={"number": mine.number}), {"target": theirs.number}),
        client.post(
            reverse("api:ticket-links", kwargs={"number": mine.number}), {"other": theirs.number, "kind": "related"}
        ),
        client.post(reverse("api:ticket-macro-apply", kwargs={"number": mine.number, "pk": their_macro.pk})),
        client.get(reverse("api:ticket-duplicates", kwargs={"number": theirs.number})),
        client.get(reverse("api:ticket-links", kwargs={"number": theirs.number})),
    ]

    assert [answer.status_code for answer in answers] == [404] * 5
    mine.refresh_from_db()
    assert (mine.status, mine.priority) == (TicketStatus.NEW, TicketPriority.NORMAL)
    assert not TicketLink.objects.exists()
    assert client.get(reverse("api:macro-list")).json()["results"] == []
