"""The pages of feedback, in the list the project's dashboard URLconf includes
(``dashboard_urlpatterns`` under ``dashboard/``, the ``dashboard`` namespace). The API's routes
are in ``feedback.api.urls``."""

from django.urls import path

from feedback.views import reports

dashboard_urlpatterns = [
    path("reports/kpi/", reports.kpi_home_page, name="kpi_home"),
    path("quality/alerts/", reports.alert_list, name="quality_alerts"),
    path("quality/alerts/<int:pk>/", reports.alert_detail, name="quality_alert"),
    path("quality/alerts/<int:pk>/acknowledge/", reports.alert_acknowledge, name="quality_alert_acknowledge"),
    path("quality/alerts/<int:pk>/dismiss/", reports.alert_dismiss, name="quality_alert_dismiss"),
]
