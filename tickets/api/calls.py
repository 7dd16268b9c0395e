"""Phone calls through the API: a telephony integration or a script logs a call on a case, and
reads a case's calls. The summary is staff-only, as on the dashboard."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.serializers import refusal_responses
from aftersales.api.views import MerchantApiView
from tickets.models import CallDirection, PhoneCall, Ticket
from tickets.selectors import ticket_for_api
from tickets.services.calls import MAX_CALL_SECONDS, ticket_phone_call_log

TAG = ["tickets"]
REFUSALS = refusal_responses(not_found=_("No such ticket for this merchant."))


class PhoneCallInputSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=CallDirection.choices)
    duration_seconds = serializers.IntegerField(min_value=0, max_value=MAX_CALL_SECONDS)
    summary = serializers.CharField(max_length=20000)
    phone_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    called_at = serializers.DateTimeField(
        required=False, default=None, help_text=_("When the call began; now if absent.")
    )


class PhoneCallOutputSerializer(serializers.ModelSerializer):
    summary = serializers.CharField(source="message.body", read_only=True)

    class Meta:
        model = PhoneCall
        fields = ["id", "direction", "duration_seconds", "phone_number", "called_at", "summary", "created_at"]


def _ticket_or_404(request, number: str) -> Ticket:
    ticket = ticket_for_api(merchant=request_merchant(request), membership=request_membership(request), number=number)
    if ticket is None:
        raise Http404
    return ticket


class TicketPhoneCallsApi(MerchantApiView):
    @extend_schema(
        tags=TAG, summary=_("List a ticket's phone calls"), responses={200: PhoneCallOutputSerializer(many=True)}
    )
    def get(self, request, number: str):
        ticket = _ticket_or_404(request, number)
        calls = PhoneCall.objects.filter(merchant_id=ticket.merchant_id, ticket=ticket).select_related("message")
        return Response(PhoneCallOutputSerializer(calls.order_by("-called_at", "-id"), many=True).data)

    @extend_schema(
        tags=TAG,
        summary=_("Log a phone call on a ticket"),
        request=PhoneCallInputSerializer,
        responses={201: PhoneCallOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        ticket = _ticket_or_404(request, number)
        serializer = PhoneCallInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        call = ticket_phone_call_log(
            ticket=ticket,
            actor=request_actor(request),
            direction=data["direction"],
            duration_seconds=data["duration_seconds"],
            summary=data["summary"],
            phone_number=data["phone_number"],
            called_at=data["called_at"],
        )
        return Response(PhoneCallOutputSerializer(call).data, status=status.HTTP_201_CREATED)
