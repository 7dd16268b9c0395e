"""Included from ``aftersales.api.urls``, so every name here lives in the ``api`` namespace."""

from django.urls import path

from repairs.api import claims, dispatch, views

urlpatterns = [
    path("repairs/<str:number>/slots/", dispatch.RepairSlotsApi.as_view(), name="repair-slots"),
    path("repairs/<str:number>/visits/", dispatch.RepairVisitBookApi.as_view(), name="repair-visit-book"),
    path("dispatch/slots/", dispatch.AddressSlotsApi.as_view(), name="dispatch-slots"),
    path("dispatch/days/<str:day>/visits/", dispatch.DayVisitsApi.as_view(), name="dispatch-day-visits"),
    path("dispatch/days/<str:day>/plan/", dispatch.DayPlanApplyApi.as_view(), name="dispatch-day-plan"),
    path(
        "technicians/<int:technician_id>/days/<str:day>/",
        dispatch.TechnicianDayApi.as_view(),
        name="technician-day",
    ),
    path("supplier-claims/", claims.SupplierClaimListCreateApi.as_view(), name="supplier-claim-list"),
    path("supplier-claims/<int:claim_id>/", claims.SupplierClaimDetailApi.as_view(), name="supplier-claim-detail"),
    *[
        path(f"supplier-claims/<int:claim_id>/{name}/", view.as_view(), name=f"supplier-claim-{name}")
        for name, view in claims.MOVES.items()
    ],
    path("repairs/", views.RepairListCreateApi.as_view(), name="repair-list"),
    path("repair-report/", views.RepairReportApi.as_view(), name="repair-report"),
    path("repairs/<str:number>/", views.RepairDetailApi.as_view(), name="repair-detail"),
    *[
        path(f"repairs/<str:number>/{name.replace('_', '-')}/", view.as_view(), name=f"repair-{name.replace('_', '-')}")
        for name, view in views.ACTIONS.items()
    ],
]
