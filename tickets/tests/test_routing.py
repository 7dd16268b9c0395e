"""Routing rules: conditions, explicit order, and what a match sets, on every channel."""

from decimal import Decimal

import pytest

from aftersales.models import Membership, Notification
from aftersales.tests.factories import MembershipFactory, StoreFactory
from tickets.models import SlaPolicy, TicketChannel, TicketEvent, TicketKind, TicketPriority
from tickets.tests.factories import RoutingRuleFactory, TeamFactory
from tickets.verbs import RoutingVerb

pytestmark = pytest.mark.django_db


def test_the_first_matching_rule_by_position_wins_not_by_name(make_ticket, merchant):
    # Given two matching rules whose names sort the other way round from their positions
    returns_team = TeamFactory(merchant=merchant, name="Returns")
    vip_team = TeamFactory(merchant=merchant, name="VIP")
    RoutingRuleFactory(merchant=merchant, name="A second", position=20, set_team=returns_team)
    RoutingRuleFactory(
        merchant=merchant, name="Z first", position=10, set_team=vip_team, set_priority=TicketPriority.HIGH
    )

    # When a ticket is opened
    ticket = make_ticket()

    # Then only the rule at position 10 applied
    ticket.refresh_from_db()
    assert ticket.team == vip_team
    assert ticket.priority == TicketPriority.HIGH
    routed = ticket.events.get(verb=RoutingVerb.ROUTED)
    assert routed.data["rules"] == ["Z first"]


def test_reordering_the_rules_changes_which_one_wins(make_ticket, merchant):
    first = TeamFactory(merchant=merchant, name="First")
    second = TeamFactory(merchant=merchant, name="Second")
    RoutingRuleFactory(merchant=merchant, position=10, set_team=first)
    RoutingRuleFactory(merchant=merchant, position=5, set_team=second)

    ticket = make_ticket()

    ticket.refresh_from_db()
    assert ticket.team == second


def test_a_continuing_rule_lets_a_later_rule_match_on_the_tag_it_added(make_ticket, merchant):
    team = TeamFactory(merchant=merchant, name="Breakage")
    tagger = RoutingRuleFactory(
        merchant=merchant, position=10, match_keywords=["SNAPPED"], add_tags=["broken"], continue_after=True
    )
    router = RoutingRuleFactory(
        merchant=merchant, position=20, match_tags=["broken"], set_team=team, add_tags=["urgent"]
    )
    RoutingRuleFactory(merchant=merchant, position=30, set_priority=TicketPriority.LOW)

    ticket = make_ticket(subject="The tent pole snapped")

    ticket.refresh_from_db()
    assert ticket.team == team
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["broken", "urgent"]
    assert ticket.priority == TicketPriority.NORMAL  # the third rule never ran
    assert ticket.events.get(verb=RoutingVerb.ROUTED).data["rules"] == [tagger.name, router.name]


def test_each_condition_must_hold(make_ticket, merchant, order):
    team = TeamFactory(merchant=merchant)
    other_store = StoreFactory(merchant=merchant)
    rule = RoutingRuleFactory(
        merchant=merchant,
        position=10,
        match_kinds=[TicketKind.SUPPORT],
        match_channels=[TicketChannel.PORTAL],
        match_customer_tiers=["regular"],
        match_languages=["en"],
        min_order_value=Decimal("100.00"),
        set_team=team,
    )
    rule.match_stores.set([other_store])

    # The store does not match: nothing is routed
    unrouted = make_ticket()
    unrouted.refresh_from_db()
    assert unrouted.team is None
    assert not unrouted.events.filter(verb=RoutingVerb.ROUTED).exists()

    # With the order's store it matches (order value 2×199 + 1×199 = 597 ≥ 100)
    rule.match_stores.set([order.store])
    routed = make_ticket()
    routed.refresh_from_db()
    assert routed.team == team

    # An order value ceiling below the order's value stops it again
    rule.max_order_value = Decimal("500.00")
    rule.save()
    capped = make_ticket()
    capped.refresh_from_db()
    assert capped.team is None


def test_customer_language_and_tier_conditions(make_ticket, merchant, order):
    team = TeamFactory(merchant=merchant)
    RoutingRuleFactory(
        merchant=merchant, position=10, match_languages=["zh-hans"], match_customer_tiers=["vip"], set_team=team
    )
    order.customer.language = "zh-hans"
    order.customer.save()

    regular = make_ticket()
    order.customer.tier = "vip"
    order.customer.save()
    vip = make_ticket()

    regular.refresh_from_db()
    vip.refresh_from_db()
    assert regular.team is None
    assert vip.team == team


def test_a_rule_sets_the_sla_policy_whose_clocks_run(make_ticket, merchant):
    SlaPolicy.objects.create(merchant=merchant, name="Default", position=1, first_response_minutes=600)
    strict = SlaPolicy.objects.create(merchant=merchant, name="Strict", position=2, first_response_minutes=30)
    RoutingRuleFactory(merchant=merchant, position=10, match_keywords=["pole"], set_sla_policy=strict)

    ticket = make_ticket()

    ticket.refresh_from_db()
    assert ticket.sla_policy == strict
    deadline = ticket.deadlines.get(kind="sla.first_response")
    assert deadline.target_minutes == 30


def test_a_rule_assigns_a_named_agent_and_staff_choices_stand(make_ticket, merchant, agent, order):
    other = MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user
    team = TeamFactory(merchant=merchant)
    chosen_team = TeamFactory(merchant=merchant)
    RoutingRuleFactory(merchant=merchant, position=10, set_team=team, set_assignee=agent)

    routed = make_ticket()
    by_staff = make_ticket(channel=TicketChannel.STAFF, created_by=other, assignee=other, team=chosen_team)

    routed.refresh_from_db()
    by_staff.refresh_from_db()
    assert (routed.team, routed.assignee) == (team, agent)
    assert (by_staff.team, by_staff.assignee) == (chosen_team, other)
    told = Notification.objects.filter(ticket=routed, template="ticket_assigned")
    assert list(told.values_list("recipient", flat=True)) == [agent.email]


def test_inactive_rules_and_other_merchants_rules_never_apply(make_ticket, merchant):
    RoutingRuleFactory(merchant=merchant, position=10, is_active=False, set_priority=TicketPriority.URGENT)
    RoutingRuleFactory(position=5, set_priority=TicketPriority.URGENT)  # another merchant's

    ticket = make_ticket()

    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.NORMAL
    assert not ticket.events.filter(verb=RoutingVerb.ROUTED).exists()
    assert ticket.events.filter(verb=TicketEvent.Verb.CREATED).count() == 1
