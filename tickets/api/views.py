"""The case API: list, open and read tickets, write on them, and act on them.

Every read starts from ``tickets_for_api``: the API key's merchant, or what the staff member
of the session may see. A ticket outside that is a 404, never a 403, so a number's existence
does not leak. Every write goes through ``tickets.services``; refusals come back as the
service raised them (400/403/409 with a stable code, see ``aftersales.api.exception_handlers``).
"""

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from aftersales.api.pagination import CreatedCursorPagination
from aftersales.api.parsers import DEFAULT_PARSERS
from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.serializers import refusal_responses
from aftersales.api.views import MerchantApiView, MerchantListApiView
from aftersales.exceptions import InvalidInput
from aftersales.models import Customer, Merchant, Order, OrderLine
from aftersales.selectors import customers_of, order_lines_of, orders_of, staff_user_of
from aftersales.services.customers import customer_get_or_create
from tickets import services
from tickets.api.filters import TicketFilter
from tickets.api.serializers import (
    MessageCreateInputSerializer,
    MessageOutputSerializer,
    SlaPolicyOutputSerializer,
    TicketAssignInputSerializer,
    TicketCreateInputSerializer,
    TicketDetailOutputSerializer,
    TicketOutputSerializer,
    TicketPriorityInputSerializer,
    TicketStatusInputSerializer,
    TicketTagsInputSerializer,
    ticket_summaries_of_rows,
)
from tickets.api.support import TicketCreatedOutputSerializer, duplicates_payload
from tickets.models import Message, Ticket, TicketChannel
from tickets.selectors import (
    sla_policies_of,
    teams_of,
    ticket_deadlines,
    ticket_for_api,
    ticket_messages,
    ticket_rows_listed,
    ticket_tag_names,
    ticket_timeline,
    tickets_listed_for_api,
)

TAG = ["tickets"]
REFUSALS = refusal_responses(
    not_found=_("No such ticket for this merchant."), conflict=_("Not allowed in the ticket's current status.")
)
UPLOAD_PARSERS = DEFAULT_PARSERS


def _ticket_or_404(request, number: str) -> Ticket:
    ticket = ticket_for_api(merchant=request_merchant(request), membership=request_membership(request), number=number)
    if ticket is None:
        raise Http404
    return ticket


def _ticket_summary(request, ticket: Ticket) -> dict:
    """Answer an action with the ticket as it now stands, read again through the selector."""
    fresh = ticket_for_api(
        merchant=request_merchant(request), membership=request_membership(request), number=ticket.number
    )
    return TicketOutputSerializer(fresh or ticket).data


def _ticket_detail(ticket: Ticket) -> dict:
    ticket.timeline = list(ticket_timeline(ticket=ticket, public_only=False))
    ticket.deadline_list = list(ticket_deadlines(ticket=ticket))
    return TicketDetailOutputSerializer(ticket).data


class TicketListCreateApi(MerchantListApiView):
    """``GET``: the merchant's tickets, newest first, by cursor. ``POST``: open a ticket (channel api)."""

    serializer_class = TicketOutputSerializer
    filterset_class = TicketFilter
    parser_classes = UPLOAD_PARSERS

    def get_queryset(self):
        # Only the columns the summaries show (the same rows: a test compares the two).
        return tickets_listed_for_api(
            merchant=request_merchant(self.request), membership=request_membership(self.request)
        )

    @extend_schema(tags=TAG, summary=_("List tickets"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        # ``serializer_class`` stays the schema's description of a row; the page is written from
        # plain rows by ``ticket_summaries_of_rows``, which writes what it writes (a test compares).
        rows = ticket_rows_listed(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows)
        listed = list(rows) if page is None else page
        summaries = ticket_summaries_of_rows(listed, ticket_tag_names([row["id"] for row in listed]))
        return Response(summaries) if page is None else self.get_paginated_response(summaries)

    @extend_schema(
        tags=TAG,
        summary=_("Open a ticket"),
        request=TicketCreateInputSerializer,
        responses={201: TicketCreatedOutputSerializer, 400: REFUSALS[400], 403: REFUSALS[403]},
    )
    def post(self, request, *args, **kwargs):
        serializer = TicketCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        merchant = request_merchant(request)
        actor = request_actor(request)
        order = _order_of(merchant, data.get("order"))
        order_lines = _order_lines_of(order, data["order_lines"])
        # A customer found or created by contact is kept only if the ticket is opened too.
        with transaction.atomic():
            customer = _customer_for(merchant, data, order)
            ticket = services.ticket_create(
                merchant=merchant,
                kind=data["kind"],
                subject=data["subject"],
                body=data["body"],
                customer=customer,
                channel=TicketChannel.API,
                order=order,
                order_lines=order_lines,
                priority=data["priority"],
                created_by=actor,
                files=data["attachments"],
            )
        # The creator reads what they opened, whatever their role lets them list.
        created = ticket_for_api(merchant=merchant, membership=None, number=ticket.number)
        body = _ticket_detail(created)
        body["possible_duplicates"] = duplicates_payload(created, request)
        return Response(body, status=status.HTTP_201_CREATED)


def _order_of(merchant: Merchant, order_id: int | None) -> Order | None:
    if order_id is None:
        return None
    order = orders_of(merchant).filter(pk=order_id).first()
    if order is None:
        raise InvalidInput(_("Unknown order."), code="unknown_order", extra={"field": "order"})
    return order


def _order_lines_of(order: Order | None, line_ids: list[int]) -> list[OrderLine]:
    if not line_ids or order is None:  # the input serializer refuses lines without their order
        return []
    lines = list(order_lines_of(order).filter(pk__in=line_ids))
    if len(lines) != len(set(line_ids)):
        raise InvalidInput(
            _("Those lines are not on this order."), code="lines_not_on_order", extra={"field": "order_lines"}
        )
    return lines


def _customer_for(merchant: Merchant, data: dict, order: Order | None) -> Customer:
    if data.get("customer"):
        customer = customers_of(merchant).filter(pk=data["customer"]).first()
        if customer is None:
            raise InvalidInput(_("Unknown customer."), code="unknown_customer", extra={"field": "customer"})
        return customer
    if data["customer_email"] or data["customer_phone"]:
        return customer_get_or_create(
            merchant=merchant, email=data["customer_email"], phone=data["customer_phone"], name=data["customer_name"]
        )
    if order is None:  # the input serializer already refuses this
        raise InvalidInput(
            _("Say who the customer is: a customer id, an e-mail address or phone number, or an order."),
            code="customer_required",
        )
    return order.customer


class TicketDetailApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Read a ticket with its order and timeline"),
        responses={200: TicketDetailOutputSerializer, 404: REFUSALS[404]},
    )
    def get(self, request, number: str):
        return Response(_ticket_detail(_ticket_or_404(request, number)))


class MessageCursorPagination(CreatedCursorPagination):
    """A conversation reads oldest first."""

    ordering = ("created_at", "id")
    page_size = 100


class TicketMessagesApi(MerchantListApiView):
    """``GET``: the ticket's messages, internal notes included. ``POST``: a reply or a note."""

    serializer_class = MessageOutputSerializer
    pagination_class = MessageCursorPagination
    parser_classes = UPLOAD_PARSERS

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()  # the schema generator asks for the model, with no ticket
        return ticket_messages(ticket=_ticket_or_404(self.request, self.kwargs["number"]), public_only=False)

    @extend_schema(tags=TAG, summary=_("List a ticket's messages"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary=_("Reply to the customer, or add an internal note"),
        request=MessageCreateInputSerializer,
        responses={201: MessageOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        ticket = _ticket_or_404(request, number)
        serializer = MessageCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = request_actor(request)
        if data["kind"] == MessageCreateInputSerializer.Kind.REPLY:
            message = services.ticket_reply(
                ticket=ticket, actor=actor, body=data["body"], files=data["attachments"], status=data.get("status")
            )
        else:
            message = services.ticket_note(ticket=ticket, actor=actor, body=data["body"], files=data["attachments"])
        written = ticket_messages(ticket=ticket, public_only=False).get(pk=message.pk)
        return Response(MessageOutputSerializer(written).data, status=status.HTTP_201_CREATED)


class TicketAssignApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Assign a ticket to a staff member and a team"),
        request=TicketAssignInputSerializer,
        responses={200: TicketOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        ticket = _ticket_or_404(request, number)
        serializer = TicketAssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        merchant = request_merchant(request)
        assignee = None
        if data["assignee"] is not None:
            assignee = staff_user_of(merchant, data["assignee"])
            if assignee is None:
                raise InvalidInput(_("Unknown staff member."), code="unknown_assignee", extra={"field": "assignee"})
        team = None
        if data["team"] is not None:
            team = teams_of(merchant).filter(pk=data["team"]).first()
            if team is None:
                raise InvalidInput(_("Unknown team."), code="unknown_team", extra={"field": "team"})
        ticket = services.ticket_assign(ticket=ticket, actor=request_actor(request), assignee=assignee, team=team)
        return Response(_ticket_summary(request, ticket))


class TicketStatusApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Move a ticket to another status"),
        request=TicketStatusInputSerializer,
        responses={200: TicketOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        ticket = _ticket_or_404(request, number)
        serializer = TicketStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = services.ticket_change_status(
            ticket=ticket,
            actor=request_actor(request),
            status=serializer.validated_data["status"],
            note=serializer.validated_data["note"],
        )
        return Response(_ticket_summary(request, ticket))


class TicketPriorityApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Change a ticket's priority"),
        request=TicketPriorityInputSerializer,
        responses={200: TicketOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        ticket = _ticket_or_404(request, number)
        serializer = TicketPriorityInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = services.ticket_change_priority(
            ticket=ticket, actor=request_actor(request), priority=serializer.validated_data["priority"]
        )
        return Response(_ticket_summary(request, ticket))


class TicketTagsApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Set a ticket's tags"),
        request=TicketTagsInputSerializer,
        responses={200: TicketOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        ticket = _ticket_or_404(request, number)
        serializer = TicketTagsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = services.ticket_set_tags(
            ticket=ticket, actor=request_actor(request), names=serializer.validated_data["tags"]
        )
        return Response(_ticket_summary(request, ticket))


class PolicyPagination(CreatedCursorPagination):
    ordering = ("position", "id")


class SlaPolicyListApi(MerchantListApiView):
    """The merchant's SLA policies in the order they are tried; the first that matches applies."""

    serializer_class = SlaPolicyOutputSerializer
    pagination_class = PolicyPagination

    def get_queryset(self):
        return sla_policies_of(request_merchant(self.request))

    @extend_schema(tags=["sla"], summary=_("List SLA policies"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
