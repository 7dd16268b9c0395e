from django.contrib.auth import views as auth_views
from django.urls import path

from returns.views import dashboard as returns_dashboard
from returns.views import dashboard_refunds as returns_dashboard_refunds
from returns.views import reports as returns_reports
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
    path("reports/returns/", returns_reports.returns_report_page, name="returns_report"),
    path("attachments/<int:pk>/", dashboard.attachment, name="attachment"),
    # Returns (issue 4): the queue of return requests, one return, and its decisions.
    path("returns/", returns_dashboard.return_list, name="returns"),
    path("returns/scan/", returns_dashboard.return_scan, name="return_scan"),
    path("returns/claims/", returns_dashboard.carrier_claim_list, name="carrier_claims"),
    path("returns/bulk/", returns_dashboard.return_bulk, name="return_bulk"),
    path("returns/<str:number>/", returns_dashboard.return_detail, name="return"),
    path("returns/<str:number>/approve/", returns_dashboard.return_approve, name="return_approve"),
    path("returns/<str:number>/reject/", returns_dashboard.return_reject, name="return_reject"),
    path("returns/<str:number>/cancel/", returns_dashboard.return_cancel, name="return_cancel"),
    path("returns/<str:number>/tracking/", returns_dashboard.return_tracking, name="return_tracking"),
    path("returns/<str:number>/pickup/", returns_dashboard.return_pickup, name="return_pickup"),
    path("returns/<str:number>/receive/", returns_dashboard.return_receive, name="return_receive"),
    path("returns/<str:number>/lost/", returns_dashboard.return_declare_lost, name="return_declare_lost"),
    path(
        "returns/<str:number>/claims/<int:claim_id>/settle/",
        returns_dashboard.carrier_claim_settle_view,
        name="carrier_claim_settle",
    ),
    path(
        "returns/<str:number>/claims/<int:claim_id>/reject/",
        returns_dashboard.carrier_claim_reject_view,
        name="carrier_claim_reject",
    ),
    path(
        "returns/<str:number>/claims/<int:claim_id>/withdraw/",
        returns_dashboard.carrier_claim_withdraw_view,
        name="carrier_claim_withdraw",
    ),
    path("returns/<str:number>/inspect/", returns_dashboard.return_inspect, name="return_inspect"),
    path(
        "returns/<str:number>/rejected-units/sent/",
        returns_dashboard.return_rejected_units_sent,
        name="return_rejected_units_sent",
    ),
    path("returns/<str:number>/refund/", returns_dashboard.return_refund, name="return_refund"),
    path("returns/<str:number>/store-credit/", returns_dashboard.return_store_credit, name="return_store_credit"),
    path("returns/<str:number>/exchange/", returns_dashboard.return_exchange_ship, name="return_exchange_ship"),
    path(
        "returns/<str:number>/exchange/difference-paid/",
        returns_dashboard.return_exchange_difference_paid,
        name="return_exchange_difference_paid",
    ),
    path(
        "returns/<str:number>/escalation/", returns_dashboard.return_decide_escalation, name="return_decide_escalation"
    ),
    path("returns/<str:number>/refunds/<int:refund_id>/retry/", returns_dashboard.refund_retry, name="refund_retry"),
    path("returns/<str:number>/refunds/<int:refund_id>/pay/", returns_dashboard.refund_pay, name="refund_pay"),
    path(
        "returns/<str:number>/refunds/<int:refund_id>/confirm/", returns_dashboard.refund_confirm, name="refund_confirm"
    ),
    path(
        "returns/<str:number>/refunds/<int:refund_id>/void/", returns_dashboard_refunds.refund_void, name="refund_void"
    ),
]
