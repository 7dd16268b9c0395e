"""The API of macros, merge, links and possible duplicates. Every read starts from the API key's
merchant (or the session's membership); a ticket, macro or link outside it is a 404."""

from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from aftersales.api.pagination import CreatedCursorPagination
from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.views import MerchantApiView, MerchantListApiView
from tickets.api.serializers import TicketDetailOutputSerializer, TicketOutputSerializer
from tickets.models import Macro, Ticket
from tickets.selectors import ticket_for_api, tickets_for_api
from tickets.selectors.routing import (
    macro_usable_by,
    macros_usable_by,
    possible_duplicates,
    ticket_link_of,
    ticket_links,
)
from tickets.services.macros import macro_apply
from tickets.services.merge import LINK_CHOICES, ticket_link, ticket_merge, ticket_unlink

TAG = ["support"]


class DuplicateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "number", "subject", "kind", "status", "created_at"]


class TicketCreatedOutputSerializer(TicketDetailOutputSerializer):
    """A ticket just opened, with the open tickets that may be the same request."""

    possible_duplicates = DuplicateSerializer(many=True, read_only=True)

    class Meta(TicketDetailOutputSerializer.Meta):
        fields = [*TicketDetailOutputSerializer.Meta.fields, "possible_duplicates"]


def duplicates_payload(ticket: Ticket, request: Any) -> list[dict[str, Any]]:
    """The possible duplicates of a ticket just opened, among what the caller may see."""
    visible = tickets_for_api(merchant=request_merchant(request), membership=request_membership(request))
    return list(DuplicateSerializer(possible_duplicates(ticket=ticket, within=visible), many=True).data)


def _ticket_or_404(request: Any, number: str) -> Ticket:
    ticket = ticket_for_api(merchant=request_merchant(request), membership=request_membership(request), number=number)
    if ticket is None:
        raise Http404
    return ticket


def _summary(request: Any, ticket: Ticket) -> dict[str, Any]:
    fresh = ticket_for_api(
        merchant=request_merchant(request), membership=request_membership(request), number=ticket.number
    )
    return dict(TicketOutputSerializer(fresh or ticket).data)


class MacroOutputSerializer(serializers.ModelSerializer):
    shared = serializers.BooleanField(source="is_shared", read_only=True)

    class Meta:
        model = Macro
        fields = [
            "id",
            "name",
            "shared",
            "reply_zh_hans",
            "reply_en",
            "set_status",
            "set_priority",
            "add_tags",
            "assign_to_actor",
            "assign_to",
            "internal_note",
            "usage_count",
            "last_used_at",
            "created_at",
        ]


class MacroPagination(CreatedCursorPagination):
    ordering = ("name", "id")


class MacroListApi(MerchantListApiView):
    """The shared macros and the caller's own, by name."""

    serializer_class = MacroOutputSerializer
    pagination_class = MacroPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Macro.objects.none()  # the schema generator asks for the model, with no merchant
        return macros_usable_by(merchant=request_merchant(self.request), user=request_actor(self.request))

    @extend_schema(tags=TAG, summary=_("List macros"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MacroApplyApi(MerchantApiView):
    @extend_schema(
        tags=TAG, summary=_("Apply a macro to a ticket"), request=None, responses={200: TicketOutputSerializer}
    )
    def post(self, request, number: str, pk: int):
        ticket = _ticket_or_404(request, number)
        macro = macro_usable_by(merchant=request_merchant(request), user=request_actor(request), pk=pk)
        if macro is None:
            raise Http404
        ticket = macro_apply(macro=macro, ticket=ticket, actor=request_actor(request))
        return Response(_summary(request, ticket))


class MergeInputSerializer(serializers.Serializer):
    target = serializers.CharField(max_length=20, help_text=_("The number of the ticket to keep."))


class TicketMergeApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Merge this ticket into another"),
        request=MergeInputSerializer,
        responses={200: TicketOutputSerializer},
    )
    def post(self, request, number: str):
        ticket = _ticket_or_404(request, number)
        serializer = MergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = _ticket_or_404(request, serializer.validated_data["target"].strip().upper())
        target = ticket_merge(source=ticket, target=target, actor=request_actor(request))
        return Response(_summary(request, target))


class LinkInputSerializer(serializers.Serializer):
    other = serializers.CharField(max_length=20)
    kind = serializers.ChoiceField(choices=LINK_CHOICES, help_text=_("What the other ticket is to this one."))


class LinkOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text=_("What the other ticket is to this one."))
    other = DuplicateSerializer()


def _links_payload(request: Any, ticket: Ticket) -> list[dict[str, Any]]:
    visible = tickets_for_api(merchant=request_merchant(request), membership=request_membership(request))
    return [
        dict(LinkOutputSerializer({"id": link.pk, "kind": side, "other": other}).data)
        for side, link, other in ticket_links(ticket=ticket, within=visible)
    ]


class TicketLinksApi(MerchantApiView):
    @extend_schema(tags=TAG, summary=_("A ticket's links"), responses={200: LinkOutputSerializer(many=True)})
    def get(self, request, number: str):
        return Response(_links_payload(request, _ticket_or_404(request, number)))

    @extend_schema(
        tags=TAG,
        summary=_("Link a ticket to another"),
        request=LinkInputSerializer,
        responses={201: LinkOutputSerializer(many=True)},
    )
    def post(self, request, number: str):
        ticket = _ticket_or_404(request, number)
        serializer = LinkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        other = _ticket_or_404(request, serializer.validated_data["other"].strip().upper())
        ticket_link(ticket=ticket, other=other, kind=serializer.validated_data["kind"], actor=request_actor(request))
        return Response(_links_payload(request, ticket), status=201)


class TicketLinkDeleteApi(MerchantApiView):
    @extend_schema(tags=TAG, summary=_("Remove a link"), request=None, responses={204: None})
    def delete(self, request, number: str, pk: int):
        ticket = _ticket_or_404(request, number)
        link = ticket_link_of(merchant=request_merchant(request), pk=pk)
        if link is None or ticket.pk not in (link.source_id, link.target_id):
            raise Http404
        ticket_unlink(link=link, actor=request_actor(request))
        return Response(status=204)


class TicketDuplicatesApi(MerchantApiView):
    @extend_schema(
        tags=TAG, summary=_("Possible duplicates of a ticket"), responses={200: DuplicateSerializer(many=True)}
    )
    def get(self, request, number: str):
        return Response(duplicates_payload(_ticket_or_404(request, number), request))
