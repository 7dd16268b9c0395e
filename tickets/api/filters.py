"""Query parameters of the ticket list. Each narrows a queryset that a selector scoped to the
request's merchant (and, for staff, to what they may see); none widens it."""

import django_filters
from django.utils.translation import gettext_lazy as _

from aftersales.api.filters import InstantFilter
from aftersales.api.permissions import request_merchant
from tickets.models import Ticket, TicketKind, TicketPriority, TicketStatus
from tickets.selectors import tickets_matching


class TicketFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=TicketKind.choices, help_text=_("One or more kinds."))
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices, help_text=_("One or more statuses."))
    priority = django_filters.MultipleChoiceFilter(
        choices=TicketPriority.choices, help_text=_("One or more priorities: 10 low, 20 normal, 30 high, 40 urgent.")
    )
    assignee = django_filters.NumberFilter(field_name="assignee", help_text=_("The assignee's user id."))
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", help_text=_("true: only tickets nobody is assigned to.")
    )
    team = django_filters.NumberFilter(field_name="team", help_text=_("The team's id."))
    customer = django_filters.NumberFilter(field_name="customer", help_text=_("The customer's id."))
    order = django_filters.NumberFilter(field_name="order", help_text=_("The order's id."))
    order_number = django_filters.CharFilter(
        field_name="order__external_number", help_text=_("The order number in its store.")
    )
    created_after = InstantFilter(
        field_name="created_at", lookup_expr="gte", help_text=_("Created at or after this time.")
    )
    created_before = InstantFilter(field_name="created_at", lookup_expr="lt", help_text=_("Created before this time."))
    q = django_filters.CharFilter(
        method="filter_q", help_text=_("A ticket number, an order number, or a customer's e-mail, phone or name.")
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_q(self, queryset, name, value: str):
        return tickets_matching(queryset, merchant=request_merchant(self.request), q=value)
