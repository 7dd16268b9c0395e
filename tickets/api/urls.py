"""Included from ``aftersales.api.urls``, so every name here lives in the ``api`` namespace."""

from django.urls import path

from tickets.api import calls, complaints, knowledge, support, views

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
    path("macros/", support.MacroListApi.as_view(), name="macro-list"),
    path("tickets/<str:number>/macros/<int:pk>/apply/", support.MacroApplyApi.as_view(), name="ticket-macro-apply"),
    path("tickets/<str:number>/merge/", support.TicketMergeApi.as_view(), name="ticket-merge"),
    path("tickets/<str:number>/links/", support.TicketLinksApi.as_view(), name="ticket-links"),
    path("tickets/<str:number>/links/<int:pk>/", support.TicketLinkDeleteApi.as_view(), name="ticket-link"),
    path("tickets/<str:number>/duplicates/", support.TicketDuplicatesApi.as_view(), name="ticket-duplicates"),
    path("articles/", knowledge.ArticleListApi.as_view(), name="article-list"),
    path("articles/search/", knowledge.ArticleSearchApi.as_view(), name="article-search"),
    path("articles/<int:article_id>/", knowledge.ArticleDetailApi.as_view(), name="article-detail"),
    path("tickets/<str:number>/complaint/", complaints.ComplaintDetailApi.as_view(), name="complaint-detail"),
    path(
        "tickets/<str:number>/complaint/classify/",
        complaints.ComplaintClassifyApi.as_view(),
        name="complaint-classify",
    ),
    path(
        "tickets/<str:number>/complaint/responsibility/",
        complaints.ComplaintResponsibilityApi.as_view(),
        name="complaint-responsibility",
    ),
    path(
        "tickets/<str:number>/complaint/escalate/",
        complaints.ComplaintEscalateApi.as_view(),
        name="complaint-escalate",
    ),
    path(
        "tickets/<str:number>/complaint/compensations/",
        complaints.CompensationProposeApi.as_view(),
        name="complaint-compensations",
    ),
    path(
        "tickets/<str:number>/complaint/compensations/<int:pk>/",
        complaints.CompensationActionApi.as_view(),
        name="complaint-compensation-action",
    ),
    path(
        "tickets/<str:number>/complaint/third-party-answer/",
        complaints.ComplaintThirdPartyAnswerApi.as_view(),
        name="complaint-third-party-answer",
    ),
    path(
        "tickets/<str:number>/complaint/compensations/<int:pk>/approve/",
        complaints.CompensationApproveApi.as_view(),
        name="complaint-compensation-approve",
    ),
    path(
        "tickets/<str:number>/complaint/compensations/<int:pk>/answer/",
        complaints.CompensationAnswerApi.as_view(),
        name="complaint-compensation-answer",
    ),
    path(
        "tickets/<str:number>/complaint/compensations/<int:pk>/pay/",
        complaints.CompensationPayApi.as_view(),
        name="complaint-compensation-pay",
    ),
    path(
        "tickets/<str:number>/complaint/compensations/<int:pk>/withdraw/",
        complaints.CompensationWithdrawApi.as_view(),
        name="complaint-compensation-withdraw",
    ),
    path(
        "tickets/<str:number>/complaint/regulator-cases/",
        complaints.RegulatorCaseRecordApi.as_view(),
        name="complaint-regulator-cases",
    ),
    path(
        "tickets/<str:number>/complaint/regulator-cases/<int:pk>/accept/",
        complaints.RegulatorCaseAcceptApi.as_view(),
        name="complaint-regulator-case-accept",
    ),
    path(
        "tickets/<str:number>/complaint/regulator-cases/<int:pk>/answer/",
        complaints.RegulatorCaseAnswerApi.as_view(),
        name="complaint-regulator-case-answer",
    ),
    path(
        "tickets/<str:number>/complaint/close-out/",
        complaints.ComplaintCloseOutApi.as_view(),
        name="complaint-close-out",
    ),
]
