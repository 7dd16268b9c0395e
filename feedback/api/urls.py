"""Included from ``aftersales.api.urls``, so every name here lives in the ``api`` namespace."""

from django.urls import path

from feedback.api import reports as views

urlpatterns = [
    path("quality-alerts/", views.QualityAlertListApi.as_view(), name="quality-alert-list"),
    path("quality-alerts/<int:alert_id>/", views.QualityAlertDetailApi.as_view(), name="quality-alert-detail"),
    path(
        "quality-alerts/<int:alert_id>/acknowledge/",
        views.QualityAlertAcknowledgeApi.as_view(),
        name="quality-alert-acknowledge",
    ),
    path(
        "quality-alerts/<int:alert_id>/dismiss/", views.QualityAlertDismissApi.as_view(), name="quality-alert-dismiss"
    ),
    path("kpi/series/", views.KpiSeriesApi.as_view(), name="kpi-series"),
]
