"""The repairs API: open a repair, list and read repairs, and one endpoint per staff action
(triage, reject, cancel, quote, device received, diagnosis started, diagnosis, line, waiting for
parts, repair started, QC, shipped back, collected, replaced or refunded).

Every read starts from ``repairs_for_api`` (the API key's merchant, or what the staff member of the
session may see: a technician, the repairs assigned to them); another merchant's repair is a 404.
Every write goes through ``repairs.services`` as the request's actor.
"""

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from aftersales.api.pagination import CreatedCursorPagination
from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.serializers import refusal_responses
from aftersales.api.views import MerchantApiView, MerchantListApiView
from aftersales.exceptions import InvalidInput
from repairs import services
from repairs.api.serializers import (
    DiagnoseInputSerializer,
    EmptyInputSerializer,
    LineInputSerializer,
    PartsWaitInputSerializer,
    PartUseInputSerializer,
    QcInputSerializer,
    QuoteInputSerializer,
    ReasonInputSerializer,
    RepairCreatedOutputSerializer,
    RepairCreateInputSerializer,
    RepairDetailOutputSerializer,
    RepairOutputSerializer,
    RepairsReportSerializer,
    ReportQuerySerializer,
    SettleInputSerializer,
    ShipBackInputSerializer,
    TriageInputSerializer,
)
from repairs.models import TO_SCHEDULE_STATUSES, RepairMode, RepairOrder, RepairStatus
from repairs.reports import repairs_report
from repairs.selectors import (
    diagnosis_code_by_code,
    order_line_of,
    part_of,
    part_stock_of,
    registration_by_serial,
    repair_for_api,
    repairs_for_api,
    service_centre_of,
)
from repairs.selectors.dispatch import ServiceNeed, active_visit_of, available_slots
from tickets.models import TicketChannel

TAG = ["repairs"]
REFUSALS = refusal_responses(
    not_found=_("No such repair for this merchant."), conflict=_("Not allowed in the repair's current status.")
)


class RepairFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RepairStatus.choices, help_text=_("One or more statuses."))
    mode = django_filters.MultipleChoiceFilter(choices=RepairMode.choices, help_text=_("One or more service modes."))
    serial_number = django_filters.CharFilter(field_name="serial_number", help_text=_("A serial number."))
    customer = django_filters.NumberFilter(field_name="customer", help_text=_("The customer's id."))

    class Meta:
        model = RepairOrder
        fields: list[str] = []


def _repair_or_404(request, number: str) -> RepairOrder:
    repair_order = repair_for_api(
        merchant=request_merchant(request), membership=request_membership(request), number=number
    )
    if repair_order is None:
        raise Http404
    return repair_order


def _detail(request, number: str) -> dict:
    return RepairDetailOutputSerializer(_repair_or_404(request, number)).data


class RepairListCreateApi(MerchantListApiView):
    """``GET``: the merchant's repairs, newest first, by cursor. ``POST``: open a repair."""

    serializer_class = RepairOutputSerializer
    filterset_class = RepairFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        return repairs_for_api(merchant=request_merchant(self.request), membership=request_membership(self.request))

    @extend_schema(tags=TAG, summary=_("List repairs"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary=_("Open a repair"),
        description=_(
            "For the customer of an order line, or the owner of a registered serial number. The "
            "eligibility and the 三包 rule in force are recorded with it for triage."
        ),
        request=RepairCreateInputSerializer,
        responses={201: RepairCreatedOutputSerializer, **REFUSALS},
    )
    def post(self, request, *args, **kwargs):
        merchant = request_merchant(request)
        serializer = RepairCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        line = order_line_of(merchant, data["order_line"])
        if data["order_line"] is not None and line is None:
            raise InvalidInput(_("Unknown order line."), code="unknown_order_line", extra={"field": "order_line"})
        registration = registration_by_serial(merchant, data["serial_number"])
        if line is None and registration is None:
            raise InvalidInput(
                _("That serial number is not registered."), code="unknown_serial", extra={"field": "serial_number"}
            )
        if line is not None:
            customer, product = line.order.customer, line.product
        else:
            assert registration is not None  # noqa: S101 — checked just above
            if registration.customer is None:
                raise InvalidInput(_("That serial number has no owner on record."), code="registration_without_owner")
            customer, product = registration.customer, registration.product
        centre = service_centre_of(merchant, data["service_centre"])
        repair_order = services.repair_request_create(
            customer=customer,
            product=product,
            order_line=line,
            registration=registration if registration and registration.customer_id == customer.pk else None,
            serial_number=data["serial_number"],
            mode=data["mode"],
            fault_description=data["fault_description"],
            remedy_wanted=data["remedy_wanted"],
            service_centre=centre,
            address=data["address"],
            district=data["district"],
            postal_code=data["postal_code"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            channel=TicketChannel.API,
            created_by=request_actor(request),
            window_start=data["window_start"],
        )
        created = _repair_or_404(request, repair_order.ticket.number)
        visit = active_visit_of(created)
        # A window asked for, the repair triaged, and no visit: the window went to someone else.
        window_taken = (
            data["window_start"] is not None
            and created.mode == RepairMode.ON_SITE
            and visit is None
            and created.status in TO_SCHEDULE_STATUSES
        )
        next_slots = (
            available_slots(merchant, ServiceNeed.of_repair(created), now=timezone.now(), limit=3)
            if window_taken
            else []
        )
        body = RepairCreatedOutputSerializer(
            created, context={"visit": visit, "window_taken": window_taken, "next_slots": next_slots}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class RepairReportApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("The repairs report"),
        description=_(
            "For repairs requested in the period (dates in the merchant's time zone, end excluded): "
            "turnaround median and p90, repeats per serial within 90 days, warranty cost per unit "
            "sold and failure rate per product and diagnosis."
        ),
        parameters=[ReportQuerySerializer],
        responses={200: RepairsReportSerializer, 400: REFUSALS[400]},
    )
    def get(self, request):
        merchant = request_merchant(request)
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        zone = ZoneInfo(merchant.timezone)
        start = datetime.combine(query.validated_data["start"], time(0), tzinfo=zone)
        end = datetime.combine(query.validated_data["end"], time(0), tzinfo=zone)
        return Response(RepairsReportSerializer(repairs_report(merchant=merchant, start=start, end=end)).data)


class RepairDetailApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Read a repair"),
        description=_("Eligibility per coverage, the 三包 rule in force, lines with who pays, quotes and costs."),
        responses={200: RepairDetailOutputSerializer, 404: REFUSALS[404]},
    )
    def get(self, request, number: str):
        return Response(_detail(request, number))


class RepairActionApi(MerchantApiView):
    """An action on one repair: validate the body, call the service, answer with the repair."""

    input_serializer_class: "type[serializers.Serializer[Any]]" = EmptyInputSerializer

    def post(self, request, number: str):
        repair_order = _repair_or_404(request, number)
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.act(request, repair_order, serializer.validated_data)
        return Response(_detail(request, number))

    def act(self, request, repair_order: RepairOrder, data: dict) -> None:
        raise NotImplementedError


def _action(name: str, summary, serializer, act) -> type[RepairActionApi]:
    """One endpoint class per action, each with its own schema."""

    class Action(RepairActionApi):
        input_serializer_class = serializer

        @extend_schema(
            tags=TAG,
            summary=summary,
            request=serializer,
            responses={200: RepairDetailOutputSerializer, **REFUSALS},
            operation_id=f"repairs_{name}",
        )
        def post(self, request, number: str):
            return super().post(request, number)

        def act(self, request, repair_order, data):
            act(request, repair_order, data)

    Action.__name__ = Action.__qualname__ = "Repair" + "".join(part.title() for part in name.split("_")) + "Api"
    return Action


def _part(request, pk):
    part = part_of(request_merchant(request), pk)
    if pk is not None and part is None:
        raise InvalidInput(_("Unknown part."), code="unknown_part", extra={"field": "part"})
    return part


def _use_parts(request, repair_order, data):
    stock = part_stock_of(request_merchant(request), data["stock"])
    if stock is None:
        raise InvalidInput(_("Unknown stock."), code="unknown_stock", extra={"field": "stock"})
    services.part_use(
        repair_order=repair_order,
        stock=stock,
        quantity=data["quantity"],
        actor=request_actor(request),
        coverage=data["coverage"],
    )


def _diagnose(request, repair_order, data):
    code = diagnosis_code_by_code(request_merchant(request), data["code"])
    if code is None:
        raise InvalidInput(_("Unknown diagnosis code."), code="unknown_diagnosis", extra={"field": "code"})
    services.repair_diagnose(repair_order=repair_order, actor=request_actor(request), code=code, note=data["note"])


ACTIONS = {
    "triage": _action(
        "triage",
        _("Decide the warranty of a repair"),
        TriageInputSerializer,
        lambda request, repair_order, data: services.repair_triage(
            repair_order=repair_order, actor=request_actor(request), **data
        ),
    ),
    "reject": _action(
        "reject",
        _("Decline a repair request"),
        ReasonInputSerializer,
        lambda request, repair_order, data: services.repair_reject(
            repair_order=repair_order, actor=request_actor(request), reason=data["reason"]
        ),
    ),
    "cancel": _action(
        "cancel",
        _("Cancel a repair"),
        ReasonInputSerializer,
        lambda request, repair_order, data: services.repair_cancel(
            repair_order=repair_order, actor=request_actor(request), reason=data["reason"]
        ),
    ),
    "quote": _action(
        "quote",
        _("Send a quote"),
        QuoteInputSerializer,
        lambda request, repair_order, data: services.repair_quote_send(
            repair_order=repair_order,
            actor=request_actor(request),
            note=data["note"],
            lines=[
                services.LineInput(
                    kind=line["kind"],
                    description=line["description"],
                    quantity=line["quantity"],
                    unit_price=line["unit_price"],
                    part=_part(request, line["part"]),
                )
                for line in data["lines"]
            ],
        ),
    ),
    "device_received": _action(
        "device_received",
        _("Record that the device arrived"),
        EmptyInputSerializer,
        lambda request, repair_order, data: services.repair_device_receive(
            repair_order=repair_order, actor=request_actor(request)
        ),
    ),
    "diagnosis_start": _action(
        "diagnosis_start",
        _("Start the diagnosis"),
        EmptyInputSerializer,
        lambda request, repair_order, data: services.repair_diagnosis_start(
            repair_order=repair_order, actor=request_actor(request)
        ),
    ),
    "diagnose": _action("diagnose", _("Record the diagnosis"), DiagnoseInputSerializer, _diagnose),
    "lines": _action(
        "lines",
        _("Add a line of work"),
        LineInputSerializer,
        lambda request, repair_order, data: services.repair_line_add(
            repair_order=repair_order,
            actor=request_actor(request),
            kind=data["kind"],
            description=data["description"],
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            unit_cost=data["unit_cost"],
            coverage=data["coverage"],
            part=_part(request, data["part"]),
        ),
    ),
    "parts_use": _action("parts_use", _("Use parts from a stock location"), PartUseInputSerializer, _use_parts),
    "waiting_parts": _action(
        "waiting_parts",
        _("Wait for parts"),
        PartsWaitInputSerializer,
        lambda request, repair_order, data: services.repair_parts_wait(
            repair_order=repair_order, actor=request_actor(request), expected_on=data["expected_on"]
        ),
    ),
    "start": _action(
        "start",
        _("Start the repair"),
        EmptyInputSerializer,
        lambda request, repair_order, data: services.repair_start(
            repair_order=repair_order, actor=request_actor(request)
        ),
    ),
    "qc": _action(
        "qc",
        _("Record the quality check"),
        QcInputSerializer,
        lambda request, repair_order, data: services.repair_qc(
            repair_order=repair_order, actor=request_actor(request), passed=data["passed"], note=data["note"]
        ),
    ),
    "ship_back": _action(
        "ship_back",
        _("Send the device back"),
        ShipBackInputSerializer,
        lambda request, repair_order, data: services.repair_ship_back(
            repair_order=repair_order,
            actor=request_actor(request),
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
        ),
    ),
    "collected": _action(
        "collected",
        _("Record that the customer collected the device"),
        EmptyInputSerializer,
        lambda request, repair_order, data: services.repair_collected(
            repair_order=repair_order, actor=request_actor(request)
        ),
    ),
    "settle": _action(
        "settle",
        _("Replace or refund the unit through the returns ledger"),
        SettleInputSerializer,
        lambda request, repair_order, data: services.repair_settle(
            repair_order=repair_order, actor=request_actor(request), **data
        ),
    ),
}
