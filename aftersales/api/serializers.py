"""What the API shows of the kernel (stores, customers, products, orders) and what it reports
for an order push. Input for orders is ``aftersales.intake.OrderIntakeSerializer``, shared with
the CSV import."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from aftersales.models import Customer, Deadline, DeadlinePause, Order, OrderLine, Product, Store


class StoreOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["id", "name", "platform", "external_id", "created_at"]


class CustomerOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "phone", "wechat_openid", "tier", "language", "created_at", "updated_at"]


class ProductOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "category",
            "variant_group",
            "variant_attributes",
            "variant_position",
            "price",
            "is_active",
            "returnable",
            "warranty_months",
            "serialized",
            "created_at",
            "updated_at",
        ]


class OrderLineOutputSerializer(serializers.ModelSerializer):
    product = serializers.IntegerField(source="product_id", read_only=True)
    paid_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "line_number",
            "product",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "discount_amount",
            "paid_amount",
            "serial_numbers",
            *OrderLine.COUNTERS,
        ]


class OrderStoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["id", "name", "platform"]


class OrderCustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "phone", "wechat_openid", "tier"]


class OrderOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="external_number", read_only=True)
    store = OrderStoreSerializer(read_only=True)
    customer = OrderCustomerSerializer(read_only=True)
    lines = OrderLineOutputSerializer(many=True, read_only=True)
    total_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "store",
            "customer",
            "currency",
            "placed_at",
            "shipped_at",
            "delivered_at",
            "shipping_amount",
            "total_amount",
            "contact_email",
            "contact_phone",
            "lines",
            "created_at",
            "updated_at",
        ]


class OrderPushResultSerializer(serializers.Serializer):
    """One order of a batch push: where it stood in the list and what became of it."""

    class Outcome:
        CREATED = "created"
        UPDATED = "updated"
        ERROR = "error"
        CHOICES = [(CREATED, _("created")), (UPDATED, _("updated")), (ERROR, _("error"))]

    index = serializers.IntegerField(help_text=_("The order's position in the pushed list, from 0."))
    status = serializers.ChoiceField(choices=Outcome.CHOICES)
    id = serializers.IntegerField(required=False, help_text=_("The order's id, when it was written."))
    number = serializers.CharField(allow_null=True)
    # The API's field is named `errors`; as a declared field it shadows Serializer.errors on purpose.
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text=_('Why the order was not written: {"code", "message", "details"}, as in an error response.'),
    )


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("A stable code to branch on, e.g. transition_not_allowed."))
    message = serializers.CharField(help_text=_("A sentence for a person, in the request's language."))
    details = serializers.JSONField(help_text=_("Field errors, or what the refusal was about."))


class ErrorResponseSerializer(serializers.Serializer):
    """The body of every 4xx answer."""

    error = ErrorSerializer()


def refusal_responses(*, not_found: str | Promise, conflict: str | Promise | None = None) -> dict[int, OpenApiResponse]:
    """The refusals of an action on one of the merchant's records, for ``extend_schema``: invalid
    input, a role that does not allow it, the record not found and, where the record's state can
    refuse, ``conflict``."""
    responses = {
        400: OpenApiResponse(ErrorResponseSerializer, description=_("Invalid input.")),
        403: OpenApiResponse(ErrorResponseSerializer, description=_("The actor's role does not allow this.")),
        404: OpenApiResponse(ErrorResponseSerializer, description=not_found),
    }
    if conflict is not None:
        responses[409] = OpenApiResponse(ErrorResponseSerializer, description=conflict)
    return responses


class DeadlinePauseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadlinePause
        fields = ["paused_at", "resumed_at", "reason"]


class DeadlineOutputSerializer(serializers.ModelSerializer):
    """One clock of a case: an SLA target, a reminder, or an app's timer."""

    pauses = DeadlinePauseOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Deadline
        fields = [
            "id",
            "kind",
            "state",
            "target_minutes",
            "started_at",
            "due_at",
            "warn_at",
            "warned_at",
            "remaining_seconds",
            "met_at",
            "fired_at",
            "closed_at",
            "pauses",
        ]
