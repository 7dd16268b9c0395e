"""The case hub's pages, in two lists the project's URLconfs include: ``dashboard_urlpatterns``
under ``dashboard/`` (the ``dashboard`` namespace) and ``portal_urlpatterns`` under ``portal/``
(the ``portal`` namespace). The API's routes are in ``tickets.api.urls``."""

from django.urls import path

from tickets.views import dashboard, portal, queue_tools

dashboard_urlpatterns = [
    path("merchant/", dashboard.switch_merchant, name="switch_merchant"),
    path("", dashboard.queue, name="queue"),
    path("queue/bulk/", queue_tools.queue_bulk, name="queue_bulk"),
    path("queue/views/", queue_tools.saved_view_create, name="saved_view_create"),
    path("queue/views/<int:pk>/delete/", queue_tools.saved_view_delete, name="saved_view_delete"),
    # Before tickets/<number>/, which would otherwise take "new" for a number.
    path("tickets/new/", dashboard.ticket_new, name="ticket_new"),
    path("tickets/<str:number>/", dashboard.ticket_detail, name="ticket"),
    path("tickets/<str:number>/reply/", dashboard.ticket_reply, name="ticket_reply"),
    path("tickets/<str:number>/note/", dashboard.ticket_note, name="ticket_note"),
    path("tickets/<str:number>/assign/", dashboard.ticket_assign, name="ticket_assign"),
    path("tickets/<str:number>/status/", dashboard.ticket_status, name="ticket_status"),
    path("tickets/<str:number>/priority/", dashboard.ticket_priority, name="ticket_priority"),
    path("tickets/<str:number>/tags/", dashboard.ticket_tags, name="ticket_tags"),
    path("tickets/<str:number>/remind/", dashboard.ticket_remind, name="ticket_remind"),
    path("tickets/<str:number>/remind/cancel/", dashboard.ticket_remind_cancel, name="ticket_remind_cancel"),
    path("reports/sla/", dashboard.sla_report, name="sla_report"),
    path("attachments/<int:pk>/", dashboard.attachment, name="attachment"),
]

portal_urlpatterns = [
    path("", portal.index, name="index"),
    path("<slug:merchant_slug>/", portal.home, name="home"),
    path("<slug:merchant_slug>/verify/", portal.verify, name="verify"),
    path("<slug:merchant_slug>/logout/", portal.logout, name="logout"),
    path("<slug:merchant_slug>/orders/<int:order_id>/", portal.order_detail, name="order"),
    path("<slug:merchant_slug>/orders/<int:order_id>/new/", portal.ticket_new, name="ticket_new"),
    path("<slug:merchant_slug>/tickets/<str:number>/", portal.ticket_detail, name="ticket"),
    path("<slug:merchant_slug>/case/<str:token>/", portal.case_link, name="case_link"),
    path("<slug:merchant_slug>/attachments/<int:pk>/", portal.attachment, name="attachment"),
]
