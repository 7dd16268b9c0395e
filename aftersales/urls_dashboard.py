from django.contrib.auth import views as auth_views
from django.urls import path

from returns.views import dashboard as returns_dashboard
from tickets.views import dashboard

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="dashboard/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("merchant/", dashboard.switch_merchant, name="switch_merchant"),
    path("", dashboard.queue, name="queue"),
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
    # Returns (issue 4): the queue of return requests, one return, and its decisions.
    path("returns/", returns_dashboard.return_list, name="returns"),
    path("returns/<str:number>/", returns_dashboard.return_detail, name="return"),
    path("returns/<str:number>/approve/", returns_dashboard.return_approve, name="return_approve"),
    path("returns/<str:number>/reject/", returns_dashboard.return_reject, name="return_reject"),
    path("returns/<str:number>/cancel/", returns_dashboard.return_cancel, name="return_cancel"),
]
