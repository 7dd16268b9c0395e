"""feedback's API: quality alerts (list, one, acknowledge, dismiss) and the KPI series.

An API key reads and acts for its merchant; a staff session must be a supervisor or merchant
admin. Every query starts from the request's merchant: another merchant's alert is a 404.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from aftersales.api.pagination import CreatedCursorPagination
from aftersales.api.permissions import request_actor, request_membership, request_merchant
from aftersales.api.views import MerchantApiView, MerchantListApiView
from feedback.api.report_serializers import (
    AlertAcknowledgeInputSerializer,
    AlertDismissInputSerializer,
    KpiSeriesOutputSerializer,
    KpiSeriesQuerySerializer,
    QualityAlertOutputSerializer,
)
from feedback.models import AlertStatus, QualityAlert
from feedback.roles import may_see_reports
from feedback.selectors import KpiFilters, alert_of, alerts_of, kpi_home
from feedback.services import quality_alert_acknowledge, quality_alert_dismiss

TAG = ["feedback"]


def _require_reports(request) -> None:
    membership = request_membership(request)
    if membership is not None and not may_see_reports(membership):
        raise PermissionDenied(_("KPIs and quality alerts are for supervisors and merchant admins."))


def _alert_or_404(request, alert_id: int) -> QualityAlert:
    _require_reports(request)
    alert = alert_of(request_merchant(request), alert_id)
    if alert is None:
        raise Http404
    return alert


class QualityAlertListApi(MerchantListApiView):
    """The merchant's quality alerts, newest first, by cursor; ``?status=open`` to filter."""

    serializer_class = QualityAlertOutputSerializer
    pagination_class = CreatedCursorPagination

    def get_queryset(self):
        _require_reports(self.request)
        status = self.request.query_params.get("status", "")
        return alerts_of(request_merchant(self.request), status=status if status in AlertStatus.values else "")

    @extend_schema(tags=TAG, summary=_("List quality alerts"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class QualityAlertDetailApi(MerchantApiView):
    @extend_schema(tags=TAG, summary=_("Get a quality alert"), responses=QualityAlertOutputSerializer)
    def get(self, request, alert_id: int):
        return Response(QualityAlertOutputSerializer(_alert_or_404(request, alert_id)).data)


class QualityAlertAcknowledgeApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Acknowledge a quality alert"),
        request=AlertAcknowledgeInputSerializer,
        responses=QualityAlertOutputSerializer,
    )
    def post(self, request, alert_id: int):
        alert = _alert_or_404(request, alert_id)
        serializer = AlertAcknowledgeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = quality_alert_acknowledge(alert=alert, actor=request_actor(request), **serializer.validated_data)
        return Response(QualityAlertOutputSerializer(alert).data)


class QualityAlertDismissApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("Dismiss a quality alert"),
        description=_("With a reason. The alert's cohorts then stop counting for the product."),
        request=AlertDismissInputSerializer,
        responses=QualityAlertOutputSerializer,
    )
    def post(self, request, alert_id: int):
        alert = _alert_or_404(request, alert_id)
        serializer = AlertDismissInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = quality_alert_dismiss(alert=alert, actor=request_actor(request), **serializer.validated_data)
        return Response(QualityAlertOutputSerializer(alert).data)


class KpiSeriesApi(MerchantApiView):
    @extend_schema(
        tags=TAG,
        summary=_("KPI series"),
        description=_(
            "Per day and in total for the period: cases opened, resolved and reopened, first-contact "
            "resolutions, first response, resolution and refund cycle (median and 90th percentile, "
            "minutes), and SLA attainment per target; for the period, CSAT (average, response rate), NPS, "
            "repair turnaround, first-visit fixes and on-time arrivals, in total and per technician. "
            "Read from the rollups, refreshed every ten minutes."
        ),
        parameters=[KpiSeriesQuerySerializer],
        responses=KpiSeriesOutputSerializer,
    )
    def get(self, request):
        _require_reports(request)
        query = KpiSeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = KpiFilters(
            start=data["start"],
            end=data["end"],
            store_id=data.get("store"),
            team_id=data.get("team"),
            agent_id=data.get("agent"),
            kind=data.get("kind", ""),
        )
        home = kpi_home(merchant=request_merchant(request), filters=filters, backlog_ages=[])
        return Response(KpiSeriesOutputSerializer(home).data)
