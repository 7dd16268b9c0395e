"""The pages of returns, in two lists the project's URLconfs include: ``dashboard_urlpatterns``
under ``dashboard/`` (the ``dashboard`` namespace) and ``portal_urlpatterns`` under ``portal/``
(the ``portal`` namespace). The API's routes are in ``returns.api.urls``."""

from django.urls import path

from returns.views import dashboard, dashboard_claims, dashboard_parcels, dashboard_refunds, portal, reports

# The queue of return requests, one return and its decisions, the claims list, the report.
dashboard_urlpatterns = [
    path("reports/returns/", reports.returns_report_page, name="returns_report"),
    path("returns/", dashboard.return_list, name="returns"),
    path("returns/scan/", dashboard.return_scan, name="return_scan"),
    path("returns/claims/", dashboard_claims.carrier_claim_list, name="carrier_claims"),
    path("returns/bulk/", dashboard.return_bulk, name="return_bulk"),
    path("returns/<str:number>/", dashboard.return_detail, name="return"),
    path("returns/<str:number>/approve/", dashboard.return_approve, name="return_approve"),
    path("returns/<str:number>/reject/", dashboard.return_reject, name="return_reject"),
    path("returns/<str:number>/cancel/", dashboard.return_cancel, name="return_cancel"),
    path("returns/<str:number>/tracking/", dashboard_parcels.return_tracking, name="return_tracking"),
    path("returns/<str:number>/pickup/", dashboard_parcels.return_pickup, name="return_pickup"),
    path("returns/<str:number>/receive/", dashboard_parcels.return_receive, name="return_receive"),
    path("returns/<str:number>/lost/", dashboard_claims.return_declare_lost, name="return_declare_lost"),
    path(
        "returns/<str:number>/claims/<int:claim_id>/settle/",
        dashboard_claims.carrier_claim_settle_view,
        name="carrier_claim_settle",
    ),
    path(
        "returns/<str:number>/claims/<int:claim_id>/reject/",
        dashboard_claims.carrier_claim_reject_view,
        name="carrier_claim_reject",
    ),
    path(
        "returns/<str:number>/claims/<int:claim_id>/withdraw/",
        dashboard_claims.carrier_claim_withdraw_view,
        name="carrier_claim_withdraw",
    ),
    path("returns/<str:number>/inspect/", dashboard_parcels.return_inspect, name="return_inspect"),
    path(
        "returns/<str:number>/rejected-units/sent/",
        dashboard_parcels.return_rejected_units_sent,
        name="return_rejected_units_sent",
    ),
    path("returns/<str:number>/refund/", dashboard_refunds.return_refund, name="return_refund"),
    path("returns/<str:number>/store-credit/", dashboard_refunds.return_store_credit, name="return_store_credit"),
    path("returns/<str:number>/exchange/", dashboard_refunds.return_exchange_ship, name="return_exchange_ship"),
    path(
        "returns/<str:number>/exchange/difference-paid/",
        dashboard_refunds.return_exchange_difference_paid,
        name="return_exchange_difference_paid",
    ),
    path("returns/<str:number>/escalation/", dashboard.return_decide_escalation, name="return_decide_escalation"),
    path("returns/<str:number>/refunds/<int:refund_id>/retry/", dashboard_refunds.refund_retry, name="refund_retry"),
    path("returns/<str:number>/refunds/<int:refund_id>/pay/", dashboard_refunds.refund_pay, name="refund_pay"),
    path(
        "returns/<str:number>/refunds/<int:refund_id>/confirm/", dashboard_refunds.refund_confirm, name="refund_confirm"
    ),
    path("returns/<str:number>/refunds/<int:refund_id>/void/", dashboard_refunds.refund_void, name="refund_void"),
    path(
        "tickets/<str:number>/refunds/<int:refund_id>/pay/",
        dashboard_refunds.order_refund_retry,
        name="order_refund_retry",
    ),
    path(
        "tickets/<str:number>/refunds/<int:refund_id>/confirm/",
        dashboard_refunds.order_refund_confirm,
        name="order_refund_confirm",
    ),
]

# Choose, review and confirm a return; from the ticket page, cancel, choose how to send it back,
# add the tracking number, revise or escalate after a rejection.
portal_urlpatterns = [
    path("<slug:merchant_slug>/orders/<int:order_id>/return/", portal.return_start, name="return_start"),
    path(
        "<slug:merchant_slug>/orders/<int:order_id>/return/confirm/",
        portal.return_confirm,
        name="return_confirm",
    ),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/return/cancel/",
        portal.return_cancel,
        name="return_cancel",
    ),
    path("<slug:merchant_slug>/tickets/<str:number>/return/ship/", portal.return_ship, name="return_ship"),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/return/tracking/",
        portal.return_tracking,
        name="return_tracking",
    ),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/return/revise/",
        portal.return_revise,
        name="return_revise",
    ),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/return/escalate/",
        portal.return_escalate,
        name="return_escalate",
    ),
]
