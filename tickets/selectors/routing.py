"""Reads of routing, assignment, macros, links and duplicates that pages, the API and services share.
Each starts from a merchant."""

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from aftersales.models import BusinessCalendar, Membership, Merchant, User
from tickets.models import (
    ACTIVE_STATUSES,
    AgentProfile,
    Macro,
    RoutingRule,
    SupportSettings,
    Team,
    TeamAssignment,
    Ticket,
    TicketLink,
)


def support_settings_of(merchant_id: int) -> SupportSettings:
    """The merchant's settings, or the defaults (unsaved) when it has none."""
    return SupportSettings.objects.filter(merchant_id=merchant_id).first() or SupportSettings(merchant_id=merchant_id)


def routing_rules_of(merchant: Merchant) -> QuerySet[RoutingRule]:
    return (
        RoutingRule.objects.filter(merchant=merchant)
        .select_related("set_team", "set_sla_policy", "set_assignee")
        .prefetch_related("match_stores")
        .order_by("position")
    )


def routing_rule_of(merchant: Merchant, pk: int) -> RoutingRule | None:
    return RoutingRule.objects.filter(merchant=merchant, pk=pk).first()


def team_assignments_of(merchant: Merchant) -> dict[int, TeamAssignment]:
    return {row.team_id: row for row in TeamAssignment.objects.filter(merchant=merchant)}


def team_of(merchant: Merchant, pk: int) -> Team | None:
    return Team.objects.filter(merchant=merchant, pk=pk).first()


def calendars_of(merchant: Merchant) -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.filter(merchant=merchant).order_by("name")


def agents_of(merchant: Merchant) -> list[tuple[Membership, AgentProfile | None, int]]:
    """Every active staff member who can take tickets, with their profile (if any) and open load."""
    memberships = list(
        Membership.objects.filter(
            merchant=merchant,
            is_active=True,
            role__in=(Membership.Role.AGENT, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN),
        )
        .select_related("user")
        .order_by("user__username")
    )
    profiles = {
        profile.user_id: profile
        for profile in AgentProfile.objects.filter(merchant=merchant).select_related("shift_calendar")
    }
    loads = dict(
        Ticket.objects.filter(merchant=merchant, status__in=ACTIVE_STATUSES, assignee__isnull=False)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [(m, profiles.get(m.user_id), loads.get(m.user_id, 0)) for m in memberships]


def agent_profile_of(merchant: Merchant, user_id: int) -> AgentProfile | None:
    return AgentProfile.objects.filter(merchant=merchant, user_id=user_id).select_related("user").first()


def macros_active_of(merchant: Merchant) -> QuerySet[Macro]:
    return Macro.objects.filter(merchant=merchant, is_active=True).order_by("name", "id")


def macros_usable_by(*, merchant: Merchant, user: User) -> QuerySet[Macro]:
    """Shared macros and the user's own, active, by name."""
    return (
        Macro.objects.filter(merchant=merchant, is_active=True)
        .filter(Q(owner__isnull=True) | Q(owner=user))
        .order_by("name", "id")
    )


def macros_managed_by(*, merchant: Merchant, user: User) -> QuerySet[Macro]:
    """On the macros page: shared macros (active or not) and the user's own."""
    return (
        Macro.objects.filter(merchant=merchant)
        .filter(Q(owner__isnull=True) | Q(owner=user))
        .select_related("owner", "assign_to")
        .order_by("owner_id", "name", "id")
    )


def macro_usable_by(*, merchant: Merchant, user: User, pk: int) -> Macro | None:
    return macros_usable_by(merchant=merchant, user=user).filter(pk=pk).first()


def macro_managed_by(*, merchant: Merchant, user: User, pk: int) -> Macro | None:
    return macros_managed_by(merchant=merchant, user=user).filter(pk=pk).first()


LINK_SIDES_OUT = {"related": "related", "parent": "child", "merged_into": "merged_into", "follow_up": "follow_up"}
LINK_SIDES_IN = {"related": "related", "parent": "parent", "merged_into": "merged_from", "follow_up": "follow_up_of"}


def ticket_links(*, ticket: Ticket, within: QuerySet[Ticket] | None = None) -> list[tuple[str, TicketLink, Ticket]]:
    """The ticket's links as (what the other ticket is to this one, link, other ticket), in one
    query; ``within`` keeps those whose other ticket is in it (what the viewer may see)."""
    links = TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket)).select_related("source", "target")
    if within is not None:
        links = links.filter(
            Q(source=ticket, target__in=within.values("pk")) | Q(target=ticket, source__in=within.values("pk"))
        )
    out: list[tuple[str, TicketLink, Ticket]] = []
    for link in links.order_by("created_at", "id"):
        if link.source_id == ticket.pk:
            out.append((LINK_SIDES_OUT[link.kind], link, link.target))
        else:
            out.append((LINK_SIDES_IN[link.kind], link, link.source))
    return out


def ticket_link_of(*, merchant: Merchant, pk: int) -> TicketLink | None:
    return TicketLink.objects.filter(merchant=merchant, pk=pk).first()


def possible_duplicates(
    *, ticket: Ticket, within: QuerySet[Ticket] | None = None, days: int | None = None, limit: int = 5
) -> list[Ticket]:
    """Open tickets of the same customer, order and kind opened within the merchant's duplicate
    window (``days``, read from its settings when not given) before this one or after it;
    ``within`` limits them to what the viewer may see."""
    if days is None:
        days = support_settings_of(ticket.merchant_id).duplicate_window_days
    created = ticket.created_at or timezone.now()
    same_order = Q(order__isnull=True) if ticket.order_id is None else Q(order_id=ticket.order_id)
    tickets = within if within is not None else Ticket.objects.all()
    return list(
        tickets.filter(
            same_order,
            merchant_id=ticket.merchant_id,
            customer_id=ticket.customer_id,
            kind=ticket.kind,
            status__in=ACTIVE_STATUSES,
            created_at__gte=created - timedelta(days=days),
        )
        .exclude(pk=ticket.pk)
        .order_by("-created_at", "-id")[:limit]
    )


# --- who is replying (the collision notice) -----------------------------------------------------

REPLYING_SECONDS = 30


def replying_key(ticket_id: int) -> str:
    return f"tickets:replying:{ticket_id}"


def agents_replying(*, ticket: Ticket, excluding_user_id: int | None = None) -> list[str]:
    """The names of the agents whose reply form on this ticket was active in the last
    ``REPLYING_SECONDS`` seconds."""
    now = timezone.now().timestamp()
    entries: dict[str, list[object]] = cache.get(replying_key(ticket.pk)) or {}
    return sorted(
        str(name)
        for user_id, (name, until) in entries.items()
        if isinstance(until, (int, float)) and until > now and str(user_id) != str(excluding_user_id)
    )
