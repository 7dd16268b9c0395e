"""Which returns and claims a staff member sees, and the line totals every list shows.

A staff member sees the returns whose tickets ``tickets_visible_to`` lets them see, so the returns
pages and the ticket pages never disagree: a technician sees none, the warehouse the returns and
exchanges, agents, supervisors and merchant admins all of them.
"""

from decimal import Decimal

from django.db.models import (
    DecimalField,
    F,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from aftersales.models import Membership
from returns.models import (
    CarrierClaim,
    ReturnRequest,
)
from tickets.selectors import tickets_visible_to

# The newest first. ``returnrequest_queue`` (merchant, status, -submitted_at) serves a status filter.
RETURNS_ORDERING = ("-submitted_at", "-id")


MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


def returns_visible_to(membership: Membership) -> QuerySet[ReturnRequest]:
    visible_tickets = tickets_visible_to(membership).values("pk")
    return ReturnRequest.objects.filter(merchant_id=membership.merchant_id, ticket__in=visible_tickets)


def carrier_claims_visible_to(membership: Membership) -> QuerySet[CarrierClaim]:
    """The claims of the returns this staff member may see (``returns_visible_to``)."""
    return CarrierClaim.objects.filter(
        merchant_id=membership.merchant_id, return_request__in=returns_visible_to(membership).values("pk")
    )


def with_line_totals(returns: QuerySet[ReturnRequest]) -> QuerySet[ReturnRequest]:
    """Each return's units and estimated refund (what its lines would pay), in the same query."""
    return returns.annotate(
        item_count=Coalesce(Sum("lines__quantity"), 0),
        estimated_refund=Coalesce(
            Sum(F("lines__quantity") * F("lines__unit_refund_amount"), output_field=MONEY_FIELD),
            Value(Decimal("0.00")),
            output_field=MONEY_FIELD,
        ),
    )
