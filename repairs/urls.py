"""The pages of repairs, in two lists the project's URLconfs include: ``dashboard_urlpatterns``
under ``dashboard/`` and ``portal_urlpatterns`` under ``portal/``. The API's are in
``repairs.api.urls``."""

from django.urls import path

from repairs.views import dashboard, dispatch, dispatch_portal, manage, portal

dashboard_urlpatterns = [
    path("technicians/", manage.technicians, name="repair_technicians"),
    path("technicians/<int:technician_id>/", manage.technician, name="repair_technician"),
    path("technicians/<int:technician_id>/time-off/", manage.technician_time_off, name="repair_technician_time_off"),
    path(
        "technicians/<int:technician_id>/time-off/<int:time_off_id>/remove/",
        manage.technician_time_off_delete,
        name="repair_technician_time_off_remove",
    ),
    path("parts/", manage.parts, name="repair_parts"),
    path("parts/<int:part_id>/", manage.part, name="repair_part"),
    path("stock/", manage.stock, name="repair_stock"),
    path("stock/receive/", manage.stock_receive, name="repair_stock_receive"),
    path("stock/<int:stock_id>/transfer/", manage.stock_transfer, name="repair_stock_transfer"),
    path("stock/<int:stock_id>/adjust/", manage.stock_adjust, name="repair_stock_adjust"),
    path("dispatch/", dispatch.dispatch_board, name="dispatch_board"),
    path("dispatch/plan/", dispatch.dispatch_plan_apply, name="dispatch_plan_apply"),
    path("dispatch/visits/<int:visit_id>/assign/", dispatch.dispatch_assign, name="dispatch_assign"),
    path("dispatch/visits/<int:visit_id>/signature/", dashboard.visit_signature, name="visit_signature"),
    path("my-day/", dispatch.my_day, name="my_day"),
    path("my-day/visits/<int:visit_id>/check-out/", dispatch.my_visit_check_out, name="my_visit_check_out"),
    path("my-day/visits/<int:visit_id>/photos/", dispatch.my_visit_photos, name="my_visit_photos"),
    path("my-day/visits/<int:visit_id>/work/<slug:step>/", dispatch.my_visit_work, name="my_visit_work"),
    path("my-day/visits/<int:visit_id>/<slug:step>/", dispatch.my_visit_step, name="my_visit_step"),
    path("repairs/<str:number>/quote/parts/", dashboard.quote_part_search, name="repair_quote_parts"),
    path("repairs/<str:number>/<slug:action>/", dashboard.repair_action, name="repair_action"),
]

portal_urlpatterns = [
    path("<slug:merchant_slug>/repairs/<str:number>/visit/", dispatch_portal.repair_visit, name="repair_visit"),
    path(
        "<slug:merchant_slug>/repairs/<str:number>/visit/cancel/",
        dispatch_portal.repair_visit_cancel,
        name="repair_visit_cancel",
    ),
    path("<slug:merchant_slug>/repairs/lines/<int:line_id>/", portal.repair_request, name="repair_request"),
    path("<slug:merchant_slug>/repairs/registrations/", portal.registration_new, name="repair_registrations"),
    path("<slug:merchant_slug>/repairs/<str:number>/quote/<slug:answer>/", portal.repair_quote, name="repair_quote"),
    path("<slug:merchant_slug>/repairs/<str:number>/confirm/", portal.repair_confirm, name="repair_confirm"),
    path("<slug:merchant_slug>/quotes/<str:token>/", portal.repair_quote_link, name="repair_quote_link"),
]
