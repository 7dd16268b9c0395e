"""The kernel's API: orders (read, and pushed by the shop), customers, products and stores.

Every query starts from the request's merchant (``request_merchant``): another merchant's row is
a 404 and never appears in a list. Orders are written only by ``order_upsert``.
"""

import django_filters
from django.db import IntegrityError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from aftersales.api.filters import InstantFilter
from aftersales.api.pagination import CreatedCursorPagination
from aftersales.api.permissions import request_merchant
from aftersales.api.serializers import (
    CustomerOutputSerializer,
    ErrorResponseSerializer,
    OrderOutputSerializer,
    OrderPushResultSerializer,
    ProductOutputSerializer,
    StoreOutputSerializer,
)
from aftersales.exceptions import ApplicationError, Conflict, InvalidInput
from aftersales.intake import OrderIntakeSerializer
from aftersales.models import ApiKey, Customer, Merchant, Order, Product
from aftersales.phones import try_normalize_phone
from aftersales.selectors import customers_of, orders_of, products_of, stores_of
from aftersales.services.orders import OrderUpsertResult, order_upsert

MAX_ORDERS_PER_PUSH = 100
NOT_FOUND = OpenApiResponse(ErrorResponseSerializer, description=_("Not found for this merchant."))

Outcome = OrderPushResultSerializer.Outcome


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per key, at the ``api_key`` rate of settings; a staff session is a person, not a script."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class MerchantApiView(APIView):
    throttle_classes = [ApiKeyRateThrottle]


class MerchantListApiView(ListAPIView):
    throttle_classes = [ApiKeyRateThrottle]


# --- orders --------------------------------------------------------------------------------------


class OrderFilter(django_filters.FilterSet):
    number = django_filters.CharFilter(field_name="external_number", help_text=_("The order number in its store."))
    customer = django_filters.NumberFilter(field_name="customer", help_text=_("The customer's id."))
    store = django_filters.NumberFilter(field_name="store", help_text=_("The store's id."))
    placed_after = InstantFilter(
        field_name="placed_at", lookup_expr="gte", help_text=_("Placed at or after this time.")
    )
    placed_before = InstantFilter(field_name="placed_at", lookup_expr="lt", help_text=_("Placed before this time."))

    class Meta:
        model = Order
        fields: list[str] = []


class OrderCursorPagination(CreatedCursorPagination):
    """Most recently placed first, along the ``order_merchant_placed`` index."""

    ordering = ("-placed_at", "-id")


ORDER_PUSH_REQUEST = PolymorphicProxySerializer(
    component_name="OrderPush",
    serializers=[OrderIntakeSerializer, OrderIntakeSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)
ORDER_PUSH_ANSWER = PolymorphicProxySerializer(
    component_name="OrderPushAnswer",
    serializers=[OrderOutputSerializer, OrderPushResultSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


class OrderListPushApi(MerchantListApiView):
    """``GET``: the merchant's orders. ``POST``: the shop pushes one order, or a list of them."""

    serializer_class = OrderOutputSerializer
    filterset_class = OrderFilter
    pagination_class = OrderCursorPagination

    def get_queryset(self):
        return orders_of(request_merchant(self.request))

    @extend_schema(tags=["orders"], summary=_("List orders"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["orders"],
        summary=_("Create or update orders"),
        description=_(
            "Idempotent on (store, number): pushing the same order again updates it. The body is one "
            "order, or a list of at most 100; each order is written whole or not at all. One order "
            "answers 201 (created) or 200 (updated) with the order. A list answers with one result per "
            "order: 201 when all were created, 200 when all were written, 207 when some failed, 400 "
            "when all failed."
        ),
        request=ORDER_PUSH_REQUEST,
        responses={
            200: ORDER_PUSH_ANSWER,
            201: ORDER_PUSH_ANSWER,
            207: OpenApiResponse(OrderPushResultSerializer(many=True), description=_("Some orders failed.")),
            400: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="OrderPushRefusal",
                    serializers=[ErrorResponseSerializer, OrderPushResultSerializer(many=True)],
                    resource_type_field_name=None,
                    many=False,
                ),
                description=_("The order, or every order of the list, was refused."),
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        merchant = request_merchant(request)
        if isinstance(request.data, list):
            return self._push_list(merchant, request.data)
        serializer = OrderIntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = _upsert(merchant, serializer)
        order = orders_of(merchant).get(pk=result.order.pk)
        return Response(
            OrderOutputSerializer(order).data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    def _push_list(self, merchant: Merchant, rows: list) -> Response:
        if not rows:
            raise InvalidInput(_("Send at least one order."), code="empty_batch")
        if len(rows) > MAX_ORDERS_PER_PUSH:
            raise InvalidInput(
                _("At most %(limit)s orders per request.") % {"limit": MAX_ORDERS_PER_PUSH},
                code="batch_too_large",
                extra={"limit": MAX_ORDERS_PER_PUSH, "received": len(rows)},
            )
        # Each order is its own transaction: a bad order is reported and the good ones land.
        results = [_push_one(merchant, index, row) for index, row in enumerate(rows)]
        outcomes = {result["status"] for result in results}
        if outcomes == {Outcome.CREATED}:
            answer: int = status.HTTP_201_CREATED
        elif Outcome.ERROR not in outcomes:
            answer = status.HTTP_200_OK
        elif outcomes == {Outcome.ERROR}:
            answer = status.HTTP_400_BAD_REQUEST
        else:
            answer = status.HTTP_207_MULTI_STATUS
        return Response(OrderPushResultSerializer(results, many=True).data, status=answer)


def _upsert(merchant: Merchant, serializer: OrderIntakeSerializer) -> OrderUpsertResult:
    try:
        return order_upsert(merchant=merchant, data=serializer.to_input())
    except IntegrityError as exc:
        # A database constraint the intake did not foresee; order_upsert's transaction is rolled back.
        raise Conflict(_("The order conflicts with data already stored."), code="conflict") from exc


def _push_one(merchant: Merchant, index: int, row) -> dict:
    number = row.get("number") if isinstance(row, dict) else None
    result = {"index": index, "number": None if number is None else str(number)}
    if not isinstance(row, dict):
        error = {"code": "invalid", "message": str(_("Each item must be an order object.")), "details": {}}
        return {**result, "status": Outcome.ERROR, "errors": error}
    serializer = OrderIntakeSerializer(data=row)
    if not serializer.is_valid():
        error = {"code": "invalid", "message": str(_("Invalid input.")), "details": serializer.errors}
        return {**result, "status": Outcome.ERROR, "errors": error}
    try:
        written = _upsert(merchant, serializer)
    except ApplicationError as exc:
        error = {"code": exc.code, "message": str(exc.message), "details": exc.extra}
        return {**result, "status": Outcome.ERROR, "errors": error}
    return {
        **result,
        "status": Outcome.CREATED if written.created else Outcome.UPDATED,
        "id": written.order.pk,
        "number": written.order.external_number,
    }


class OrderDetailApi(MerchantApiView):
    @extend_schema(tags=["orders"], summary=_("Read an order"), responses={200: OrderOutputSerializer, 404: NOT_FOUND})
    def get(self, request, order_id: int):
        order = get_object_or_404(orders_of(request_merchant(request)), pk=order_id)
        return Response(OrderOutputSerializer(order).data)


# --- customers -----------------------------------------------------------------------------------


class CustomerFilter(django_filters.FilterSet):
    email = django_filters.CharFilter(method="filter_email", help_text=_("The exact e-mail address."))
    phone = django_filters.CharFilter(method="filter_phone", help_text=_("The phone number, in any usual format."))
    q = django_filters.CharFilter(method="filter_q", help_text=_("Part of the name, e-mail or phone."))

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_email(self, queryset, name, value: str):
        return queryset.filter(email=value.strip().lower())

    def filter_phone(self, queryset, name, value: str):
        phone = try_normalize_phone(value)
        return queryset.filter(phone=phone) if phone else queryset.none()

    def filter_q(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value) | Q(phone__contains=value))


class CustomerListApi(MerchantListApiView):
    serializer_class = CustomerOutputSerializer
    filterset_class = CustomerFilter

    def get_queryset(self):
        return customers_of(request_merchant(self.request))

    @extend_schema(tags=["customers"], summary=_("List customers"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CustomerDetailApi(MerchantApiView):
    @extend_schema(
        tags=["customers"], summary=_("Read a customer"), responses={200: CustomerOutputSerializer, 404: NOT_FOUND}
    )
    def get(self, request, customer_id: int):
        customer = get_object_or_404(customers_of(request_merchant(request)), pk=customer_id)
        return Response(CustomerOutputSerializer(customer).data)


# --- products and stores ------------------------------------------------------------------------


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="sku", help_text=_("The exact SKU."))
    category = django_filters.CharFilter(field_name="category", help_text=_("The exact category."))
    variant_group = django_filters.CharFilter(
        field_name="variant_group", help_text=_("The exact variant group: every size and colour of one item.")
    )

    class Meta:
        model = Product
        fields: list[str] = []


class ProductListApi(MerchantListApiView):
    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter

    def get_queryset(self):
        return products_of(request_merchant(self.request))

    @extend_schema(tags=["products"], summary=_("List products"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ProductDetailApi(MerchantApiView):
    @extend_schema(
        tags=["products"], summary=_("Read a product"), responses={200: ProductOutputSerializer, 404: NOT_FOUND}
    )
    def get(self, request, product_id: int):
        product = get_object_or_404(products_of(request_merchant(request)), pk=product_id)
        return Response(ProductOutputSerializer(product).data)


class StoreListApi(MerchantListApiView):
    serializer_class = StoreOutputSerializer

    def get_queryset(self):
        return stores_of(request_merchant(self.request))

    @extend_schema(tags=["stores"], summary=_("List stores"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
