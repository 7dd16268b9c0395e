"""Validation of orders as shops send them, shared by the API and the CSV import, so that both
report a bad row in the same words."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from aftersales.models import Customer
from aftersales.phones import try_normalize_phone
from aftersales.services.orders import CustomerInput, OrderInput, OrderLineInput

MAX_LINES_PER_ORDER = 200


class CustomerIntakeSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    wechat_openid = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The customer's OpenID for the merchant's WeChat official account, for WeChat messages."),
    )
    tier = serializers.ChoiceField(choices=Customer.Tier.choices, required=False)

    def validate_phone(self, value: str) -> str:
        if not value:
            return ""
        normalized = try_normalize_phone(value)
        if normalized is None:
            raise serializers.ValidationError(_("Enter a valid phone number."))
        return normalized

    def validate(self, attrs):
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError(_("A customer needs an e-mail address or a phone number."))
        return attrs


class OrderLineIntakeSerializer(serializers.Serializer):
    line_number = serializers.CharField(max_length=32)
    sku = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    discount_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False, default=Decimal("0")
    )
    serial_numbers = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list, max_length=1000
    )
    # The product's catalogue data, for a product intake creates (or that lacks it): the variant
    # group its sizes and colours share, its attributes, and its current selling price.
    variant_group = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("The style code shared by every size and colour of the item."),
    )
    variant_attributes = serializers.DictField(
        child=serializers.CharField(max_length=100, allow_blank=True),
        required=False,
        default=dict,
        help_text=_('What sets this variant apart, e.g. {"size": "M", "colour": "red"}.'),
    )
    product_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The product's current selling price; the line's own price is unit_price."),
    )

    def validate_variant_attributes(self, value: dict) -> dict:
        if len(value) > 10:
            raise serializers.ValidationError(_("At most 10 attributes."))
        return value


class OrderIntakeSerializer(serializers.Serializer):
    store = serializers.IntegerField(min_value=1, help_text=_("The id of one of the merchant's stores."))
    number = serializers.CharField(max_length=64, help_text=_("The order number in that store."))
    currency = serializers.CharField(min_length=3, max_length=3, required=False, allow_blank=True, default="")
    placed_at = serializers.DateTimeField()
    shipped_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    shipping_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0"), required=False, default=Decimal("0")
    )
    customer = CustomerIntakeSerializer()
    # many=True hands max_length to the ListSerializer; the stubs only know the child's arguments.
    lines = OrderLineIntakeSerializer(many=True, allow_empty=False, max_length=MAX_LINES_PER_ORDER)  # type: ignore[call-arg]

    def validate(self, attrs):
        shipped, delivered = attrs.get("shipped_at"), attrs.get("delivered_at")
        if delivered and shipped and delivered < shipped:
            raise serializers.ValidationError({"delivered_at": _("Delivery cannot come before shipment.")})
        if shipped and shipped < attrs["placed_at"]:
            raise serializers.ValidationError({"shipped_at": _("Shipment cannot come before the order was placed.")})
        return attrs

    def to_input(self) -> OrderInput:
        data = self.validated_data
        return OrderInput(
            store_id=data["store"],
            number=data["number"].strip(),
            currency=data["currency"].upper(),
            placed_at=data["placed_at"],
            shipped_at=data["shipped_at"],
            delivered_at=data["delivered_at"],
            shipping_amount=data["shipping_amount"],
            customer=CustomerInput(
                name=data["customer"]["name"],
                email=data["customer"]["email"],
                phone=data["customer"]["phone"],
                wechat_openid=data["customer"]["wechat_openid"].strip(),
                tier=data["customer"].get("tier"),
            ),
            lines=[OrderLineInput(**line) for line in data["lines"]],
        )
