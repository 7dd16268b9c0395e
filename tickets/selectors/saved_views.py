"""Reads of the queue's saved views: the member's own and those shared with their teams, each with
the count of tickets it holds now, counted in one statement.

Each count reads at most ``SAVED_VIEW_COUNT_LIMIT + 1`` of the tickets it counts (a "999+" badge
beyond that), each through the index its filters allow, so that the queue costs the same with a
view of every ticket at any size of the ticket table: one aggregate over all of the merchant's
tickets, with a FILTER per view, read ~20,000 rows a load at 1,000,000 tickets."""

import functools
from dataclasses import dataclass
from typing import Any, cast

from django.db.models import IntegerField, Q, QuerySet, Subquery

from aftersales.compiled import CompiledRead
from aftersales.models import Membership, Merchant
from tickets.models import SavedView, TicketPriority
from tickets.queue_filters import extra_filters
from tickets.selectors.tickets import TicketFilters, queue_condition, tickets_visible_to

# A page of the queue shows at most this many views: they are counted on every load of it.
SAVED_VIEWS_SHOWN = 20
# A view's count is exact up to this many tickets; beyond it the badge reads "999+".
SAVED_VIEW_COUNT_LIMIT = 999


@dataclass(frozen=True)
class SavedViewShown:
    view: SavedView
    count: int  # at most SAVED_VIEW_COUNT_LIMIT
    mine: bool
    more: bool = False  # it holds more than ``count`` tickets


def _saved_views_query(*, shape: None, merchant_id: int, user_id: int) -> QuerySet[SavedView]:
    return (
        SavedView.objects.filter(merchant_id=merchant_id)
        .filter(Q(owner_id=user_id) | Q(team__members=user_id))
        .select_related("team", "owner")
        .distinct()
        .order_by("name", "id")[:SAVED_VIEWS_SHOWN]
    )


# Read on every load of the queue: compiled once (a statement, not a cache).
_SAVED_VIEWS = CompiledRead(_saved_views_query, params={"merchant_id": int, "user_id": int}, prepared=True)


def saved_views_of(membership: Membership) -> list[SavedView]:
    """The member's views and those shared with a team they are on, in this merchant."""
    return _SAVED_VIEWS.rows(shape=None, merchant_id=membership.merchant_id, user_id=membership.user_id)


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


class _CountOf(Subquery):
    """The number of rows of a (sliced) queryset, as a column: ``count(*)`` over the subquery."""

    template = "(SELECT count(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


def saved_views_counted(membership: Membership) -> list[SavedViewShown]:
    """The member's views with their counts now: one statement for the views, one for every count
    (none when there is no view). Each count is of the tickets this member sees, so a view shared
    with a team counts, for each member, what that member's queue would show."""
    views = saved_views_of(membership)
    if not views:
        return []
    counting = _views_counting(tuple(saved_view_filters(view.filters) for view in views), SAVED_VIEW_COUNT_LIMIT)
    counts = counting.rows(shape=membership.role, merchant_id=membership.merchant_id, user_id=membership.user_id)
    row = cast("dict[str, int]", counts[0])
    shown = []
    for index, view in enumerate(views):
        count = row[f"view_{index}"]
        shown.append(
            SavedViewShown(
                view=view,
                count=min(count, SAVED_VIEW_COUNT_LIMIT),
                mine=view.owner_id == membership.user_id,
                more=count > SAVED_VIEW_COUNT_LIMIT,
            )
        )
    return shown


@functools.lru_cache(maxsize=256)
def _views_counting(views: tuple[TicketFilters, ...], limit: int) -> CompiledRead[Merchant]:
    """The statement that counts these views, compiled once per role (``CompiledRead``): building
    and compiling a subquery per view was ~0.6 ms of the queue's CPU on every load. A member's
    views change seldom; the least recently counted sets of views are let go past 256."""
    return CompiledRead(
        functools.partial(_views_counting_query, views=views, limit=limit),
        params={"merchant_id": int, "user_id": int},
    )


def _views_counting_query(
    *, shape: str, merchant_id: int, user_id: int, views: tuple[TicketFilters, ...], limit: int
) -> QuerySet[Merchant]:
    # An unsaved membership (and merchant, which a search reads the customers of) carries the
    # values the counts take from one, as the queue's compiled first page does.
    member = Membership(merchant_id=merchant_id, user_id=user_id, role=shape)
    member.merchant = Merchant(pk=merchant_id)
    visible = tickets_visible_to(member).order_by()
    # Rows of counts (values()), which CompiledRead reads as the queryset says.
    counts = Merchant.objects.filter(pk=merchant_id).values(
        **{
            f"view_{index}": _CountOf(
                visible.filter(queue_condition(membership=member, filters=filters)).values("pk")[: limit + 1]
            )
            for index, filters in enumerate(views)
        }
    )
    return cast("QuerySet[Merchant]", counts)


def saved_view_of(membership: Membership, view_id: int) -> SavedView | None:
    """One of the member's own views (to delete it), or None."""
    return SavedView.objects.filter(merchant_id=membership.merchant_id, owner_id=membership.user_id, pk=view_id).first()
