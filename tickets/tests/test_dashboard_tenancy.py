"""Isolation on the staff dashboard: another merchant's staff, and a technician, see nothing more
than they should, on every page and every action."""

import pytest
from django.urls import reverse

from aftersales.models import Membership
from aftersales.selectors import SESSION_MERCHANT_KEY
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from tickets.models import Attachment, Message, Ticket, TicketEvent, TicketKind, TicketStatus
from tickets.tests.factories import TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _snapshot(ticket: Ticket) -> dict:
    ticket.refresh_from_db()
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id,
        "team": ticket.team_id,
        "tags": sorted(ticket.tags.values_list("name", flat=True)),
        "events": TicketEvent.objects.filter(ticket=ticket).count(),
        "messages": Message.objects.filter(ticket=ticket).count(),
    }


def _queue_numbers(response) -> list[str]:
    return [ticket.number for ticket in response.context["tickets"]]


@pytest.fixture
def first_ticket(make_ticket, png_upload):
    """The first merchant's case, with a photo."""
    return make_ticket(files=[png_upload()])


@pytest.fixture
def outsider(db):
    """An agent of a second merchant, with a ticket of the same number in their own shop."""
    membership = MembershipFactory(merchant=MerchantFactory(), role=Membership.Role.MERCHANT_ADMIN)
    return membership.user


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


def test_another_merchants_staff_get_404_for_the_ticket_page(outsider_client, first_ticket):
    response = outsider_client.get(reverse("dashboard:ticket", kwargs={"number": first_ticket.number}))

    assert response.status_code == 404


def test_another_merchants_staff_get_404_for_its_attachments(outsider_client, first_ticket):
    attachment = Attachment.objects.get(ticket=first_ticket)

    response = outsider_client.get(reverse("dashboard:attachment", kwargs={"pk": attachment.pk}))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("reply", {"body": "Hello from elsewhere", "status": "resolved"}),
        ("note", {"body": "Peeking"}),
        ("assign", {"assignee": ""}),
        ("status", {"status": "cancelled"}),
        ("priority", {"priority": "40"}),
        ("tags", {"tags": "hijacked"}),
    ],
)
def test_another_merchants_staff_get_404_for_every_action_and_change_nothing(
    outsider_client, outsider, first_ticket, agent, action, payload
):
    first_ticket.assignee = agent
    first_ticket.save(update_fields=["assignee"])
    before = _snapshot(first_ticket)

    response = outsider_client.post(
        reverse(f"dashboard:ticket_{action}", kwargs={"number": first_ticket.number}), payload
    )

    assert response.status_code == 404
    assert _snapshot(first_ticket) == before


def test_another_merchants_queue_never_lists_the_first_merchants_tickets(
    outsider_client, outsider, first_ticket, order
):
    own = TicketFactory(merchant=outsider.memberships.get().merchant)

    for params in (
        {},
        {"status": "all"},
        {"q": first_ticket.number},
        {"q": order.external_number},
        {"q": order.customer.email},
        {"assignee": "none"},
    ):
        response = outsider_client.get(reverse("dashboard:queue"), params)
        assert response.status_code == 200
        assert first_ticket.number not in _queue_numbers(response)
    assert _queue_numbers(outsider_client.get(reverse("dashboard:queue"))) == [own.number]


def test_the_same_number_at_another_merchant_opens_that_merchants_ticket_only(outsider_client, outsider, first_ticket):
    theirs = TicketFactory(merchant=outsider.memberships.get().merchant, number=first_ticket.number, subject="Theirs")

    response = outsider_client.get(reverse("dashboard:ticket", kwargs={"number": first_ticket.number}))

    assert response.status_code == 200
    assert response.context["ticket"].pk == theirs.pk
    assert "The tent pole snapped" not in response.content.decode()


def test_another_merchants_staff_cannot_open_a_ticket_on_the_first_merchants_order(outsider_client, outsider, order):
    response = outsider_client.post(
        reverse("dashboard:ticket_new"),
        {
            "kind": "return",
            "channel": "phone",
            "priority": "20",
            "subject": "x",
            "body": "y",
            "order_number": order.external_number,
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"order_number": ["No order with this number."]}
    assert Ticket.objects.count() == 0


def test_the_assign_form_offers_and_accepts_only_this_merchants_staff_and_teams(client, agent, first_ticket, outsider):
    foreign_team = TeamFactory(merchant=outsider.memberships.get().merchant)
    client.force_login(agent)
    before = _snapshot(first_ticket)

    page = client.get(reverse("dashboard:ticket", kwargs={"number": first_ticket.number}))
    to_outsider = client.post(
        reverse("dashboard:ticket_assign", kwargs={"number": first_ticket.number}), {"assignee": str(outsider.pk)}
    )
    to_foreign_team = client.post(
        reverse("dashboard:ticket_assign", kwargs={"number": first_ticket.number}), {"team": str(foreign_team.pk)}
    )

    assert str(outsider.pk) not in {
        str(value) for value, _label in page.context["assign_form"].fields["assignee"].choices
    }
    assert foreign_team not in page.context["assign_form"].fields["team"].queryset
    assert to_outsider.status_code == 400
    assert to_foreign_team.status_code == 400
    assert list(to_foreign_team.context["assign_form"].errors) == ["team"]
    assert _snapshot(first_ticket) == before


def test_a_customers_other_tickets_never_include_another_merchants(client, agent, first_ticket, outsider):
    TicketFactory(merchant=outsider.memberships.get().merchant)
    client.force_login(agent)

    response = client.get(reverse("dashboard:ticket", kwargs={"number": first_ticket.number}))

    assert response.context["other_tickets"] == []


# --- a technician sees only the repairs assigned to them ---------------------------------------------


@pytest.fixture
def technician(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.TECHNICIAN).user


@pytest.fixture
def repairs(make_ticket, technician, agent, png_upload):
    return {
        "theirs": make_ticket(kind=TicketKind.REPAIR, subject="Theirs", assignee=technician, files=[png_upload()]),
        "colleagues": make_ticket(
            kind=TicketKind.REPAIR, subject="A colleague's", assignee=agent, files=[png_upload()]
        ),
        "unassigned": make_ticket(kind=TicketKind.REPAIR, subject="Nobody's"),
        "support": make_ticket(kind=TicketKind.SUPPORT, subject="Support", assignee=technician),
    }


def test_a_technicians_queue_lists_only_repairs_assigned_to_them(client, technician, repairs):
    client.force_login(technician)

    active = client.get(reverse("dashboard:queue"))
    everything = client.get(reverse("dashboard:queue"), {"status": "all", "assignee": "none"})

    assert _queue_numbers(active) == [repairs["theirs"].number]
    assert _queue_numbers(everything) == []


def test_a_technician_opens_their_repair_and_gets_404_for_the_rest(client, technician, repairs):
    client.force_login(technician)

    def status(key):
        return client.get(reverse("dashboard:ticket", kwargs={"number": repairs[key].number})).status_code

    assert [status(key) for key in ("theirs", "colleagues", "unassigned", "support")] == [200, 404, 404, 404]


def test_a_technician_downloads_only_their_repairs_attachments(client, technician, repairs):
    client.force_login(technician)
    own = Attachment.objects.get(ticket=repairs["theirs"])
    other = Attachment.objects.get(ticket=repairs["colleagues"])

    assert client.get(reverse("dashboard:attachment", kwargs={"pk": own.pk})).status_code == 200
    assert client.get(reverse("dashboard:attachment", kwargs={"pk": other.pk})).status_code == 404


@pytest.mark.parametrize("action", ["reply", "note", "assign", "status", "priority", "tags"])
def test_a_technician_cannot_act_on_a_repair_not_assigned_to_them(client, technician, repairs, action):
    client.force_login(technician)
    ticket = repairs["colleagues"]
    before = _snapshot(ticket)

    response = client.post(
        reverse(f"dashboard:ticket_{action}", kwargs={"number": ticket.number}),
        {"body": "x", "status": TicketStatus.CANCELLED, "priority": "40", "tags": "x", "assignee": ""},
    )

    assert response.status_code == 404
    assert _snapshot(ticket) == before


def test_a_technician_does_not_see_the_customers_cases_they_may_not_open(client, technician, repairs):
    client.force_login(technician)

    response = client.get(reverse("dashboard:ticket", kwargs={"number": repairs["theirs"].number}))

    assert response.context["other_tickets"] == []
    assert "A colleague&#x27;s" not in response.content.decode()


# --- the merchant switcher -----------------------------------------------------------------------


def test_the_switcher_refuses_a_merchant_the_user_does_not_belong_to(client, agent, merchant, first_ticket):
    stranger = MerchantFactory()
    TicketFactory(merchant=stranger, subject="Secret")
    client.force_login(agent)

    response = client.post(reverse("dashboard:switch_merchant"), {"merchant": str(stranger.pk)}, follow=True)

    assert SESSION_MERCHANT_KEY not in client.session
    assert [str(m) for m in response.context["messages"]] == ["You are not a member of that merchant's staff."]
    assert response.context["membership"].merchant_id == merchant.pk
    assert _queue_numbers(response) == [first_ticket.number]


def test_the_switcher_refuses_a_merchant_whose_membership_lapsed(client, agent, merchant):
    former = MerchantFactory()
    MembershipFactory(merchant=former, user=agent, is_active=False)
    client.force_login(agent)

    client.post(reverse("dashboard:switch_merchant"), {"merchant": str(former.pk)})

    assert SESSION_MERCHANT_KEY not in client.session


def test_a_planted_session_merchant_falls_back_to_the_users_own(client, agent, merchant, first_ticket):
    stranger = MerchantFactory()
    TicketFactory(merchant=stranger)
    client.force_login(agent)
    session = client.session
    session[SESSION_MERCHANT_KEY] = stranger.pk
    session.save()

    response = client.get(reverse("dashboard:queue"))

    assert response.context["membership"].merchant_id == merchant.pk
    assert _queue_numbers(response) == [first_ticket.number]


def test_after_switching_the_previous_merchants_ticket_is_404(client, agent, first_ticket):
    other = MerchantFactory()
    MembershipFactory(merchant=other, user=agent)
    client.force_login(agent)
    url = reverse("dashboard:ticket", kwargs={"number": first_ticket.number})
    assert client.get(url).status_code == 200

    client.post(reverse("dashboard:switch_merchant"), {"merchant": str(other.pk)})

    assert client.get(url).status_code == 404
