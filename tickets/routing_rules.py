"""Pure routing: which rules match a new ticket's facts, and what they add up to. No reads, no
writes: the service loads the rules and the facts and writes the outcome."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tickets.models import RoutingRule


@dataclass(frozen=True)
class TicketFacts:
    kind: str
    channel: str
    store_id: int | None
    customer_tier: str
    language: str
    order_value: Decimal | None
    text: str  # subject and first message, lower-cased


@dataclass
class RoutingOutcome:
    rule_ids: list[int] = field(default_factory=list)
    rule_names: list[str] = field(default_factory=list)
    team_id: int | None = None
    priority: int | None = None
    tags: list[str] = field(default_factory=list)
    sla_policy_id: int | None = None
    assignee_id: int | None = None

    @property
    def matched(self) -> bool:
        return bool(self.rule_ids)


def rule_matches(rule: "RoutingRule", facts: TicketFacts, tags: Iterable[str], store_ids: Sequence[int]) -> bool:
    """Every non-empty condition holds. ``store_ids`` are the rule's stores (read by the caller)."""
    if rule.match_kinds and facts.kind not in rule.match_kinds:
        return False
    if rule.match_channels and facts.channel not in rule.match_channels:
        return False
    if rule.match_customer_tiers and facts.customer_tier not in rule.match_customer_tiers:
        return False
    if rule.match_languages and facts.language not in rule.match_languages:
        return False
    if store_ids and facts.store_id not in store_ids:
        return False
    if rule.min_order_value is not None and (facts.order_value is None or facts.order_value < rule.min_order_value):
        return False
    if rule.max_order_value is not None and (facts.order_value is None or facts.order_value > rule.max_order_value):
        return False
    if rule.match_tags and not set(rule.match_tags) & set(tags):
        return False
    keywords = [str(keyword).strip().lower() for keyword in rule.match_keywords or () if str(keyword).strip()]
    return not keywords or any(keyword in facts.text for keyword in keywords)


def route(rules: Iterable[tuple["RoutingRule", Sequence[int]]], facts: TicketFacts) -> RoutingOutcome:
    """Run the rules in the order given (their positions). A later matching rule overrides what an
    earlier one set, and adds its tags; a match ends routing unless the rule continues."""
    outcome = RoutingOutcome()
    for rule, store_ids in rules:
        if not rule_matches(rule, facts, outcome.tags, store_ids):
            continue
        outcome.rule_ids.append(rule.pk)
        outcome.rule_names.append(rule.name)
        if rule.set_team_id is not None:
            outcome.team_id = rule.set_team_id
        if rule.set_priority is not None:
            outcome.priority = rule.set_priority
        for tag in rule.add_tags or ():
            name = str(tag).strip()[:50]
            if name and name not in outcome.tags:
                outcome.tags.append(name)
        if rule.set_sla_policy_id is not None:
            outcome.sla_policy_id = rule.set_sla_policy_id
        if rule.set_assignee_id is not None:
            outcome.assignee_id = rule.set_assignee_id
        if not rule.continue_after:
            break
    return outcome
