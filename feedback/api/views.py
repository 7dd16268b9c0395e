"""The feedback API: the merchant's survey answers and follow-ups, and recording a follow-up call.

Every read starts from the API key's (or the session's) merchant: another merchant's row is a
404 and never in a list. A call is recorded through ``feedback.services`` as the request's actor."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from aftersales.api.pagination import CreatedCursorPagination
from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.serializers import refusal_responses
from aftersales.api.views import MerchantApiView, MerchantListApiView
from aftersales.exceptions import PermissionRefused
from aftersales.models import Merchant
from feedback.api.serializers import (
    FollowUpCallInputSerializer,
    FollowUpOutputSerializer,
    SurveyResponseOutputSerializer,
)
from feedback.models import FollowUp, Survey
from feedback.roles import may_see_feedback
from feedback.selectors import followups_for_api, responses_for_api
from feedback.services import followup_record_call

TAG = ["feedback"]


def _feedback_merchant(request: Request) -> Merchant:
    """The request's merchant, for an API key or a staff member whose role works feedback (a
    technician or the warehouse sees none of it, as on the dashboard)."""
    membership = request_membership(request)
    if membership is not None and not may_see_feedback(membership):
        raise PermissionRefused(_("Your role does not see feedback."), code="role_cannot_see_feedback")
    merchant: Merchant = request_merchant(request)
    return merchant


class SurveyResponseListApi(MerchantListApiView):
    """The merchant's answered surveys (CSAT and NPS), newest first, by cursor."""

    serializer_class = SurveyResponseOutputSerializer
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Survey.objects.none()  # the schema generator asks for the model, with no merchant
        return responses_for_api(merchant_id=_feedback_merchant(self.request).pk)

    @extend_schema(tags=TAG, summary=_("List survey responses"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FollowUpListApi(MerchantListApiView):
    """The merchant's follow-up calls, newest first, by cursor."""

    serializer_class = FollowUpOutputSerializer
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return FollowUp.objects.none()  # the schema generator asks for the model, with no merchant
        return followups_for_api(merchant_id=_feedback_merchant(self.request).pk).select_related("new_ticket")

    @extend_schema(tags=TAG, summary=_("List follow-ups"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FollowUpCallApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Record a follow-up call"),
        request=FollowUpCallInputSerializer,
        responses={
            200: FollowUpOutputSerializer,
            **refusal_responses(
                not_found=_("No such follow-up for this merchant."), conflict=_("The follow-up is already done.")
            ),
        },
    )
    def post(self, request: Request, followup_id: int) -> Response:
        merchant = _feedback_merchant(request)
        followup = followups_for_api(merchant_id=merchant.pk).filter(pk=followup_id).first()
        if followup is None:
            raise Http404
        serializer = FollowUpCallInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        followup_record_call(followup=followup, actor=request_actor(request), **serializer.validated_data)
        updated = followups_for_api(merchant_id=merchant.pk).select_related("new_ticket").get(pk=followup_id)
        return Response(FollowUpOutputSerializer(updated).data)
