"""The support pages and the ticket page's support box, as staff use them; one merchant never
sees another's rules, macros, agents or tickets."""

import pytest
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, OrderFactory
from tickets.models import (
    AgentProfile,
    AgentStatus,
    Macro,
    Message,
    RoutingRule,
    SupportSettings,
    TicketLink,
    TicketStatus,
)
from tickets.selectors.routing import agents_replying
from tickets.services import ticket_create
from tickets.services.routing import routing_rule_save
from tickets.tests.factories import MacroFactory, RoutingRuleFactory, TeamFactory
from tickets.verbs import RoutingVerb

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in_supervisor(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def signed_in_agent(client, agent):
    client.force_login(agent)
    return client


def test_a_supervisor_adds_a_rule_from_the_routing_page_and_it_routes(signed_in_supervisor, merchant, make_ticket):
    team = TeamFactory(merchant=merchant, name="Tents")

    response = signed_in_supervisor.post(
        reverse("dashboard:routing_rules"),
        {"name": "Tents", "is_active": "on", "match_keywords": "帐篷， pole", "set_team": team.pk, "add_tags": "tent"},
    )

    assert response.status_code == 302
    rule = RoutingRule.objects.get(merchant=merchant)
    assert (rule.position, rule.match_keywords, rule.add_tags) == (10, ["帐篷", "pole"], ["tent"])
    ticket = make_ticket()
    ticket.refresh_from_db()
    assert ticket.team == team
    page = signed_in_supervisor.get(reverse("dashboard:routing_rules")).content.decode()
    assert "Tents" in page


def test_a_bad_rule_shows_its_error_and_saves_nothing(signed_in_supervisor, merchant):
    response = signed_in_supervisor.post(
        reverse("dashboard:routing_rules"), {"name": "Range", "min_order_value": "500", "max_order_value": "100"}
    )

    assert response.status_code == 400
    assert not RoutingRule.objects.exists()


def test_rules_move_up_and_down(signed_in_supervisor, merchant):
    first = RoutingRuleFactory(merchant=merchant, position=10)
    second = RoutingRuleFactory(merchant=merchant, position=20)

    signed_in_supervisor.post(reverse("dashboard:routing_rule_move", args=[second.pk]), {"direction": "up"})

    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.position, first.position) == (10, 20)


def test_an_agent_cannot_see_or_change_routing(signed_in_agent, merchant, agent):
    rule = RoutingRuleFactory(merchant=merchant, position=10, name="Keep")

    assert signed_in_agent.get(reverse("dashboard:routing_rules")).status_code == 403
    signed_in_agent.post(reverse("dashboard:routing_rule_delete", args=[rule.pk]))
    assert RoutingRule.objects.filter(pk=rule.pk).exists()


def test_another_merchants_rules_macros_agents_and_tickets_are_404(signed_in_supervisor, make_ticket, agent):
    other_order = OrderFactory()
    other = other_order.merchant
    other_rule = RoutingRuleFactory(merchant=other, position=10)
    other_macro = MacroFactory(merchant=other)
    other_team = TeamFactory(merchant=other)
    other_agent = MembershipFactory(merchant=other, role=Membership.Role.AGENT).user
    mine = make_ticket()
    # Numbers are per merchant: the other merchant's second ticket has a number this one lacks.
    theirs = [
        ticket_create(
            merchant=other,
            kind="support",
            subject="Theirs",
            body="Hello",
            customer=other_order.customer,
            channel="portal",
            order=other_order,
        )
        for _ in range(2)
    ][-1]

    for url in (
        reverse("dashboard:routing_rule", args=[other_rule.pk]),
        reverse("dashboard:macro", args=[other_macro.pk]),
        reverse("dashboard:agent", args=[other_agent.pk]),
        reverse("dashboard:ticket_replying", args=[theirs.number]),
    ):
        assert signed_in_supervisor.get(url).status_code == 404, url
    for url in (
        reverse("dashboard:routing_rule_delete", args=[other_rule.pk]),
        reverse("dashboard:macro_delete", args=[other_macro.pk]),
        reverse("dashboard:team_assignment", args=[other_team.pk]),
        reverse("dashboard:agent_status", args=[other_agent.pk]),
    ):
        assert signed_in_supervisor.post(url, {"status": "offline"}).status_code == 404, url
    # Merging into, or linking, another merchant's ticket finds no such ticket
    signed_in_supervisor.post(reverse("dashboard:ticket_merge", args=[mine.number]), {"target": theirs.number})
    signed_in_supervisor.post(
        reverse("dashboard:ticket_link", args=[mine.number]), {"other": theirs.number, "kind": "related"}
    )
    # …and another merchant's macro cannot be applied
    signed_in_supervisor.post(reverse("dashboard:ticket_macro", args=[mine.number]), {"macro": other_macro.pk})
    assert not TicketLink.objects.exists()
    mine.refresh_from_db()
    assert mine.status == TicketStatus.NEW
    assert RoutingRule.objects.filter(pk=other_rule.pk).exists()
    assert Macro.objects.filter(pk=other_macro.pk).exists()
    assert not AgentProfile.objects.filter(user=other_agent).exists()
    page = signed_in_supervisor.get(reverse("dashboard:macros")).content.decode()
    assert other_macro.name not in page


def test_an_agent_writes_a_personal_macro_and_applies_it_from_the_ticket_page(signed_in_agent, agent, make_ticket):
    response = signed_in_agent.post(
        reverse("dashboard:macros"),
        {
            "name": "Photo please",
            "personal": "on",
            "is_active": "on",
            "reply_zh_hans": "请发一张照片，谢谢。",
            "reply_en": "Please send a photo, {customer_name}.",
            "set_status": "waiting_customer",
        },
    )
    assert response.status_code == 302
    macro = Macro.objects.get(name="Photo please")
    assert macro.owner == agent
    ticket = make_ticket()
    page = signed_in_agent.get(reverse("dashboard:ticket", args=[ticket.number])).content.decode()
    assert "Photo please" in page

    response = signed_in_agent.post(reverse("dashboard:ticket_macro", args=[ticket.number]), {"macro": macro.pk})

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_CUSTOMER
    assert ticket.messages.get(kind=Message.Kind.REPLY).body == f"Please send a photo, {ticket.customer.name}."
    assert ticket.events.filter(verb=RoutingVerb.MACRO_APPLIED).count() == 1


def test_a_macro_without_both_languages_is_refused_on_the_page(signed_in_agent):
    response = signed_in_agent.post(
        reverse("dashboard:macros"), {"name": "Half", "personal": "on", "reply_en": "Hello"}
    )

    assert response.status_code == 400
    assert "Write the reply in both languages" in response.content.decode()
    assert not Macro.objects.exists()


def test_merge_from_the_ticket_page_lands_on_the_kept_ticket(signed_in_agent, make_ticket):
    keep, duplicate = make_ticket(), make_ticket()

    page = signed_in_agent.get(reverse("dashboard:ticket", args=[duplicate.number])).content.decode()
    assert "Possible duplicates" in page
    assert keep.number in page

    response = signed_in_agent.post(reverse("dashboard:ticket_merge", args=[duplicate.number]), {"target": keep.number})

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:ticket", args=[keep.number])
    duplicate.refresh_from_db()
    assert duplicate.status == TicketStatus.CLOSED
    assert keep.messages.count() == 2


def test_agents_set_their_status_and_supervisors_see_the_desk(client, signed_in_agent, agent, supervisor, merchant):
    response = signed_in_agent.post(reverse("dashboard:agents"), {"status": "available"})

    assert response.status_code == 302
    assert AgentProfile.objects.get(merchant=merchant, user=agent).status == AgentStatus.AVAILABLE
    assert "The desk" not in signed_in_agent.get(reverse("dashboard:agents")).content.decode()
    client.force_login(supervisor)
    page = client.get(reverse("dashboard:agents")).content.decode()
    assert "The desk" in page
    assert str(agent) in page


def test_the_collision_notice_names_the_other_agent_replying(client, agent, supervisor, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)
    assert client.post(reverse("dashboard:ticket_replying", args=[ticket.number])).json()["replying"] == []

    client.force_login(supervisor)
    answer = client.get(reverse("dashboard:ticket_replying", args=[ticket.number])).json()

    assert answer["replying"] == [str(agent)]
    assert str(agent) in answer["notice"]
    assert agents_replying(ticket=ticket, excluding_user_id=agent.pk) == []


def test_pending_close_from_the_ticket_page(signed_in_agent, make_ticket):
    ticket = make_ticket()

    signed_in_agent.post(reverse("dashboard:ticket_pending_close", args=[ticket.number]), {"days": "5"})

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_CUSTOMER
    page = signed_in_agent.get(reverse("dashboard:ticket", args=[ticket.number])).content.decode()
    assert "Cancel pending close" in page
    response = signed_in_agent.post(reverse("dashboard:ticket_pending_close", args=[ticket.number]), {"days": "0"})
    assert response.status_code == 302


def test_routing_rule_save_needs_a_supervisor(merchant, agent):
    from aftersales.exceptions import PermissionRefused

    with pytest.raises(PermissionRefused):
        routing_rule_save(rule=RoutingRule(merchant=merchant, name="x"), actor=agent)
    assert not RoutingRule.objects.exists()


def test_a_supervisor_sets_the_reopen_window_and_an_agent_cannot(client, supervisor, agent, merchant):
    client.force_login(agent)
    client.post(
        reverse("dashboard:support_settings"),
        {"reopen_window_days": 2, "duplicate_window_days": 3, "pending_close_days": 4},
    )
    assert not SupportSettings.objects.filter(merchant=merchant).exists()

    client.force_login(supervisor)
    bad = client.post(
        reverse("dashboard:support_settings"),
        {"reopen_window_days": 2, "duplicate_window_days": 3, "pending_close_days": 0},
    )
    assert not SupportSettings.objects.filter(merchant=merchant).exists()
    assert bad.status_code == 302
    client.post(
        reverse("dashboard:support_settings"),
        {"reopen_window_days": 2, "duplicate_window_days": 3, "pending_close_days": 4},
    )

    saved = SupportSettings.objects.get(merchant=merchant)
    assert (saved.reopen_window_days, saved.duplicate_window_days, saved.pending_close_days) == (2, 3, 4)
