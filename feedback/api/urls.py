"""Included from ``aftersales.api.urls``, so every name here lives in the ``api`` namespace."""

from django.urls import path

from feedback.api import reports, views

urlpatterns = [
    path("feedback/responses/", views.SurveyResponseListApi.as_view(), name="feedback-response-list"),
    path("feedback/followups/", views.FollowUpListApi.as_view(), name="feedback-followup-list"),
    path("feedback/followups/<int:followup_id>/calls/", views.FollowUpCallApi.as_view(), name="feedback-followup-call"),
    path("quality-alerts/", reports.QualityAlertListApi.as_view(), name="quality-alert-list"),
    path("quality-alerts/<int:alert_id>/", reports.QualityAlertDetailApi.as_view(), name="quality-alert-detail"),
    path(
        "quality-alerts/<int:alert_id>/acknowledge/",
        reports.QualityAlertAcknowledgeApi.as_view(),
        name="quality-alert-acknowledge",
    ),
    path(
        "quality-alerts/<int:alert_id>/dismiss/",
        reports.QualityAlertDismissApi.as_view(),
        name="quality-alert-dismiss",
    ),
    path("kpi/series/", reports.KpiSeriesApi.as_view(), name="kpi-series"),
]
