"""Reads of the queue's saved views: the member's own and those shared with their teams, each with
the count of tickets it holds now, counted in one statement."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from aftersales.models import Membership
from tickets.models import SavedView, TicketPriority
from tickets.queue_filters import extra_filters
from tickets.selectors.tickets import TicketFilters, queue_condition, tickets_visible_to

# A page of the queue shows at most this many views: they are counted on every load of it.
SAVED_VIEWS_SHOWN = 20


@dataclass(frozen=True)
class SavedViewShown:
    view: SavedView
    count: int
    mine: bool


def saved_views_of(membership: Membership) -> list[SavedView]:
    """The member's views and those shared with a team they are on, in this merchant."""
    return list(
        SavedView.objects.filter(merchant_id=membership.merchant_id)
        .filter(Q(owner_id=membership.user_id) | Q(team__members=membership.user_id))
        .select_related("team", "owner")
        .distinct()
        .order_by("name", "id")[:SAVED_VIEWS_SHOWN]
    )


def saved_view_filters(filters: dict[str, Any]) -> TicketFilters:
    """A view's stored filters as the queue reads them; what is not a filter (or not valid) is none."""
    stored = str(filters.get("priority") or "")
    priority = int(stored) if stored.isdigit() and int(stored) in TicketPriority.values else None
    return TicketFilters(
        kind=str(filters.get("kind") or ""),
        status=str(filters.get("status") or ""),
        assignee=str(filters.get("assignee") or ""),
        priority=priority,
        q=str(filters.get("q") or "")[:200],
        extra=extra_filters(filters),
    )


def saved_views_counted(membership: Membership) -> list[SavedViewShown]:
    """The member's views with their counts now: one statement for the views, one for every count
    (none when there is no view). Each count is of the tickets this member sees, so a view shared
    with a team counts, for each member, what that member's queue would show."""
    views = saved_views_of(membership)
    if not views:
        return []
    counts = tickets_visible_to(membership).aggregate(
        **{
            f"view_{view.pk}": Count(
                "pk", filter=queue_condition(membership=membership, filters=saved_view_filters(view.filters))
            )
            for view in views
        }
    )
    return [
        SavedViewShown(view=view, count=counts[f"view_{view.pk}"], mine=view.owner_id == membership.user_id)
        for view in views
    ]


def saved_view_of(membership: Membership, view_id: int) -> SavedView | None:
    """One of the member's own views (to delete it), or None."""
    return SavedView.objects.filter(merchant_id=membership.merchant_id, owner_id=membership.user_id, pk=view_id).first()
