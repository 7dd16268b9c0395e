"""A complaint's fields in the API: read them, and act on them through the same services as the
dashboard. The ticket is found through ``ticket_for_api`` (the request's merchant, and what its
staff member may see); a ticket of another kind, or of another merchant, is a 404."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.serializers import refusal_responses
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
REFUSALS = refusal_responses(
    not_found=_("No such complaint for this merchant."), conflict=_("Not allowed in the complaint's current state.")
)


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
            "granted_at",
            "paid_at",
            "payment_reference",
            "payment_error",
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


# --- actions --------------------------------------------------------------------------------------
# Every action is a POST on the complaint (``tickets/<number>/complaint/…``) or on one of its
# compensations or regulator cases (``…/<pk>/…``): find the target within the request's merchant
# (another complaint's compensation is a 404 like another merchant's), validate the input, call the
# service with the actor, and answer with the whole complaint.


def _ticket_target(request, number: str, ticket: Ticket, pk: None) -> Ticket:
    return ticket


def _compensation_target(request, number: str, ticket: Ticket, pk: int) -> Compensation:
    compensation = compensation_of(request_merchant(request), pk)
    if compensation is None or compensation.complaint.ticket_id != ticket.pk:
        raise Http404
    return compensation


def _case_target(request, number: str, ticket: Ticket, pk: int) -> RegulatorCase:
    case = regulator_case_of(request_merchant(request), pk)
    if case is None or case.complaint.ticket_id != ticket.pk:
        raise Http404
    return case


def _action_api(
    name: str,
    summary,
    input_serializer: type[serializers.Serializer] | None,
    act: Callable[[Any, Any, dict], object],
    *,
    target: Callable[..., Any] = _ticket_target,
    operation_id: str | None = None,
) -> type[MerchantApiView]:
    """An API view whose POST runs ``act(target, actor, validated_data)``; ``input_serializer``
    None takes no input."""

    @extend_schema(
        tags=TAG,
        summary=summary,
        operation_id=operation_id,
        request=input_serializer,
        responses={200: ComplaintOutputSerializer, **REFUSALS},
    )
    def post(self, request, number: str, pk: int | None = None):
        ticket = _complaint_ticket_or_404(request, number)
        found = target(request, number, ticket, pk)
        data: dict = {}
        if input_serializer is not None:
            serializer = input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        act(found, request_actor(request), data)
        return Response(_complaint_data(ticket))

    return type(name, (MerchantApiView,), {"post": post, "__module__": __name__})


def _compensation_act(compensation: Compensation, actor, data: dict) -> None:
    action = data["action"]
    if action == "approve":
        services.compensation_approve(compensation=compensation, actor=actor)
    elif action == "pay":
        services.compensation_pay(compensation=compensation, actor=actor)
    elif action == "withdraw":
        services.compensation_withdraw(compensation=compensation, actor=actor)
    else:
        services.compensation_answer(compensation=compensation, actor=actor, accept=action == "accepted")


ComplaintClassifyApi = _action_api(
    "ComplaintClassifyApi",
    _("Set a complaint's severity and category"),
    ClassifyInputSerializer,
    lambda ticket, actor, data: services.complaint_classify(ticket=ticket, actor=actor, **data),
)
ComplaintResponsibilityApi = _action_api(
    "ComplaintResponsibilityApi",
    _("Record who is responsible, with the evidence"),
    ResponsibilityInputSerializer,
    lambda ticket, actor, data: services.complaint_set_responsibility(ticket=ticket, actor=actor, **data),
)
ComplaintEscalateApi = _action_api(
    "ComplaintEscalateApi",
    _("Escalate a complaint one tier"),
    EscalateInputSerializer,
    lambda ticket, actor, data: services.complaint_escalate(ticket=ticket, actor=actor, reason=data["reason"]),
)
CompensationProposeApi = _action_api(
    "CompensationProposeApi",
    _("Propose a compensation (offered at once within the actor's limit)"),
    CompensationInputSerializer,
    lambda ticket, actor, data: services.compensation_propose(ticket=ticket, actor=actor, **data),
)
CompensationActionApi = _action_api(
    "CompensationActionApi",
    _("Approve, pay or withdraw a compensation, or record the customer's answer"),
    CompensationActionInputSerializer,
    _compensation_act,
    target=_compensation_target,
    operation_id="v1_tickets_complaint_compensation_act",
)
ComplaintCloseOutApi = _action_api(
    "ComplaintCloseOutApi",
    _("Record root cause and corrective action, and resolve"),
    CloseOutInputSerializer,
    lambda ticket, actor, data: services.complaint_close_out(ticket=ticket, actor=actor, **data),
)
ComplaintThirdPartyAnswerApi = _action_api(
    "ComplaintThirdPartyAnswerApi",
    _("Record the responsible third party's answer"),
    ThirdPartyAnswerInputSerializer,
    lambda ticket, actor, data: services.complaint_record_third_party_answer(
        ticket=ticket, actor=actor, answer=data["answer"]
    ),
)
CompensationApproveApi = _action_api(
    "CompensationApproveApi",
    _("Approve a compensation above its proposer's limit"),
    None,
    lambda compensation, actor, data: services.compensation_approve(compensation=compensation, actor=actor),
    target=_compensation_target,
)
CompensationAnswerApi = _action_api(
    "CompensationAnswerApi",
    _("Record the customer's answer to a compensation offer"),
    CompensationAnswerInputSerializer,
    lambda compensation, actor, data: services.compensation_answer(
        compensation=compensation, actor=actor, accept=data["accepted"]
    ),
    target=_compensation_target,
)
CompensationPayApi = _action_api(
    "CompensationPayApi",
    _("Pay an accepted compensation, or pay again one whose payment failed, once (a replay returns it as it stands)"),
    None,
    lambda compensation, actor, data: services.compensation_pay(compensation=compensation, actor=actor),
    target=_compensation_target,
)
CompensationWithdrawApi = _action_api(
    "CompensationWithdrawApi",
    _("Withdraw a compensation not yet accepted"),
    CompensationWithdrawInputSerializer,
    lambda compensation, actor, data: services.compensation_withdraw(
        compensation=compensation, actor=actor, reason=data["reason"]
    ),
    target=_compensation_target,
)
RegulatorCaseRecordApi = _action_api(
    "RegulatorCaseRecordApi",
    _("Record a regulator complaint with its reference; its statutory clocks start"),
    RegulatorCaseInputSerializer,
    lambda ticket, actor, data: services.regulator_case_record(ticket=ticket, actor=actor, **data),
)
RegulatorCaseAcceptApi = _action_api(
    "RegulatorCaseAcceptApi",
    _("Record that the regulator accepted the complaint; the mediation clock starts"),
    RegulatorAcceptInputSerializer,
    lambda case, actor, data: services.regulator_case_accept(case=case, actor=actor, accepted_on=data["accepted_on"]),
    target=_case_target,
)
RegulatorCaseAnswerApi = _action_api(
    "RegulatorCaseAnswerApi",
    _("Record the merchant's answer to the regulator"),
    RegulatorAnswerInputSerializer,
    lambda case, actor, data: services.regulator_case_answer(case=case, actor=actor, outcome=data["outcome"]),
    target=_case_target,
)
