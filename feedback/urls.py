"""The pages of feedback, in the list the project's dashboard URLconf includes
(``dashboard_urlpatterns`` under ``dashboard/``, the ``dashboard`` namespace). The API's routes
are in ``feedback.api.urls``."""

from django.urls import path

from feedback.views import dashboard

dashboard_urlpatterns = [
    path("reports/kpi/", dashboard.kpi_home_page, name="kpi_home"),
    path("quality/alerts/", dashboard.alert_list, name="quality_alerts"),
    path("quality/alerts/<int:pk>/", dashboard.alert_detail, name="quality_alert"),
    path("quality/alerts/<int:pk>/acknowledge/", dashboard.alert_acknowledge, name="quality_alert_acknowledge"),
    path("quality/alerts/<int:pk>/dismiss/", dashboard.alert_dismiss, name="quality_alert_dismiss"),
]
