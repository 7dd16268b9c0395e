"""The pages of feedback, in two lists the project's URLconfs include: ``dashboard_urlpatterns``
under ``dashboard/`` and ``portal_urlpatterns`` under ``portal/``. The API's routes are in
``feedback.api.urls``."""

from django.urls import path

from feedback.views import dashboard, portal, reports

dashboard_urlpatterns = [
    path("feedback/settings/", dashboard.survey_settings_page, name="feedback_settings"),
    path("feedback/rules/new/", dashboard.followup_rule_page, name="feedback_rule_new"),
    path("feedback/rules/<int:rule_id>/", dashboard.followup_rule_page, name="feedback_rule"),
    path("feedback/responses/", dashboard.responses_list, name="feedback_responses"),
    path("feedback/recovery/", dashboard.recovery_list, name="feedback_recovery"),
    path("feedback/recovery/<int:recovery_id>/close/", dashboard.recovery_close_view, name="feedback_recovery_close"),
    path("feedback/followups/", dashboard.followup_list, name="feedback_followups"),
    path("feedback/followups/<int:followup_id>/", dashboard.followup_page, name="feedback_followup"),
    path("reports/kpi/", reports.kpi_home_page, name="kpi_home"),
    path("quality/alerts/", reports.alert_list, name="quality_alerts"),
    path("quality/alerts/<int:pk>/", reports.alert_detail, name="quality_alert"),
    path("quality/alerts/<int:pk>/acknowledge/", reports.alert_acknowledge, name="quality_alert_acknowledge"),
    path("quality/alerts/<int:pk>/dismiss/", reports.alert_dismiss, name="quality_alert_dismiss"),
]

portal_urlpatterns = [
    path("<slug:merchant_slug>/survey/<str:token>/", portal.survey_page, name="survey"),
    path("<slug:merchant_slug>/tickets/<str:number>/rate/", portal.ticket_survey, name="ticket_survey"),
]
