"""The pages of repairs, in two lists the project's URLconfs include: ``dashboard_urlpatterns``
under ``dashboard/`` and ``portal_urlpatterns`` under ``portal/``. The API's are in
``repairs.api.urls``."""

from django.urls import path

from repairs.views import dashboard, portal

dashboard_urlpatterns = [
    path("repairs/<str:number>/<slug:action>/", dashboard.repair_action, name="repair_action"),
]

portal_urlpatterns = [
    path("<slug:merchant_slug>/repairs/lines/<int:line_id>/", portal.repair_request, name="repair_request"),
    path("<slug:merchant_slug>/repairs/registrations/", portal.registration_new, name="repair_registrations"),
    path("<slug:merchant_slug>/repairs/<str:number>/quote/<slug:answer>/", portal.repair_quote, name="repair_quote"),
    path("<slug:merchant_slug>/repairs/<str:number>/confirm/", portal.repair_confirm, name="repair_confirm"),
    path("<slug:merchant_slug>/quotes/<str:token>/", portal.repair_quote_link, name="repair_quote_link"),
]
