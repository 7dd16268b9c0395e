"""Included from ``aftersales.api.urls``, so every name here lives in the ``api`` namespace."""

from django.urls import path

from returns.api import views

urlpatterns = [
    path("returns/", views.ReturnListCreateApi.as_view(), name="return-list"),
    path("returns/<str:number>/", views.ReturnDetailApi.as_view(), name="return-detail"),
    path("returns/<str:number>/approve/", views.ReturnApproveApi.as_view(), name="return-approve"),
    path("returns/<str:number>/reject/", views.ReturnRejectApi.as_view(), name="return-reject"),
    path("returns/<str:number>/receive/", views.ReturnReceiveApi.as_view(), name="return-receive"),
    path("returns/<str:number>/inspect/", views.ReturnInspectApi.as_view(), name="return-inspect"),
    path(
        "returns/<str:number>/rejected-units/sent/",
        views.ReturnRejectedUnitsSentApi.as_view(),
        name="return-rejected-units-sent",
    ),
    path("returns/<str:number>/refund/", views.ReturnRefundApi.as_view(), name="return-refund"),
    path("returns/<str:number>/store-credit/", views.ReturnStoreCreditApi.as_view(), name="return-store-credit"),
    path("returns/<str:number>/exchange/", views.ReturnExchangeApi.as_view(), name="return-exchange"),
    path(
        "returns/<str:number>/exchange-difference/paid/",
        views.ReturnExchangeDifferencePaidApi.as_view(),
        name="return-exchange-difference-paid",
    ),
    path("returns/<str:number>/cancel/", views.ReturnCancelApi.as_view(), name="return-cancel"),
    path("returns/<str:number>/lost/", views.ReturnLostApi.as_view(), name="return-lost"),
    path("carrier-claims/", views.CarrierClaimListApi.as_view(), name="carrier-claim-list"),
    path("carrier-claims/<int:claim_id>/settle/", views.CarrierClaimSettleApi.as_view(), name="carrier-claim-settle"),
    path("carrier-claims/<int:claim_id>/reject/", views.CarrierClaimRejectApi.as_view(), name="carrier-claim-reject"),
    path(
        "carrier-claims/<int:claim_id>/withdraw/",
        views.CarrierClaimWithdrawApi.as_view(),
        name="carrier-claim-withdraw",
    ),
    path(
        "returns/<str:number>/refunds/<int:refund_id>/void/", views.RefundVoidApi.as_view(), name="return-refund-void"
    ),
]
