"""What the returns API shows of a return, and what each action takes."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aftersales.api.serializers import DeadlineOutputSerializer
from aftersales.models import Customer, Order
from returns.ledger import exchange_surplus_of
from returns.models import (
    CarrierClaim,
    Disposition,
    ItemGrade,
    Refund,
    RefundExecution,
    RefundLine,
    ReplacementShipment,
    Resolution,
    ReturnLine,
    ReturnLineInspection,
    ReturnRequest,
    ReturnShipment,
)

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}

# --- output -------------------------------------------------------------------------------------


class ReturnOrderRefSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="external_number", read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "currency"]


class ReturnCustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "phone", "tier"]


class ReturnOutputSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="ticket.number", read_only=True, help_text=_("The case number."))
    order = ReturnOrderRefSerializer(read_only=True)
    customer = ReturnCustomerRefSerializer(read_only=True)
    reason = serializers.CharField(source="reason.code", read_only=True, help_text=_("The return reason's code."))

    class Meta:
        model = ReturnRequest
        fields = [
            "id",
            "number",
            "status",
            "resolution",
            "order",
            "customer",
            "reason",
            "reason_note",
            "rejection_reason",
            "review_reasons",
            "submitted_at",
            "decided_at",
            "escalated_at",
            "quick_refund_at",
            "completed_at",
            "exchange_difference_due",
            "exchange_difference_paid_at",
            "exchange_difference_reference",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "exchange_difference_due": {
                "help_text": _("An exchange for dearer variants: what the customer pays before the replacement ships.")
            },
            "exchange_difference_paid_at": {"help_text": _("When staff confirmed the difference was paid.")},
        }


class ReturnLineInspectionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnLineInspection
        fields = ["grade", "disposition", "notes", "inspected_by", "inspected_at"]


class ReturnLineOutputSerializer(serializers.ModelSerializer):
    order_line = serializers.IntegerField(source="order_line_id", read_only=True)
    line_number = serializers.CharField(source="order_line.line_number", read_only=True)
    sku = serializers.CharField(source="order_line.sku", read_only=True)
    name = serializers.CharField(source="order_line.name", read_only=True)
    refund_amount = serializers.DecimalField(read_only=True, **MONEY)
    exchange_product = serializers.IntegerField(
        source="exchange_product_id",
        read_only=True,
        allow_null=True,
        help_text=_("An exchange: the product (another variant) asked for instead; null for the same item."),
    )
    price_difference = serializers.DecimalField(
        read_only=True,
        help_text=_("For every unit of the line: positive, the customer pays it; negative, it is refunded."),
        **MONEY,
    )
    terms = serializers.SerializerMethodField(help_text=_("The terms that applied to this line when submitted."))
    inspection = serializers.SerializerMethodField()

    class Meta:
        model = ReturnLine
        fields = [
            "id",
            "order_line",
            "line_number",
            "sku",
            "name",
            "quantity",
            "unit_refund_amount",
            "refund_amount",
            "window_ends_at",
            "quantity_received",
            "quantity_accepted",
            "quantity_rejected",
            "exchange_product",
            "exchange_sku",
            "exchange_unit_price",
            "price_difference_per_unit",
            "price_difference",
            "terms",
            "inspection",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_terms(self, line: ReturnLine) -> dict | None:
        return line.return_request.terms.get(str(line.order_line_id))

    @extend_schema_field(ReturnLineInspectionOutputSerializer(allow_null=True))
    def get_inspection(self, line: ReturnLine) -> dict | None:
        inspection = getattr(line, "inspection", None)
        return ReturnLineInspectionOutputSerializer(inspection).data if inspection else None


class ReturnShipmentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnShipment
        fields = [
            "id",
            "direction",
            "method",
            "carrier",
            "tracking_number",
            "return_address",
            "pickup_slot_start",
            "pickup_slot_end",
            "pickup_booked_at",
            "store_location",
            "shipped_at",
            "received_at",
            "lost_at",
        ]


class RefundExecutionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = RefundExecution
        fields = [
            "id",
            "adapter",
            "idempotency_key",
            "state",
            "provider_reference",
            "error",
            "attempts",
            "last_attempt_at",
            "completed_at",
        ]


class RefundLineOutputSerializer(serializers.ModelSerializer):
    order_line = serializers.IntegerField(source="order_line_id", read_only=True)

    class Meta:
        model = RefundLine
        fields = ["order_line", "quantity", "amount"]


class RefundOutputSerializer(serializers.ModelSerializer):
    lines = RefundLineOutputSerializer(many=True, read_only=True)
    execution = serializers.SerializerMethodField(help_text=_("The payment call; none for store credit."))

    class Meta:
        model = Refund
        fields = [
            "id",
            "method",
            "state",
            "amount",
            "shipping_amount",
            "currency",
            "reason",
            "paid_at",
            "voided_at",
            "void_reason",
            "created_at",
            "lines",
            "execution",
        ]

    @extend_schema_field(RefundExecutionOutputSerializer(allow_null=True))
    def get_execution(self, refund: Refund) -> dict | None:
        execution = getattr(refund, "execution", None)
        return RefundExecutionOutputSerializer(execution).data if execution else None


class ReplacementOutputSerializer(serializers.ModelSerializer):
    order_line = serializers.IntegerField(source="order_line_id", read_only=True)

    product = serializers.IntegerField(source="product_id", read_only=True, allow_null=True)

    class Meta:
        model = ReplacementShipment
        fields = ["id", "order_line", "sku", "product", "quantity", "carrier", "tracking_number", "state", "shipped_at"]


class CarrierClaimOutputSerializer(serializers.ModelSerializer):
    return_id = serializers.IntegerField(source="return_request_id", read_only=True)
    return_number = serializers.CharField(
        source="return_request.ticket.number", read_only=True, help_text=_("The return's case number.")
    )
    shipment = serializers.IntegerField(source="shipment_id", read_only=True, help_text=_("The lost parcel's id."))
    opened_by = serializers.IntegerField(source="opened_by_id", read_only=True, allow_null=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)

    class Meta:
        model = CarrierClaim
        fields = [
            "id",
            "return_id",
            "return_number",
            "shipment",
            "carrier",
            "tracking_number",
            "state",
            "amount_claimed",
            "amount_recovered",
            "currency",
            "carrier_reference",
            "notes",
            "decision_note",
            "opened_by",
            "opened_at",
            "decided_by",
            "decided_at",
            "created_at",
            "updated_at",
        ]


class ExchangeSurplusOutputSerializer(serializers.Serializer):
    units = serializers.IntegerField(help_text=_("Units whose dearer variant was paid for and is not sent."))
    amount = serializers.DecimalField(help_text=_("The price difference paid for them, refunded."), **MONEY)
    refund = serializers.IntegerField(
        allow_null=True, help_text=_("The refund that gives it back (see refunds); null until the exchange settles.")
    )
    refund_state = serializers.CharField(allow_null=True, help_text=_("That refund's state; null before it."))


class ReturnDetailOutputSerializer(ReturnOutputSerializer):
    """A return with everything that happened to it: lines and their terms, parcels, inspections,
    refunds with their payment calls, replacements, and the case's timers."""

    lines = ReturnLineOutputSerializer(many=True, read_only=True)
    terms = serializers.JSONField(read_only=True, help_text=_("The terms per order line id, as snapshotted."))
    shipments = ReturnShipmentOutputSerializer(many=True, read_only=True)
    refunds = RefundOutputSerializer(many=True, read_only=True)
    replacements = ReplacementOutputSerializer(many=True, read_only=True)
    carrier_claims = CarrierClaimOutputSerializer(many=True, read_only=True)
    timers = DeadlineOutputSerializer(source="deadline_list", many=True, read_only=True)
    exchange_difference_surplus = serializers.SerializerMethodField(
        help_text=_(
            "An exchange whose dearer difference was paid: the part paid for replacements that are not "
            "sent (units rejected at inspection, refunded instead, or a return that expired), refunded "
            "to the customer once known; null when none."
        )
    )

    class Meta(ReturnOutputSerializer.Meta):
        fields = [
            *ReturnOutputSerializer.Meta.fields,
            "exchange_difference_surplus",
            "lines",
            "terms",
            "shipments",
            "refunds",
            "replacements",
            "carrier_claims",
            "timers",
        ]

    @extend_schema_field(ExchangeSurplusOutputSerializer(allow_null=True))
    def get_exchange_difference_surplus(self, return_request: ReturnRequest) -> dict | None:
        # From the lines and refunds ``return_for_api`` prefetched: no query of its own.
        surplus = exchange_surplus_of(return_request, return_request.lines.all(), return_request.refunds.all())
        if surplus is None:
            return None
        refund = surplus.refund
        return ExchangeSurplusOutputSerializer(
            {
                "units": surplus.units,
                "amount": surplus.amount,
                "refund": refund.pk if refund else None,
                "refund_state": refund.state if refund else None,
            }
        ).data


# --- input --------------------------------------------------------------------------------------


class ReturnCreateLineSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(min_value=1, help_text=_("The order line's id."))
    quantity = serializers.IntegerField(min_value=1)
    exchange_sku = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=_(
            "An exchange only: the SKU of another variant of the item (size, colour) to send instead, "
            "one of the merchant's products on sale in the same variant group. Empty: the same item."
        ),
    )


class ReturnCreateInputSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1, help_text=_("The order's id."))
    lines = ReturnCreateLineSerializer(many=True, allow_empty=False, max_length=200)  # type: ignore[call-arg]  # many=True passes max_length to the ListSerializer; the stubs miss it
    reason = serializers.SlugField(max_length=50, help_text=_("The return reason's code."))
    resolution = serializers.ChoiceField(choices=Resolution.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReturnApproveInputSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReturnRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_("Why, in words the customer reads."))


class ReturnReceiveLineSerializer(serializers.Serializer):
    return_line = serializers.IntegerField(min_value=1, help_text=_("The return line's id."))
    quantity = serializers.IntegerField(min_value=0)


class ReturnReceiveInputSerializer(serializers.Serializer):
    # The list may be null (absent), its items may not: with many=True, allow_null reaches both.
    lines: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ReturnReceiveLineSerializer(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Units counted in per return line; absent: every unit requested."),
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReturnInspectLineSerializer(serializers.Serializer):
    return_line = serializers.IntegerField(min_value=1, help_text=_("The return line's id."))
    accepted = serializers.IntegerField(min_value=0)
    rejected = serializers.IntegerField(min_value=0)
    grade = serializers.ChoiceField(choices=ItemGrade.choices)
    disposition = serializers.ChoiceField(
        choices=Disposition.choices, required=False, allow_blank=True, default="", help_text=_("For accepted units.")
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReturnInspectInputSerializer(serializers.Serializer):
    lines = ReturnInspectLineSerializer(many=True, allow_empty=False, max_length=200)  # type: ignore[call-arg]  # many=True passes max_length to the ListSerializer; the stubs miss it


class RefundLineInputSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(min_value=1, help_text=_("The order line's id."))
    quantity = serializers.IntegerField(min_value=0, help_text=_("Units; 0 for a price adjustment."))
    amount = serializers.DecimalField(min_value=0, **MONEY)


class RefundInputSerializer(serializers.Serializer):
    # The list may be null (absent), its items may not: with many=True, allow_null reaches both.
    lines: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=RefundLineInputSerializer(),
        required=False,
        allow_null=True,
        default=None,
        max_length=200,
        help_text=_("Absent: every unit the return still holds, at the refund per unit of its terms."),
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    shipping_amount = serializers.DecimalField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text=_("Absent: the policy decides (refunded when the reason is the merchant's fault)."),
        **MONEY,
    )


class RefundVoidInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_("Why the refund is withdrawn (staff only)."))


class RefundOriginalInputSerializer(RefundInputSerializer):
    quick = serializers.BooleanField(
        required=False, default=False, help_text=_("Pay while the parcel is on its way (a quick refund).")
    )


class ExchangeLineInputSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(min_value=1, help_text=_("The order line's id."))
    quantity = serializers.IntegerField(min_value=1)
    sku = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=_("Empty: the variant the customer asked for, else the SKU ordered."),
    )


class ExchangeInputSerializer(serializers.Serializer):
    # The list may be null (absent), its items may not: with many=True, allow_null reaches both.
    lines: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ExchangeLineInputSerializer(),
        required=False,
        allow_null=True,
        default=None,
        max_length=200,
        help_text=_("Absent: every unit the return still holds, as the customer asked."),
    )
    carrier = serializers.CharField(max_length=50)
    tracking_number = serializers.CharField(max_length=64)


class ReturnLostInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text=_("What the carrier said; internal.")
    )


class RejectedUnitsSentInputSerializer(serializers.Serializer):
    carrier = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=50, help_text=_("Required unless collected in store.")
    )
    tracking_number = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text=_("Required unless collected in store; unique per carrier among the merchant's return parcels."),
    )
    collected_in_store = serializers.BooleanField(
        required=False, default=False, help_text=_("The customer collects the items at a store instead.")
    )
    store_location = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text=_("The store where the customer collects them; required when collected in store."),
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CarrierClaimSettleInputSerializer(serializers.Serializer):
    amount_recovered = serializers.DecimalField(
        min_value=0, help_text=_("What the carrier paid, at most the amount claimed."), **MONEY
    )
    reference = serializers.CharField(max_length=100, help_text=_("The carrier's reference for the payment."))


class CarrierClaimRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_("Why the carrier rejected the claim."))


class CarrierClaimWithdrawInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text=_("Where the parcel turned up.")
    )


class ExchangeDifferencePaidInputSerializer(serializers.Serializer):
    reference = serializers.CharField(
        max_length=200, help_text=_("The reference of the customer's payment (back office, payment link, …).")
    )
