"""The repairs API's input and output shapes."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from repairs.models import (
    Exclusion,
    LineCoverage,
    LineKind,
    Remedy,
    RepairLine,
    RepairMode,
    RepairOrder,
    RepairQuote,
    RepairStatus,
    SupplierClaim,
)
from repairs.selectors import customer_total, warranty_cost


class RepairLineOutputSerializer(serializers.ModelSerializer[RepairLine]):
    part_number = serializers.CharField(source="part.part_number", default="", read_only=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = RepairLine
        fields = ["id", "kind", "part_number", "description", "quantity", "unit_price", "coverage", "amount", "quote"]


class RepairQuoteOutputSerializer(serializers.ModelSerializer[RepairQuote]):
    class Meta:
        model = RepairQuote
        fields = ["id", "status", "subtotal", "tax_rate", "tax_amount", "total", "valid_until", "decided_at"]


class RepairOutputSerializer(serializers.ModelSerializer[RepairOrder]):
    number = serializers.CharField(source="ticket.number", read_only=True)
    product_sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = RepairOrder
        fields = [
            "id",
            "number",
            "status",
            "mode",
            "customer",
            "product",
            "product_sku",
            "order_line",
            "serial_number",
            "requested_at",
            "created_at",
        ]


class RepairDetailOutputSerializer(RepairOutputSerializer):
    lines = RepairLineOutputSerializer(many=True, read_only=True)
    quotes = RepairQuoteOutputSerializer(many=True, read_only=True)
    diagnosis = serializers.CharField(source="diagnosis_code.code", default="", read_only=True)
    warranty_cost = serializers.SerializerMethodField()
    customer_total = serializers.SerializerMethodField()
    repeat_of = serializers.CharField(source="repeat_of.ticket.number", default="", read_only=True)

    class Meta(RepairOutputSerializer.Meta):
        fields = [
            *RepairOutputSerializer.Meta.fields,
            "fault_description",
            "remedy_wanted",
            "service_centre",
            "address",
            "district",
            "postal_code",
            "latitude",
            "longitude",
            "eligibility",
            "legal_floor",
            "diagnosis",
            "diagnosis_note",
            "parts_expected_on",
            "qc_failures",
            "repeat_of",
            "has_repeat",
            "return_carrier",
            "return_tracking_number",
            "returned_at",
            "closed_at",
            "lines",
            "quotes",
            "warranty_cost",
            "customer_total",
        ]

    def get_warranty_cost(self, repair: RepairOrder) -> Decimal:
        return warranty_cost(repair)

    def get_customer_total(self, repair: RepairOrder) -> Decimal:
        return customer_total(repair)


class RepairCreateInputSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(required=False, allow_null=True, default=None)
    serial_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    mode = serializers.ChoiceField(choices=RepairMode.choices)
    fault_description = serializers.CharField(max_length=4000)
    remedy_wanted = serializers.ChoiceField(choices=Remedy.choices, default=Remedy.REPAIR)
    service_centre = serializers.IntegerField(required=False, allow_null=True, default=None)
    address = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    district = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, default=None, min_value=-90, max_value=90
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, default=None, min_value=-180, max_value=180
    )
    window_start = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "On-site: the start of a free visit window (see the slots endpoint), booked in the same call when the "
            "merchant's automatic triage accepts the repair."
        ),
    )

    def validate(self, attrs):
        if attrs["order_line"] is None and not attrs["serial_number"].strip():
            raise serializers.ValidationError(_("Give the order line or a registered serial number."))
        return attrs


class RepairCreatedOutputSerializer(RepairDetailOutputSerializer):
    """The repair just opened, with the visit booked in the same call, or the next free windows when
    the window asked for was taken meanwhile."""

    visit = serializers.SerializerMethodField()
    window_taken = serializers.SerializerMethodField()
    next_slots = serializers.SerializerMethodField()

    class Meta(RepairDetailOutputSerializer.Meta):
        fields = [*RepairDetailOutputSerializer.Meta.fields, "visit", "window_taken", "next_slots"]

    def get_visit(self, repair: RepairOrder) -> dict[str, Any] | None:
        """The booked visit: id, technician, window_start, window_end, status."""
        visit = self.context.get("visit")
        if visit is None:
            return None
        return {
            "id": visit.pk,
            "technician": visit.technician_id,
            "window_start": visit.window_start.isoformat(),
            "window_end": visit.window_end.isoformat(),
            "status": visit.status,
        }

    def get_window_taken(self, repair: RepairOrder) -> bool:
        return bool(self.context.get("window_taken"))

    def get_next_slots(self, repair: RepairOrder) -> list[str]:
        return [slot.start.isoformat() for slot in self.context.get("next_slots", [])]


class TriageInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[(s, RepairStatus(s).label) for s in ("in_warranty", "out_of_warranty", "goodwill")],
        required=False,
        allow_blank=True,
        default="",
    )
    exclusions = serializers.ListField(child=serializers.ChoiceField(choices=Exclusion.choices), default=list)
    goodwill_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None, min_value=Decimal("0")
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class EmptyInputSerializer(serializers.Serializer):
    pass


class QuoteLineInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LineKind.choices)
    description = serializers.CharField(max_length=300)
    quantity = serializers.DecimalField(max_digits=9, decimal_places=2, min_value=Decimal("0.01"), default=Decimal("1"))
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    part = serializers.IntegerField(required=False, allow_null=True, default=None)


class QuoteInputSerializer(serializers.Serializer):
    lines = QuoteLineInputSerializer(many=True, allow_empty=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate_lines(self, value: list) -> list:
        if len(value) > 50:
            raise serializers.ValidationError(_("At most 50 lines."))
        return value


class DiagnoseInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class LineInputSerializer(QuoteLineInputSerializer):
    coverage = serializers.ChoiceField(choices=LineCoverage.choices)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"), default=Decimal("0"))


class PartsWaitInputSerializer(serializers.Serializer):
    expected_on = serializers.DateField(required=False, allow_null=True, default=None)


class QcInputSerializer(serializers.Serializer):
    passed = serializers.BooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ShipBackInputSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=100)
    tracking_number = serializers.CharField(max_length=100)


class SettleInputSerializer(serializers.Serializer):
    remedy = serializers.ChoiceField(
        choices=[(Remedy.EXCHANGE, Remedy.EXCHANGE.label), (Remedy.RETURN, Remedy.RETURN.label)]
    )
    unrepairable = serializers.BooleanField(default=False)
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    new_serial_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class ReportQuerySerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"] or (attrs["end"] - attrs["start"]).days > 366:
            raise serializers.ValidationError(_("Pick a period of one day to a year."))
        return attrs


class ProductFiguresSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    units_sold = serializers.IntegerField()
    repairs = serializers.IntegerField()
    warranty_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    warranty_cost_per_unit = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    failure_rate = serializers.FloatField(allow_null=True)


class DiagnosisFiguresSerializer(serializers.Serializer):
    sku = serializers.CharField()
    diagnosis = serializers.CharField()
    repairs = serializers.IntegerField()
    failure_rate = serializers.FloatField(allow_null=True)


class RepairsReportSerializer(serializers.Serializer):
    returned = serializers.IntegerField()
    turnaround_median_hours = serializers.SerializerMethodField()
    turnaround_p90_hours = serializers.SerializerMethodField()
    repairs_with_serial = serializers.IntegerField()
    repeats_within_90_days = serializers.IntegerField()
    products = ProductFiguresSerializer(many=True)
    failures_by_diagnosis = DiagnosisFiguresSerializer(many=True)

    def get_turnaround_median_hours(self, report) -> float | None:
        value = report.turnaround_median
        return round(value.total_seconds() / 3600, 2) if value is not None else None

    def get_turnaround_p90_hours(self, report) -> float | None:
        value = report.turnaround_p90
        return round(value.total_seconds() / 3600, 2) if value is not None else None


class PartUseInputSerializer(serializers.Serializer):
    stock = serializers.IntegerField(help_text=_("The id of the stock row (a part at a location) the parts come from."))
    quantity = serializers.IntegerField(min_value=1, max_value=1000)
    coverage = serializers.ChoiceField(choices=LineCoverage.choices, default=LineCoverage.WARRANTY)


class SupplierClaimOutputSerializer(serializers.ModelSerializer[SupplierClaim]):
    repair = serializers.CharField(source="repair_order.ticket.number", read_only=True)

    class Meta:
        model = SupplierClaim
        fields = [
            "id",
            "repair",
            "supplier",
            "amount",
            "amount_paid",
            "status",
            "reference",
            "note",
            "created_at",
            "updated_at",
        ]


class SupplierClaimCreateInputSerializer(serializers.Serializer[dict]):
    repair = serializers.CharField(max_length=32, help_text=_("The repair's number."))
    supplier = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("At most the repair's warranty cost; empty claims all of it."),
    )


class SupplierClaimMoveInputSerializer(serializers.Serializer[dict]):
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class SupplierClaimPaidInputSerializer(SupplierClaimMoveInputSerializer):
    amount_paid = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("What the supplier paid; empty means the amount claimed."),
    )
