"""What the feedback API shows of a survey answer and a follow-up, and what a call takes."""

from rest_framework import serializers

from feedback.models import CallResult, FollowUp, Survey


class SurveyResponseOutputSerializer(serializers.ModelSerializer[Survey]):
    ticket = serializers.CharField(source="ticket.number", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    agent = serializers.IntegerField(source="agent_id", read_only=True, allow_null=True)
    team = serializers.IntegerField(source="team_id", read_only=True, allow_null=True)
    technician = serializers.IntegerField(source="technician_id", read_only=True, allow_null=True)

    class Meta:
        model = Survey
        fields = [
            "id",
            "kind",
            "ticket",
            "customer",
            "agent",
            "team",
            "technician",
            "score",
            "reasons",
            "comment",
            "ces_score",
            "technician_punctuality",
            "technician_skill",
            "technician_courtesy",
            "sent_at",
            "answered_at",
            "changed_at",
            "answer_count",
            "created_at",
        ]
        read_only_fields = fields


class FollowUpOutputSerializer(serializers.ModelSerializer[FollowUp]):
    ticket = serializers.CharField(source="ticket.number", read_only=True)
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    rule = serializers.CharField(source="rule.name", read_only=True)
    new_ticket = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "ticket",
            "customer",
            "rule",
            "status",
            "due_at",
            "attempts",
            "max_attempts",
            "outcome",
            "completed_at",
            "new_ticket",
            "created_at",
        ]
        read_only_fields = fields

    def get_new_ticket(self, followup: FollowUp) -> str | None:
        return followup.new_ticket.number if followup.new_ticket is not None else None


class FollowUpCallInputSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=CallResult.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    new_case_subject = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
