"""Included from ``aftersales.api.urls``, so every name here lives in the ``api`` namespace."""

from django.urls import path

from repairs.api import views

urlpatterns = [
    path("repairs/", views.RepairListCreateApi.as_view(), name="repair-list"),
    path("repair-report/", views.RepairReportApi.as_view(), name="repair-report"),
    path("repairs/<str:number>/", views.RepairDetailApi.as_view(), name="repair-detail"),
    *[
        path(f"repairs/<str:number>/{name.replace('_', '-')}/", view.as_view(), name=f"repair-{name.replace('_', '-')}")
        for name, view in views.ACTIONS.items()
    ],
]
