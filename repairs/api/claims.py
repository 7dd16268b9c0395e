"""Supplier claims: the warranty cost of a repair claimed back from the manufacturer. List, read,
open, and one endpoint per move (sent, paid, rejected). Reads start from the request's merchant
(an API key's, or a session member's who decides money); another merchant's claim is a 404.
Writes go through ``repairs.services`` as the request's actor."""

import django_filters
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from aftersales.api.pagination import CreatedCursorPagination
from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.serializers import refusal_responses
from aftersales.api.views import MerchantApiView, MerchantListApiView
from aftersales.exceptions import InvalidInput
from repairs import services
from repairs.api.serializers import (
    SupplierClaimCreateInputSerializer,
    SupplierClaimMoveInputSerializer,
    SupplierClaimOutputSerializer,
    SupplierClaimPaidInputSerializer,
)
from repairs.models import SupplierClaim, SupplierClaimStatus
from repairs.selectors import repair_for_api
from repairs.selectors.claims import supplier_claim_for_api, supplier_claims_for_api

TAG = ["supplier claims"]
REFUSALS = refusal_responses(
    not_found=_("No such claim for this merchant."), conflict=_("Not allowed in the claim's current status.")
)


class SupplierClaimFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=SupplierClaimStatus.choices, help_text=_("One or more statuses.")
    )
    supplier = django_filters.CharFilter(field_name="supplier", help_text=_("The supplier, exactly."))

    class Meta:
        model = SupplierClaim
        fields: list[str] = []


def _claim_or_404(request, claim_id: int) -> SupplierClaim:
    claim = supplier_claim_for_api(
        merchant=request_merchant(request), membership=request_membership(request), claim_id=claim_id
    )
    if claim is None:
        raise Http404
    return claim


class SupplierClaimListCreateApi(MerchantListApiView):
    """``GET``: the merchant's supplier claims, newest first, by cursor. ``POST``: open one."""

    serializer_class = SupplierClaimOutputSerializer
    filterset_class = SupplierClaimFilter
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        return supplier_claims_for_api(
            merchant=request_merchant(self.request), membership=request_membership(self.request)
        )

    @extend_schema(tags=TAG, summary=_("List supplier claims"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary=_("Open a supplier claim"),
        description=_("For a repair's warranty cost (parts at cost, labour, travel), or part of it."),
        request=SupplierClaimCreateInputSerializer,
        responses={201: SupplierClaimOutputSerializer, **REFUSALS},
    )
    def post(self, request, *args, **kwargs):
        serializer = SupplierClaimCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        repair_order = repair_for_api(
            merchant=request_merchant(request), membership=request_membership(request), number=data["repair"]
        )
        if repair_order is None:
            raise InvalidInput(_("Unknown repair."), code="unknown_repair", extra={"field": "repair"})
        claim = services.supplier_claim_open(
            repair_order=repair_order, actor=request_actor(request), supplier=data["supplier"], amount=data["amount"]
        )
        return Response(SupplierClaimOutputSerializer(_claim_or_404(request, claim.pk)).data, status.HTTP_201_CREATED)


class SupplierClaimDetailApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Read a supplier claim"),
        responses={200: SupplierClaimOutputSerializer, 404: REFUSALS[404]},
    )
    def get(self, request, claim_id: int):
        return Response(SupplierClaimOutputSerializer(_claim_or_404(request, claim_id)).data)


def _move(name: str, target: str, summary, serializer) -> type[MerchantApiView]:
    class Move(MerchantApiView):
        @extend_schema(
            tags=TAG,
            summary=summary,
            request=serializer,
            responses={200: SupplierClaimOutputSerializer, **REFUSALS},
            operation_id=f"supplier_claims_{name}",
        )
        def post(self, request, claim_id: int):
            claim = _claim_or_404(request, claim_id)
            body = serializer(data=request.data)
            body.is_valid(raise_exception=True)
            services.supplier_claim_move(
                claim=claim,
                actor=request_actor(request),
                status=target,
                reference=body.validated_data["reference"],
                amount_paid=body.validated_data.get("amount_paid"),
            )
            return Response(SupplierClaimOutputSerializer(_claim_or_404(request, claim_id)).data)

    Move.__name__ = Move.__qualname__ = f"SupplierClaim{name.title()}Api"
    return Move


MOVES = {
    "send": _move("send", SupplierClaimStatus.SENT, _("Mark a supplier claim sent"), SupplierClaimMoveInputSerializer),
    "paid": _move(
        "paid", SupplierClaimStatus.PAID, _("Record the supplier's payment"), SupplierClaimPaidInputSerializer
    ),
    "rejected": _move(
        "rejected",
        SupplierClaimStatus.REJECTED,
        _("Record the supplier's rejection"),
        SupplierClaimMoveInputSerializer,
    ),
}
