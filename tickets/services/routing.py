"""Routing a new ticket by the merchant's rules, and managing the rules.

``ticket_route`` is the one hub function every channel's ticket creation calls (portal, API,
staff, e-mail: ``ticket_create`` calls it), inside the creating transaction, before the SLA
clocks start, so a rule's SLA policy is the one whose clocks run.
"""

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from aftersales.config_cache import config_cached
from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused
from aftersales.models import Membership, Merchant, User
from aftersales.services.staff import staff_membership_required
from tickets.models import RoutingRule, SupportSettings, Tag, Team, Ticket
from tickets.notify import notify_staff
from tickets.routing_rules import TicketFacts, route
from tickets.services.assignment import ticket_auto_assign_in_transaction
from tickets.timeline import event_append
from tickets.verbs import RoutingVerb

MAX_SETTING_DAYS = 90


def _facts(ticket: Ticket, body: str) -> TicketFacts:
    customer = ticket.customer
    order_value: Decimal | None = None
    if ticket.order_id is not None and ticket.order is not None:
        order_value = ticket.order.total_amount
    return TicketFacts(
        kind=ticket.kind,
        channel=ticket.channel,
        store_id=ticket.store_id,
        customer_tier=customer.tier,
        language=customer.language or ticket.merchant.default_language,
        order_value=order_value,
        text=f"{ticket.subject}\n{body}".lower(),
    )


def ticket_route(*, ticket: Ticket, body: str) -> Ticket:
    """Apply the merchant's routing rules to a ticket just created, then let its team's
    auto-assignment pick an agent when neither the creator nor a rule named one.

    Joins the caller's transaction. What the creator chose (a team, an assignee) stays; a rule
    fills in what was left open, sets the priority and the SLA policy, and adds tags.
    """
    with transaction.atomic(savepoint=False):
        # The merchant's rules are kept per process until its configuration changes.
        rules = config_cached(
            "routing_rules",
            lambda: list(
                RoutingRule.objects.filter(merchant_id=ticket.merchant_id, is_active=True)
                .order_by("position")
                .prefetch_related("match_stores")
            ),
            merchant_id=ticket.merchant_id,
        )
        changed: list[str] = []
        if rules:
            outcome = route(
                ((rule, [store.pk for store in rule.match_stores.all()]) for rule in rules), _facts(ticket, body)
            )
            if outcome.matched:
                data: dict[str, Any] = {"rules": outcome.rule_names}
                if outcome.team_id is not None and ticket.team_id is None:
                    ticket.team_id = outcome.team_id
                    changed.append("team")
                    data["team"] = ticket.team.name if ticket.team else ""
                if outcome.priority is not None and outcome.priority != ticket.priority:
                    data["priority"] = {"from": ticket.priority, "to": outcome.priority}
                    ticket.priority = outcome.priority
                    changed.append("priority")
                if outcome.sla_policy_id is not None:
                    ticket.sla_policy_id = outcome.sla_policy_id
                    changed.append("sla_policy")
                if outcome.assignee_id is not None and ticket.assignee_id is None:
                    member = Membership.objects.filter(
                        merchant_id=ticket.merchant_id, user_id=outcome.assignee_id, is_active=True
                    ).exists()
                    if member:
                        ticket.assignee_id = outcome.assignee_id
                        changed.append("assignee")
                        data["assignee"] = str(ticket.assignee)
                if outcome.tags:
                    tags = [
                        Tag.objects.get_or_create(merchant_id=ticket.merchant_id, name=name)[0] for name in outcome.tags
                    ]
                    ticket.tags.add(*tags)
                    data["tags"] = outcome.tags
                if changed:
                    ticket.save(update_fields=changed)
                event_append(ticket, RoutingVerb.ROUTED, data=data)
                if "assignee" in changed:
                    notify_staff(ticket, ticket.assignee, "ticket_assigned", {"assigned_by": _("routing rule")})
        if ticket.assignee_id is None and ticket.team_id is not None:
            ticket_auto_assign_in_transaction(ticket=ticket)
    return ticket


# --- managing the rules -------------------------------------------------------------------------


def _supervisor_required(*, actor: User, merchant: Merchant) -> None:
    membership = staff_membership_required(actor=actor, merchant_id=merchant.pk)
    if not membership.is_supervisor:
        raise PermissionRefused(_("Only a supervisor or a merchant admin may change routing."))


def _check_rule(rule: RoutingRule) -> None:
    if not rule.name.strip():
        raise InvalidInput(_("Give the rule a name."), code="empty_name", extra={"field": "name"})
    if (
        rule.min_order_value is not None
        and rule.max_order_value is not None
        and rule.min_order_value > rule.max_order_value
    ):
        raise InvalidInput(
            _("The lowest order value is above the highest."),
            code="order_value_range",
            extra={"field": "min_order_value"},
        )
    for team_id in [rule.set_team_id] if rule.set_team_id else []:
        if not Team.objects.filter(pk=team_id, merchant_id=rule.merchant_id).exists():
            raise InvalidInput(_("Unknown team."), code="unknown_team", extra={"field": "set_team"})
    if (
        rule.set_assignee_id is not None
        and not Membership.objects.filter(
            merchant_id=rule.merchant_id, user_id=rule.set_assignee_id, is_active=True
        ).exists()
    ):
        raise InvalidInput(_("Unknown agent."), code="unknown_agent", extra={"field": "set_assignee"})


def routing_rule_save(*, rule: RoutingRule, actor: User, store_ids: list[int] | None = None) -> RoutingRule:
    """Create (no pk; placed last when it has no position) or update a rule."""
    _supervisor_required(actor=actor, merchant=rule.merchant)
    _check_rule(rule)
    with transaction.atomic():
        if rule.pk is None and not rule.position:
            last = RoutingRule.objects.filter(merchant_id=rule.merchant_id).aggregate(last=Max("position"))["last"]
            rule.position = (last or 0) + 10
        try:
            with transaction.atomic():
                rule.save()
        except IntegrityError as exc:
            raise Conflict(
                _("Another rule already has position %(position)s.") % {"position": rule.position},
                code="position_taken",
                extra={"field": "position"},
            ) from exc
        if store_ids is not None:
            rule.match_stores.set(list(rule.merchant.stores.filter(pk__in=store_ids)))
    return rule


def routing_rule_move(*, rule: RoutingRule, actor: User, up: bool) -> RoutingRule:
    """Swap the rule with its neighbour above (``up``) or below, under a lock of the merchant's rules."""
    _supervisor_required(actor=actor, merchant=rule.merchant)
    with transaction.atomic():
        rules = list(RoutingRule.objects.filter(merchant_id=rule.merchant_id).order_by("position").select_for_update())
        index = next((i for i, other in enumerate(rules) if other.pk == rule.pk), None)
        if index is None:
            raise InvalidInput(_("Unknown rule."), code="unknown_rule")
        neighbour_index = index - 1 if up else index + 1
        if not 0 <= neighbour_index < len(rules):
            return rules[index]
        this, neighbour = rules[index], rules[neighbour_index]
        # Positions are unique: park one out of the way, then swap.
        this_position, neighbour_position = this.position, neighbour.position
        RoutingRule.objects.filter(pk=this.pk).update(position=0)
        RoutingRule.objects.filter(pk=neighbour.pk).update(position=this_position)
        RoutingRule.objects.filter(pk=this.pk).update(position=neighbour_position)
        this.position = neighbour_position
    return this


def routing_rule_delete(*, rule: RoutingRule, actor: User) -> None:
    _supervisor_required(actor=actor, merchant=rule.merchant)
    with transaction.atomic():
        RoutingRule.objects.filter(pk=rule.pk, merchant_id=rule.merchant_id).delete()


def support_settings_save(
    *, merchant: Merchant, actor: User, reopen_window_days: int, duplicate_window_days: int, pending_close_days: int
) -> SupportSettings:
    """The merchant's reopen window, duplicate window and default pending close, in days."""
    _supervisor_required(actor=actor, merchant=merchant)
    for field, value, lowest in (
        ("reopen_window_days", reopen_window_days, 0),
        ("duplicate_window_days", duplicate_window_days, 0),
        ("pending_close_days", pending_close_days, 1),
    ):
        if not lowest <= value <= MAX_SETTING_DAYS:
            raise InvalidInput(
                _("Pick from %(lowest)s to %(highest)s days.") % {"lowest": lowest, "highest": MAX_SETTING_DAYS},
                code="invalid_days",
                extra={"field": field},
            )
    with transaction.atomic():
        settings, _created = SupportSettings.objects.update_or_create(
            merchant=merchant,
            defaults={
                "reopen_window_days": reopen_window_days,
                "duplicate_window_days": duplicate_window_days,
                "pending_close_days": pending_close_days,
            },
        )
    return settings
