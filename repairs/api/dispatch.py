"""Dispatch over the API: free windows (for a repair or an address), booking a visit, a
technician's day plan, the visits of a day, applying the solver's plan of a day."""

from datetime import date
from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from aftersales.api.permissions import request_actor, request_merchant
from aftersales.api.serializers import refusal_responses
from aftersales.api.views import MerchantApiView
from aftersales.models import Merchant
from repairs.models import RepairOrder, Visit
from repairs.selectors.dispatch import (
    ServiceNeed,
    available_slots,
    repair_of_number,
    technician_day,
    technician_of,
    visits_of_day,
)
from repairs.services.dispatch import visit_book
from repairs.services.planning import dispatch_day_plan

TAG = ["dispatch"]
REFUSALS = refusal_responses(
    not_found=_("Not found for this merchant."),
    conflict=_("Not allowed now, or the window was just taken (slot_taken)."),
)


class SlotSerializer(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class SlotsQuerySerializer(serializers.Serializer[Any]):
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    district = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    skill = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    days = serializers.IntegerField(min_value=1, max_value=31, default=14)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["postal_code"] and not attrs["district"]:
            raise serializers.ValidationError(_("Give a postal code or a district."))
        return attrs


class BookInputSerializer(serializers.Serializer[Any]):
    window_start = serializers.DateTimeField(help_text=_("The start of one of the free windows."))


class VisitSerializer(serializers.ModelSerializer[Visit]):
    repair = serializers.CharField(source="repair.ticket.number", read_only=True)
    address = serializers.CharField(source="repair.address", read_only=True)
    postal_code = serializers.CharField(source="repair.postal_code", read_only=True)
    product = serializers.CharField(source="repair.product.name", read_only=True)
    serial_number = serializers.CharField(source="repair.serial_number", read_only=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "repair",
            "technician",
            "status",
            "window_start",
            "window_end",
            "planned_start",
            "planned_end",
            "sequence",
            "pinned",
            "on_the_way_at",
            "expected_arrival",
            "checked_in_at",
            "checked_out_at",
            "address",
            "postal_code",
            "product",
            "serial_number",
        ]
        read_only_fields = fields


class PlanOutcomeSerializer(serializers.Serializer[Any]):
    moved = serializers.IntegerField()
    kept_pinned = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    customers_told = serializers.IntegerField()


def _merchant(request: Any) -> Merchant:
    merchant = request_merchant(request)
    if merchant is None:
        raise Http404
    return merchant


def _repair(request: Any, number: str) -> RepairOrder:
    repair = repair_of_number(_merchant(request), number)
    if repair is None:
        raise Http404
    return repair


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise Http404 from error


class RepairSlotsApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Free windows for a repair"),
        description=_(
            "Two-hour windows of the next 14 days in which a technician qualified for the repair's "
            "product and serving its address has room."
        ),
        responses={200: SlotSerializer(many=True), 404: REFUSALS[404]},
    )
    def get(self, request: Any, number: str) -> Response:
        repair = _repair(request, number)
        slots = available_slots(repair.merchant, ServiceNeed.of_repair(repair), now=timezone.now())
        return Response(SlotSerializer(slots, many=True).data)


class AddressSlotsApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Free windows at an address"),
        parameters=[SlotsQuerySerializer],
        responses={200: SlotSerializer(many=True), 400: REFUSALS[400]},
    )
    def get(self, request: Any) -> Response:
        query = SlotsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        need = ServiceNeed(
            postal_code=data["postal_code"],
            district=data["district"],
            skills={data["skill"]: 1} if data["skill"] else {},
        )
        slots = available_slots(_merchant(request), need, now=timezone.now(), days=data["days"])
        return Response(SlotSerializer(slots, many=True).data)


class RepairVisitBookApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Book a technician's visit for a repair"),
        request=BookInputSerializer,
        responses={201: VisitSerializer, **REFUSALS},
    )
    def post(self, request: Any, number: str) -> Response:
        repair = _repair(request, number)
        body = BookInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        visit = visit_book(
            repair=repair, window_start=body.validated_data["window_start"], actor_user=request_actor(request)
        )
        return Response(VisitSerializer(visit).data, status=201)


class TechnicianDayApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("A technician's day plan"),
        description=_("The technician's visits of the day in the planned order, with planned and actual times."),
        responses={200: VisitSerializer(many=True), 404: REFUSALS[404]},
    )
    def get(self, request: Any, technician_id: int, day: str) -> Response:
        merchant = _merchant(request)
        technician = technician_of(merchant, technician_id)
        if technician is None:
            raise Http404
        visits = technician_day(merchant, technician, _day(day))
        return Response(VisitSerializer(visits, many=True).data)


class DayVisitsApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("The visits of a day"),
        description=_("Every visit still holding a place that day, by technician and planned order."),
        responses={200: VisitSerializer(many=True)},
    )
    def get(self, request: Any, day: str) -> Response:
        visits = visits_of_day(_merchant(request), _day(day))
        return Response(VisitSerializer(visits, many=True).data)


class DayPlanApplyApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Plan a day with the solver and apply it"),
        description=_("Pinned visits and visits under way stay as they are; customers whose time changes are told."),
        request=None,
        responses={200: PlanOutcomeSerializer, **REFUSALS},
    )
    def post(self, request: Any, day: str) -> Response:
        outcome = dispatch_day_plan(merchant=_merchant(request), day=_day(day), actor=request_actor(request))
        return Response(PlanOutcomeSerializer(outcome).data)
