"""Included from ``aftersales.api.urls``, so every name here lives in the ``api`` namespace."""

from django.urls import path

from feedback.api import views

urlpatterns = [
    path("feedback/responses/", views.SurveyResponseListApi.as_view(), name="feedback-response-list"),
    path("feedback/followups/", views.FollowUpListApi.as_view(), name="feedback-followup-list"),
    path("feedback/followups/<int:followup_id>/calls/", views.FollowUpCallApi.as_view(), name="feedback-followup-call"),
]
