"""The returns API: open a return for an order, list and read returns, and one endpoint per staff
action (approve, reject, receive, inspect, rejected units sent back, refund, store credit, exchange
and its price difference, cancel, parcel lost); the carrier claims of lost parcels, listed and decided.

Every read starts from ``returns_for_api`` (the API key's merchant, or what the staff member of the
session may see): another merchant's return is a 404 and never in a list. Every write goes
through ``returns.services`` as the request's actor (a staff member, or the API key's integration
user); refusals come back as the service raised them. The money endpoints (refund, store credit,
exchange) honour ``Idempotency-Key`` (``aftersales.api.idempotency``).
"""

from typing import Any

import django_filters
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from aftersales.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from aftersales.api.idempotency import IdempotentCall, idempotent
from aftersales.api.pagination import CreatedCursorPagination
from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.serializers import ErrorResponseSerializer, refusal_responses
from aftersales.api.views import MerchantApiView, MerchantListApiView
from aftersales.exceptions import InvalidInput
from aftersales.models import Merchant, Order, OrderLine
from aftersales.selectors import order_lines_of, orders_of, products_of
from returns import services
from returns.api.serializers import (
    CarrierClaimOutputSerializer,
    CarrierClaimRejectInputSerializer,
    CarrierClaimSettleInputSerializer,
    CarrierClaimWithdrawInputSerializer,
    ExchangeDifferencePaidInputSerializer,
    ExchangeInputSerializer,
    RefundInputSerializer,
    RefundOriginalInputSerializer,
    RefundVoidInputSerializer,
    RejectedUnitsSentInputSerializer,
    ReturnApproveInputSerializer,
    ReturnCreateInputSerializer,
    ReturnDetailOutputSerializer,
    ReturnInspectInputSerializer,
    ReturnLostInputSerializer,
    ReturnOutputSerializer,
    ReturnReceiveInputSerializer,
    ReturnRejectInputSerializer,
)
from returns.models import CarrierClaim, ClaimState, Resolution, ReturnRequest, ReturnStatus
from returns.selectors import (
    carrier_claims_for_api,
    reason_by_code,
    rejected_units_unsent,
    return_for_api,
    returns_for_api,
)
from tickets.models import TicketChannel
from tickets.selectors import ticket_deadlines

TAG = ["returns"]
REFUSALS = refusal_responses(
    not_found=_("No such return for this merchant."), conflict=_("Not allowed in the return's current status.")
)
IDEMPOTENT_REFUSALS = {
    **REFUSALS,
    409: OpenApiResponse(
        ErrorResponseSerializer,
        description=_(
            "Not allowed in the return's current status, or a request with the same Idempotency-Key "
            "is still in progress (idempotency_request_in_progress)."
        ),
    ),
    422: OpenApiResponse(
        ErrorResponseSerializer,
        description=_("The Idempotency-Key was used for a different request (idempotency_key_reused)."),
    ),
}
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=_(
        "Up to 255 characters, unique per operation. A retry with the same key and body gets the "
        "first answer again (refusals included) with Idempotent-Replayed: true, and the effect "
        "happens once; the same key with another body is refused with 422."
    ),
)


# --- reads --------------------------------------------------------------------------------------


class ReturnFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReturnStatus.choices, help_text=_("One or more statuses."))
    resolution = django_filters.MultipleChoiceFilter(
        choices=Resolution.choices, help_text=_("One or more resolutions.")
    )
    order_number = django_filters.CharFilter(
        field_name="order__external_number", help_text=_("The order number in its store.")
    )
    order = django_filters.NumberFilter(field_name="order", help_text=_("The order's id."))
    customer = django_filters.NumberFilter(field_name="customer", help_text=_("The customer's id."))
    to_send_back = django_filters.BooleanFilter(
        method="filter_to_send_back",
        help_text=_(
            "true: only the returns whose rejected units wait to be sent back to the customer; false: the others."
        ),
    )

    class Meta:
        model = ReturnRequest
        fields: list[str] = []

    def filter_to_send_back(self, queryset, name, value):
        unsent = rejected_units_unsent()
        return queryset.filter(unsent if value else ~unsent)


def _return_or_404(request, number: str) -> ReturnRequest:
    return_request = return_for_api(
        merchant=request_merchant(request), membership=request_membership(request), number=number
    )
    if return_request is None:
        raise Http404
    return return_request


def _return_detail(request, number: str) -> dict:
    """The return as it now stands, read again through the selector."""
    return_request = _return_or_404(request, number)
    return_request.deadline_list = list(ticket_deadlines(ticket=return_request.ticket))
    return ReturnDetailOutputSerializer(return_request).data


class ReturnListCreateApi(MerchantListApiView):
    """``GET``: the merchant's returns, newest first, by cursor. ``POST``: open a return for an order."""

    serializer_class = ReturnOutputSerializer
    filterset_class = ReturnFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        return returns_for_api(merchant=request_merchant(self.request), membership=request_membership(self.request))

    @extend_schema(tags=TAG, summary=_("List returns"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary=_("Open a return for an order"),
        description=_(
            "For the order's customer, on the terms of the merchant's return policy now. The return "
            "may be approved at once by policy, or flagged for review. With an Idempotency-Key, a "
            "retry (after a timeout, say) gets the first answer and opens no second return."
        ),
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ReturnCreateInputSerializer,
        responses={201: ReturnDetailOutputSerializer, **IDEMPOTENT_REFUSALS},
    )
    def post(self, request, *args, **kwargs):
        merchant = request_merchant(request)
        return idempotent(
            request, merchant=merchant, endpoint="returns.create", perform=lambda call: self.create(request, call)
        )

    def create(self, request, call: IdempotentCall) -> Response:
        merchant = call.merchant
        serializer = ReturnCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = _order_of(merchant, data["order"])
        reason = reason_by_code(merchant=merchant, code=data["reason"])
        if reason is None:
            raise InvalidInput(_("Unknown return reason."), code="unknown_reason", extra={"field": "reason"})
        wanted = [(line["order_line"], line["quantity"]) for line in data["lines"]]
        lines = _order_lines_by_id(order, [pk for pk, _quantity in wanted], field="lines")
        # The answer is stored with the return it opened, so a retry finds both or neither.
        with transaction.atomic():
            return_request = services.return_request_create(
                order=order,
                customer=order.customer,
                lines=[(lines[pk], quantity) for pk, quantity in wanted],
                reason=reason,
                resolution=data["resolution"],
                note=data["note"],
                channel=TicketChannel.API,
                created_by=request_actor(request),
                exchange_products=_exchange_products(merchant, data["lines"]),
            )
            return call.answer(status.HTTP_201_CREATED, _return_detail(request, return_request.ticket.number))


def _order_of(merchant: Merchant, order_id: int) -> Order:
    order = orders_of(merchant).select_related("customer", "merchant").filter(pk=order_id).first()
    if order is None:
        raise InvalidInput(_("Unknown order."), code="unknown_order", extra={"field": "order"})
    return order


def _exchange_products(merchant: Merchant, rows: list[dict]) -> dict:
    """``{order line id: product}`` for the lines naming an ``exchange_sku``, read in one query from
    the merchant's products: another merchant's SKU is as unknown as one that does not exist."""
    skus = {row["order_line"]: row["exchange_sku"].strip() for row in rows if row["exchange_sku"].strip()}
    if not skus:
        return {}
    products = {product.sku: product for product in products_of(merchant).filter(sku__in=set(skus.values()))}
    unknown = sorted(sku for sku in set(skus.values()) if sku not in products)
    if unknown:
        raise InvalidInput(
            _("Unknown SKU: %(skus)s.") % {"skus": ", ".join(unknown)},
            code="unknown_sku",
            extra={"field": "lines", "skus": unknown},
        )
    return {line_pk: products[sku] for line_pk, sku in skus.items()}


def _order_lines_by_id(order: Order, line_ids: list[int], *, field: str) -> dict[int, OrderLine]:
    lines = {line.pk: line for line in order_lines_of(order).filter(pk__in=line_ids)}
    if len(lines) != len(set(line_ids)):
        raise InvalidInput(_("Those lines are not on this order."), code="lines_not_on_order", extra={"field": field})
    return lines


class ReturnDetailApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Read a return"),
        description=_("Lines with their terms, parcels, inspections, refunds and their payment calls, timers."),
        responses={200: ReturnDetailOutputSerializer, 404: REFUSALS[404]},
    )
    def get(self, request, number: str):
        return Response(_return_detail(request, number))


# --- actions ------------------------------------------------------------------------------------


class ReturnActionApi(MerchantApiView):
    """An action on one return: validate the body, call the service, answer with the return."""

    input_serializer_class: "type[serializers.Serializer[Any]]"  # set by each action

    def post(self, request, number: str):
        return_request = _return_or_404(request, number)
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.act(request, return_request, serializer.validated_data)
        return Response(_return_detail(request, number))

    def act(self, request, return_request: ReturnRequest, data: dict) -> None:
        raise NotImplementedError


def _action_schema(summary, request_serializer, description=""):
    return extend_schema(
        tags=TAG,
        summary=summary,
        description=description,
        request=request_serializer,
        responses={200: ReturnDetailOutputSerializer, **REFUSALS},
    )


class ReturnApproveApi(ReturnActionApi):
    input_serializer_class = ReturnApproveInputSerializer

    @_action_schema(_("Approve a return"), ReturnApproveInputSerializer)
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_approve(return_request=return_request, actor=request_actor(request), note=data["note"])


class ReturnRejectApi(ReturnActionApi):
    input_serializer_class = ReturnRejectInputSerializer

    @_action_schema(_("Reject a return"), ReturnRejectInputSerializer)
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_reject(
            return_request=return_request, actor=request_actor(request), reason=data["reason"]
        )


class ReturnReceiveApi(ReturnActionApi):
    input_serializer_class = ReturnReceiveInputSerializer

    @_action_schema(_("Receive a return's parcel"), ReturnReceiveInputSerializer)
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        quantities = None
        if data["lines"] is not None:
            quantities = {}
            for line in data["lines"]:
                if line["return_line"] in quantities:
                    raise InvalidInput(_("Each item once, please."), code="duplicate_line")
                quantities[line["return_line"]] = line["quantity"]
        services.return_request_receive(
            return_request=return_request, actor=request_actor(request), quantities=quantities, note=data["note"]
        )


class ReturnInspectApi(ReturnActionApi):
    input_serializer_class = ReturnInspectInputSerializer

    @_action_schema(_("Record a return's inspection"), ReturnInspectInputSerializer)
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_inspect(
            return_request=return_request,
            actor=request_actor(request),
            lines=[
                services.LineInspection(
                    return_line_id=line["return_line"],
                    accepted=line["accepted"],
                    rejected=line["rejected"],
                    grade=line["grade"],
                    disposition=line["disposition"],
                    notes=line["notes"],
                )
                for line in data["lines"]
            ],
        )


class ReturnRejectedUnitsSentApi(ReturnActionApi):
    input_serializer_class = RejectedUnitsSentInputSerializer

    @_action_schema(
        _("Record that a return's rejected units were sent back"),
        RejectedUnitsSentInputSerializer,
        _(
            "The units inspection rejected go back to the customer: with a carrier and its tracking "
            "number, or ready to collect at a store (collected_in_store and store_location). Once per "
            "return: refused with 409 when inspection rejected nothing (nothing_to_send_back) or the "
            "parcel was already sent (rejected_units_already_sent), or when the tracking number is on "
            "another parcel (tracking_in_use). The customer is told; a return left with nothing else "
            "to settle (every unit rejected, or its refunds paid) completes."
        ),
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_rejected_units_send(
            return_request=return_request,
            actor=request_actor(request),
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
            collected_in_store=data["collected_in_store"],
            store_location=data["store_location"],
            note=data["note"],
        )


class ReturnLostApi(ReturnActionApi):
    input_serializer_class = ReturnLostInputSerializer

    @_action_schema(
        _("Declare a return's parcel lost"),
        ReturnLostInputSerializer,
        _(
            "For a parcel in transit: every unit still expected counts as received and accepted, the "
            "return moves to settling and is settled as the customer asked, the customer is told, and a "
            "carrier claim is opened for what the units were paid (see carrier-claims)."
        ),
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_parcel_declare_lost(
            return_request=return_request, actor=request_actor(request), note=data["note"]
        )


class ReturnExchangeDifferencePaidApi(ReturnActionApi):
    input_serializer_class = ExchangeDifferencePaidInputSerializer

    @_action_schema(
        _("Confirm an exchange's price difference is paid"),
        ExchangeDifferencePaidInputSerializer,
        _(
            "The customer asked for dearer variants and paid the difference outside this system; the "
            "replacement may ship once this is confirmed. The same reference again changes nothing."
        ),
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.exchange_difference_confirm_paid(
            return_request=return_request, actor=request_actor(request), reference=data["reference"]
        )


class ReturnCancelApi(ReturnActionApi):
    input_serializer_class = serializers.Serializer  # no body

    @extend_schema(
        tags=TAG,
        summary=_("Cancel a return for the customer"),
        request=None,
        responses={200: ReturnDetailOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def act(self, request, return_request, data):
        services.return_request_cancel(return_request=return_request, actor=request_actor(request))


# --- money: idempotent ----------------------------------------------------------------------------


def _money_lines(return_request: ReturnRequest, rows: list[dict] | None, third: str):
    """``[(order_line, units, amount or sku)]`` from the body's lines; None stays None (as requested)."""
    if rows is None:
        return None
    lines = _order_lines_by_id(return_request.order, [row["order_line"] for row in rows], field="lines")
    return [(lines[row["order_line"]], row["quantity"], row[third]) for row in rows]


class ReturnMoneyApi(MerchantApiView):
    """A settlement step run at most once per ``Idempotency-Key``; answers 201 with the return."""

    input_serializer_class: "type[serializers.Serializer[Any]]"  # set by each action
    endpoint = ""

    def post(self, request, number: str):
        return_request = _return_or_404(request, number)
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = request_actor(request)
        return idempotent(
            request,
            merchant=request_merchant(request),
            endpoint=f"{self.endpoint}:{return_request.ticket.number}",
            perform=lambda call: self.settle(request, call, return_request, actor, data),
        )

    def settle(self, request, call: IdempotentCall, return_request, actor, data) -> Response:
        raise NotImplementedError


def _money_schema(summary, request_serializer, description):
    return extend_schema(
        tags=TAG,
        summary=summary,
        description=description,
        parameters=[IDEMPOTENCY_PARAMETER],
        request=request_serializer,
        responses={201: ReturnDetailOutputSerializer, **IDEMPOTENT_REFUSALS},
    )


class ReturnRefundApi(ReturnMoneyApi):
    input_serializer_class = RefundOriginalInputSerializer
    endpoint = "returns.refund"

    @_money_schema(
        _("Refund to the original payment"),
        RefundOriginalInputSerializer,
        _(
            "Grants the refund and pays it through the merchant's payment adapter (a manual adapter "
            "waits for staff to confirm the payout). The payment's idempotency key derives from the "
            "request's Idempotency-Key, so a retry never pays twice."
        ),
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def settle(self, request, call, return_request, actor, data):
        # The grant and the record of the call commit together; the payment call is made after,
        # with no transaction open, and the answer is stored once it returns.
        with transaction.atomic():
            refund = services.refund_grant(
                return_request=return_request,
                actor=actor,
                lines=_money_lines(return_request, data["lines"], "amount"),
                reason=data["reason"],
                shipping_amount=data["shipping_amount"],
                grant_key=call.derived("grant"),
                quick=data["quick"],
                payment_key=call.derived("pay"),
            )
            call.hold()
        services.refund_execute(refund=refund, idempotency_key=call.derived("pay") or None)
        with transaction.atomic():
            return call.answer(status.HTTP_201_CREATED, _return_detail(request, return_request.ticket.number))


class ReturnStoreCreditApi(ReturnMoneyApi):
    input_serializer_class = RefundInputSerializer
    endpoint = "returns.store_credit"

    @_money_schema(
        _("Settle as store credit"),
        RefundInputSerializer,
        _("Grants the amount and pays it into the customer's store-credit balance at once."),
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def settle(self, request, call, return_request, actor, data):
        with transaction.atomic():
            services.store_credit_grant(
                return_request=return_request,
                actor=actor,
                lines=_money_lines(return_request, data["lines"], "amount"),
                reason=data["reason"],
                shipping_amount=data["shipping_amount"],
                grant_key=call.derived("grant"),
            )
            return call.answer(status.HTTP_201_CREATED, _return_detail(request, return_request.ticket.number))


class ReturnExchangeApi(ReturnMoneyApi):
    input_serializer_class = ExchangeInputSerializer
    endpoint = "returns.exchange"

    @_money_schema(
        _("Ship a replacement"),
        ExchangeInputSerializer,
        _(
            "Records the replacement parcel for the units of the return (an exchange): by default the "
            "variant the customer asked for. Refused while the customer owes a price difference "
            "(exchange_difference_unpaid); a cheaper variant's difference is refunded through the "
            "merchant's payment adapter, under an idempotency key derived from the request's."
        ),
    )
    def post(self, request, number: str):
        return super().post(request, number)

    def settle(self, request, call, return_request, actor, data):
        # As for a refund: the parcel, the difference refund's grant and the record of the call
        # commit together; the payment call is made after, with no transaction open.
        with transaction.atomic():
            shipments = services.exchange_ship(
                return_request=return_request,
                actor=actor,
                lines=_money_lines(return_request, data["lines"], "sku"),
                carrier=data["carrier"],
                tracking_number=data["tracking_number"],
                pay_difference=False,
            )
            call.hold()
        services.exchange_difference_refund_pay(shipments=shipments, idempotency_key=call.derived("pay"))
        with transaction.atomic():
            return call.answer(status.HTTP_201_CREATED, _return_detail(request, return_request.ticket.number))


# --- carrier claims of lost parcels ---------------------------------------------------------------

CLAIM_TAG = ["carrier claims"]
CLAIM_REFUSALS = {
    **REFUSALS,
    404: OpenApiResponse(ErrorResponseSerializer, description=_("No such claim for this merchant.")),
    409: OpenApiResponse(ErrorResponseSerializer, description=_("The claim is already decided.")),
}


class CarrierClaimFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ClaimState.choices, help_text=_("One or more states."))
    carrier = django_filters.CharFilter(field_name="carrier", help_text=_("The exact carrier name."))
    return_number = django_filters.CharFilter(
        field_name="return_request__ticket__number", help_text=_("The return's case number.")
    )

    class Meta:
        model = CarrierClaim
        fields: list[str] = []


class CarrierClaimListApi(MerchantListApiView):
    """The merchant's claims on carriers for lost return parcels, newest first, by cursor."""

    serializer_class = CarrierClaimOutputSerializer
    filterset_class = CarrierClaimFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        return carrier_claims_for_api(
            merchant=request_merchant(self.request), membership=request_membership(self.request)
        )

    @extend_schema(tags=CLAIM_TAG, summary=_("List carrier claims"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def _claim_or_404(request, claim_id: int) -> CarrierClaim:
    claim = (
        carrier_claims_for_api(merchant=request_merchant(request), membership=request_membership(request))
        .filter(pk=claim_id)
        .first()
    )
    if claim is None:
        raise Http404
    return claim


class CarrierClaimActionApi(MerchantApiView):
    """A decision on one claim: validate the body, call the service, answer with the claim."""

    input_serializer_class: "type[serializers.Serializer[Any]]"  # set by each action

    def post(self, request, claim_id: int):
        claim = _claim_or_404(request, claim_id)
        serializer = self.input_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.act(request, claim, serializer.validated_data)
        return Response(CarrierClaimOutputSerializer(_claim_or_404(request, claim_id)).data)

    def act(self, request, claim: CarrierClaim, data: dict) -> None:
        raise NotImplementedError


def _claim_schema(summary, request_serializer, description=""):
    return extend_schema(
        tags=CLAIM_TAG,
        summary=summary,
        description=description,
        request=request_serializer,
        responses={200: CarrierClaimOutputSerializer, **CLAIM_REFUSALS},
    )


class CarrierClaimSettleApi(CarrierClaimActionApi):
    input_serializer_class = CarrierClaimSettleInputSerializer

    @_claim_schema(
        _("Record the carrier's payment of a claim"),
        CarrierClaimSettleInputSerializer,
        _("The same amount and reference again answers with the claim unchanged."),
    )
    def post(self, request, claim_id: int):
        return super().post(request, claim_id)

    def act(self, request, claim, data):
        services.carrier_claim_settle(
            claim=claim,
            actor=request_actor(request),
            amount_recovered=data["amount_recovered"],
            reference=data["reference"],
        )


class CarrierClaimRejectApi(CarrierClaimActionApi):
    input_serializer_class = CarrierClaimRejectInputSerializer

    @_claim_schema(_("Record that the carrier rejected a claim"), CarrierClaimRejectInputSerializer)
    def post(self, request, claim_id: int):
        return super().post(request, claim_id)

    def act(self, request, claim, data):
        services.carrier_claim_reject(claim=claim, actor=request_actor(request), reason=data["reason"])


class CarrierClaimWithdrawApi(CarrierClaimActionApi):
    input_serializer_class = CarrierClaimWithdrawInputSerializer

    @_claim_schema(
        _("Withdraw a claim: the parcel turned up"),
        CarrierClaimWithdrawInputSerializer,
        _("Records the parcel as received; its units were already counted when it was declared lost."),
    )
    def post(self, request, claim_id: int):
        return super().post(request, claim_id)

    def act(self, request, claim, data):
        services.carrier_claim_withdraw(claim=claim, actor=request_actor(request), note=data["note"])


# --- withdrawing a refund -------------------------------------------------------------------------


class RefundVoidApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Void a refund that has not been paid"),
        description=_(
            "For a supervisor or merchant admin (an API key acts as an agent unless its integration "
            "user is given a supervisor's role). Refused with 409 once the refund is paid or while a "
            "payment call is in flight. Its units and amount can then be refunded again; a return that "
            "needed action because of it goes back to settling. Voiding a voided refund changes nothing."
        ),
        request=RefundVoidInputSerializer,
        responses={200: ReturnDetailOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str, refund_id: int):
        return_request = _return_or_404(request, number)
        refund = next((refund for refund in return_request.refunds.all() if refund.pk == refund_id), None)
        if refund is None:
            raise Http404
        serializer = RefundVoidInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refund_void(refund=refund, actor=request_actor(request), reason=serializer.validated_data["reason"])
        return Response(_return_detail(request, number))
