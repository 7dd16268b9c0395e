"""A complaint's fields in the API: read them, and act on them through the same services as the
dashboard. The ticket is found through ``ticket_for_api`` (the request's merchant, and what its
staff member may see); a ticket of another kind, or of another merchant, is a 404."""

from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.serializers import ErrorResponseSerializer
from aftersales.api.views import MerchantApiView
from tickets import services
from tickets.models import (
    Compensation,
    CompensationKind,
    Complaint,
    ComplaintCategory,
    ComplaintSeverity,
    RegulatorCase,
    RegulatorChannel,
    ResponsibleParty,
    Ticket,
    TicketKind,
)
from tickets.selectors import compensation_of, complaint_of_ticket, regulator_case_of, ticket_for_api

TAG = ["complaints"]
REFUSALS = {
    400: OpenApiResponse(ErrorResponseSerializer, description=_("Invalid input.")),
    403: OpenApiResponse(ErrorResponseSerializer, description=_("The actor's role does not allow this.")),
    404: OpenApiResponse(ErrorResponseSerializer, description=_("No such complaint for this merchant.")),
    409: OpenApiResponse(ErrorResponseSerializer, description=_("Not allowed in the complaint's current state.")),
}


class CompensationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Compensation
        fields = [
            "id",
            "kind",
            "amount",
            "currency",
            "status",
            "note",
            "proposed_by",
            "approved_by",
            "approved_at",
            "answered_at",
            "paid_at",
            "payment_reference",
            "created_at",
        ]


class RegulatorCaseOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = RegulatorCase
        fields = [
            "id",
            "channel",
            "reference",
            "received_on",
            "acceptance_due_at",
            "accepted_on",
            "mediation_due_at",
            "answer_due_at",
            "answered_at",
            "outcome",
        ]


class ComplaintOutputSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.number", read_only=True)
    compensations = CompensationOutputSerializer(many=True, read_only=True)
    regulator_cases = RegulatorCaseOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Complaint
        fields = [
            "ticket",
            "severity",
            "category",
            "responsible_party",
            "responsibility_evidence",
            "responsibility_decided_at",
            "third_party_name",
            "third_party_due_at",
            "third_party_answer",
            "third_party_answered_at",
            "tier",
            "tier_due_at",
            "root_cause",
            "corrective_action",
            "closed_out_at",
            "compensations",
            "regulator_cases",
        ]


class _Plain(ComplaintOutputSerializer):
    """The complaint's own fields, for one not saved yet (it has no offers or cases to list)."""

    class Meta(ComplaintOutputSerializer.Meta):
        fields = [f for f in ComplaintOutputSerializer.Meta.fields if f not in ("compensations", "regulator_cases")]


class ClassifyInputSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=ComplaintSeverity.choices)
    category = serializers.ChoiceField(choices=ComplaintCategory.choices)


class ResponsibilityInputSerializer(serializers.Serializer):
    party = serializers.ChoiceField(choices=ResponsibleParty.choices)
    evidence = serializers.CharField(max_length=5000)
    third_party_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EscalateInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class CompensationInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CompensationKind.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class CompensationActionInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["approve", "pay", "withdraw", "accepted", "declined"])


class ThirdPartyAnswerInputSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=5000)


class CompensationAnswerInputSerializer(serializers.Serializer):
    accepted = serializers.BooleanField(help_text=_("The customer's answer, taken by phone or in person."))


class CompensationWithdrawInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RegulatorCaseInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=RegulatorChannel.choices)
    reference = serializers.CharField(max_length=100)
    received_on = serializers.DateField()
    answer_due_on = serializers.DateField()


class RegulatorAcceptInputSerializer(serializers.Serializer):
    accepted_on = serializers.DateField()


class RegulatorAnswerInputSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=5000)


class CloseOutInputSerializer(serializers.Serializer):
    root_cause = serializers.CharField(max_length=5000)
    corrective_action = serializers.CharField(max_length=5000)


def _complaint_ticket_or_404(request, number: str) -> Ticket:
    ticket = ticket_for_api(merchant=request_merchant(request), membership=request_membership(request), number=number)
    if ticket is None or ticket.kind != TicketKind.COMPLAINT:
        raise Http404
    return ticket


def _complaint_data(ticket: Ticket) -> dict:
    complaint = complaint_of_ticket(ticket)
    if complaint is None:  # not classified yet: its defaults, nothing decided, nothing offered
        unsaved = Complaint(ticket=ticket, merchant_id=ticket.merchant_id)
        return {**_Plain(unsaved).data, "compensations": [], "regulator_cases": []}
    return dict(ComplaintOutputSerializer(complaint).data)


class ComplaintDetailApi(MerchantApiView):
    @extend_schema(
        tags=TAG, summary=_("Read a complaint's fields"), responses={200: ComplaintOutputSerializer, **REFUSALS}
    )
    def get(self, request, number: str):
        return Response(_complaint_data(_complaint_ticket_or_404(request, number)))


def _run(request, number: str, serializer_class, action) -> Response:
    ticket = _complaint_ticket_or_404(request, number)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    action(ticket, request_actor(request), serializer.validated_data)
    return Response(_complaint_data(ticket))


class ComplaintClassifyApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Set a complaint's severity and category"),
        request=ClassifyInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        return _run(
            request,
            number,
            ClassifyInputSerializer,
            lambda ticket, actor, data: services.complaint_classify(ticket=ticket, actor=actor, **data),
        )


class ComplaintResponsibilityApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Record who is responsible, with the evidence"),
        request=ResponsibilityInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        return _run(
            request,
            number,
            ResponsibilityInputSerializer,
            lambda ticket, actor, data: services.complaint_set_responsibility(ticket=ticket, actor=actor, **data),
        )


class ComplaintEscalateApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Escalate a complaint one tier"),
        request=EscalateInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        return _run(
            request,
            number,
            EscalateInputSerializer,
            lambda ticket, actor, data: services.complaint_escalate(ticket=ticket, actor=actor, reason=data["reason"]),
        )


class CompensationProposeApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Propose a compensation (offered at once within the actor's limit)"),
        request=CompensationInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        return _run(
            request,
            number,
            CompensationInputSerializer,
            lambda ticket, actor, data: services.compensation_propose(ticket=ticket, actor=actor, **data),
        )


class CompensationActionApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Approve, pay or withdraw a compensation, or record the customer's answer"),
        operation_id="v1_tickets_complaint_compensation_act",
        request=CompensationActionInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str, pk: int):
        ticket = _complaint_ticket_or_404(request, number)
        compensation = compensation_of(request_merchant(request), pk)
        if compensation is None or compensation.complaint.ticket_id != ticket.pk:
            raise Http404
        serializer = CompensationActionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor = request_actor(request)
        action = serializer.validated_data["action"]
        if action == "approve":
            services.compensation_approve(compensation=compensation, actor=actor)
        elif action == "pay":
            services.compensation_pay(compensation=compensation, actor=actor)
        elif action == "withdraw":
            services.compensation_withdraw(compensation=compensation, actor=actor)
        else:
            services.compensation_answer(compensation=compensation, actor=actor, accept=action == "accepted")
        return Response(_complaint_data(ticket))


class ComplaintCloseOutApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Record root cause and corrective action, and resolve"),
        request=CloseOutInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        return _run(
            request,
            number,
            CloseOutInputSerializer,
            lambda ticket, actor, data: services.complaint_close_out(ticket=ticket, actor=actor, **data),
        )


class ComplaintThirdPartyAnswerApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Record the responsible third party's answer"),
        request=ThirdPartyAnswerInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        return _run(
            request,
            number,
            ThirdPartyAnswerInputSerializer,
            lambda ticket, actor, data: services.complaint_record_third_party_answer(
                ticket=ticket, actor=actor, answer=data["answer"]
            ),
        )


def _compensation_or_404(request, number: str, pk: int) -> tuple[Ticket, Compensation]:
    ticket = _complaint_ticket_or_404(request, number)
    compensation = compensation_of(request_merchant(request), pk)
    if compensation is None or compensation.complaint.ticket_id != ticket.pk:
        raise Http404
    return ticket, compensation


def _on_compensation(request, number: str, pk: int, serializer_class, action) -> Response:
    ticket, compensation = _compensation_or_404(request, number, pk)
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    action(compensation, request_actor(request), serializer.validated_data)
    return Response(_complaint_data(ticket))


class _NoInput(serializers.Serializer):
    pass


class CompensationApproveApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Approve a compensation above its proposer's limit"),
        request=None,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str, pk: int):
        return _on_compensation(
            request,
            number,
            pk,
            _NoInput,
            lambda compensation, actor, data: services.compensation_approve(compensation=compensation, actor=actor),
        )


class CompensationAnswerApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Record the customer's answer to a compensation offer"),
        request=CompensationAnswerInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str, pk: int):
        return _on_compensation(
            request,
            number,
            pk,
            CompensationAnswerInputSerializer,
            lambda compensation, actor, data: services.compensation_answer(
                compensation=compensation, actor=actor, accept=data["accepted"]
            ),
        )


class CompensationPayApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Pay an accepted compensation, once (a replay returns it paid)"),
        request=None,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str, pk: int):
        return _on_compensation(
            request,
            number,
            pk,
            _NoInput,
            lambda compensation, actor, data: services.compensation_pay(compensation=compensation, actor=actor),
        )


class CompensationWithdrawApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Withdraw a compensation not yet accepted"),
        request=CompensationWithdrawInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str, pk: int):
        return _on_compensation(
            request,
            number,
            pk,
            CompensationWithdrawInputSerializer,
            lambda compensation, actor, data: services.compensation_withdraw(
                compensation=compensation, actor=actor, reason=data["reason"]
            ),
        )


class RegulatorCaseRecordApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Record a regulator complaint with its reference; its statutory clocks start"),
        request=RegulatorCaseInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str):
        return _run(
            request,
            number,
            RegulatorCaseInputSerializer,
            lambda ticket, actor, data: services.regulator_case_record(ticket=ticket, actor=actor, **data),
        )


def _on_case(request, number: str, pk: int, serializer_class, action) -> Response:
    ticket = _complaint_ticket_or_404(request, number)
    case = regulator_case_of(request_merchant(request), pk)
    if case is None or case.complaint.ticket_id != ticket.pk:
        raise Http404
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    action(case, request_actor(request), serializer.validated_data)
    return Response(_complaint_data(ticket))


class RegulatorCaseAcceptApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Record that the regulator accepted the complaint; the mediation clock starts"),
        request=RegulatorAcceptInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str, pk: int):
        return _on_case(
            request,
            number,
            pk,
            RegulatorAcceptInputSerializer,
            lambda case, actor, data: services.regulator_case_accept(
                case=case, actor=actor, accepted_on=data["accepted_on"]
            ),
        )


class RegulatorCaseAnswerApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Record the merchant's answer to the regulator"),
        request=RegulatorAnswerInputSerializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str, pk: int):
        return _on_case(
            request,
            number,
            pk,
            RegulatorAnswerInputSerializer,
            lambda case, actor, data: services.regulator_case_answer(case=case, actor=actor, outcome=data["outcome"]),
        )
