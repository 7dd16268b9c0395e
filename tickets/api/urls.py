"""Included from ``aftersales.api.urls``, so every name here lives in the ``api`` namespace."""

from django.urls import path

from tickets.api import calls, views

urlpatterns = [
    path("tickets/", views.TicketListCreateApi.as_view(), name="ticket-list"),
    path("tickets/<str:number>/", views.TicketDetailApi.as_view(), name="ticket-detail"),
    path("tickets/<str:number>/messages/", views.TicketMessagesApi.as_view(), name="ticket-messages"),
    path("tickets/<str:number>/assign/", views.TicketAssignApi.as_view(), name="ticket-assign"),
    path("tickets/<str:number>/status/", views.TicketStatusApi.as_view(), name="ticket-status"),
    path("tickets/<str:number>/priority/", views.TicketPriorityApi.as_view(), name="ticket-priority"),
    path("tickets/<str:number>/tags/", views.TicketTagsApi.as_view(), name="ticket-tags"),
    path("tickets/<str:number>/calls/", calls.TicketPhoneCallsApi.as_view(), name="ticket-calls"),
    path("sla-policies/", views.SlaPolicyListApi.as_view(), name="sla-policy-list"),
]
