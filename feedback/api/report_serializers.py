"""Serializers of feedback's API: quality alerts and the KPI series."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from feedback.models import QualityAlert


class QualityAlertOutputSerializer(serializers.ModelSerializer[QualityAlert]):
    ticket_ids = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    top_reasons = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = QualityAlert
        fields = [
            "id",
            "product",
            "sku",
            "category",
            "status",
            "method",
            "detected_on",
            "cohort_start",
            "cohort_end",
            "delivered_units",
            "defect_units",
            "rate",
            "baseline_rate",
            "upper_limit",
            "statistic",
            "top_reasons",
            "ticket_ids",
            "acknowledged_at",
            "dismissed_at",
            "note",
            "created_at",
        ]
        read_only_fields = fields


class AlertAcknowledgeInputSerializer(serializers.Serializer[dict]):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AlertDismissInputSerializer(serializers.Serializer[dict]):
    reason = serializers.CharField(max_length=2000, help_text=_("Why this is not a quality problem."))


class KpiSeriesQuerySerializer(serializers.Serializer[dict]):
    start = serializers.DateField(help_text=_("First day, in the merchant's time zone."))
    end = serializers.DateField(help_text=_("Last day, included."))
    store = serializers.IntegerField(required=False, min_value=1)
    team = serializers.IntegerField(required=False, min_value=1)
    agent = serializers.IntegerField(required=False, min_value=1)
    kind = serializers.CharField(required=False, allow_blank=True, max_length=20)

    def validate(self, attrs):
        if attrs["start"] > attrs["end"]:
            raise serializers.ValidationError(_("The period must start before it ends."))
        if (attrs["end"] - attrs["start"]).days >= 366:
            raise serializers.ValidationError(_("Choose a period of at most a year."))
        return attrs


class DurationsSerializer(serializers.Serializer[dict]):
    count = serializers.IntegerField()
    median_minutes = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    p90_minutes = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)


class SlaFigureSerializer(serializers.Serializer[dict]):
    target = serializers.CharField()
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)


class FiguresSerializer(serializers.Serializer[dict]):
    opened = serializers.IntegerField(source="counts.created")
    resolved = serializers.IntegerField(source="counts.resolved")
    reopened = serializers.IntegerField(source="counts.reopened")
    first_contact_resolved = serializers.IntegerField(source="counts.first_contact_resolved")
    first_response = DurationsSerializer()
    resolution = DurationsSerializer()
    refund_cycle = DurationsSerializer()
    first_contact_resolution_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    reopen_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    sla = SlaFigureSerializer(many=True)


class DayFiguresSerializer(serializers.Serializer[dict]):
    day = serializers.DateField()
    figures = FiguresSerializer()


class ServiceFiguresSerializer(serializers.Serializer[dict]):
    csat_sent = serializers.IntegerField(source="counts.csat_sent")
    csat_answered = serializers.IntegerField(source="counts.csat_answered")
    csat_average = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    csat_response_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    nps_answered = serializers.IntegerField(source="counts.nps_answered")
    nps = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text=_("Promoters' share minus detractors' share.")
    )
    technician_rated = serializers.IntegerField(source="counts.technician_rated")
    punctuality_average = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    skill_average = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    courtesy_average = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    repairs_returned = serializers.IntegerField(source="counts.repairs_returned")
    turnaround = DurationsSerializer()
    first_time_fix_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    on_time_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)


class TechnicianScorecardSerializer(serializers.Serializer[dict]):
    technician = serializers.IntegerField(source="technician_id")
    name = serializers.CharField()
    figures = ServiceFiguresSerializer()


class KpiSeriesOutputSerializer(serializers.Serializer[dict]):
    start = serializers.DateField(source="filters.start")
    end = serializers.DateField(source="filters.end")
    refreshed_at = serializers.DateTimeField(allow_null=True)
    totals = FiguresSerializer()
    days = DayFiguresSerializer(many=True)
    service = ServiceFiguresSerializer()
    technicians = TechnicianScorecardSerializer(many=True)
