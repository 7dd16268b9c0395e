"""The case hub's pages, in two lists the project's URLconfs include: ``dashboard_urlpatterns``
under ``dashboard/`` (the ``dashboard`` namespace) and ``portal_urlpatterns`` under ``portal/``
(the ``portal`` namespace). The API's routes are in ``tickets.api.urls``."""

from django.urls import path

from tickets.views import (
    dashboard,
    dashboard_complaints,
    dashboard_knowledge,
    mail,
    mail_display,
    portal,
    portal_complaints,
    portal_help,
    queue_tools,
    support,
)

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
    path("tickets/<str:number>/call/", mail.ticket_phone_call, name="ticket_phone_call"),
    path("reports/sla/", dashboard.sla_report, name="sla_report"),
    path("tickets/<str:number>/macro/", support.ticket_apply_macro, name="ticket_macro"),
    path("tickets/<str:number>/merge/", support.ticket_merge_into, name="ticket_merge"),
    path("tickets/<str:number>/links/", support.ticket_add_link, name="ticket_link"),
    path("tickets/<str:number>/links/<int:link_id>/remove/", support.ticket_remove_link, name="ticket_unlink"),
    path("tickets/<str:number>/pending-close/", support.ticket_set_pending_close, name="ticket_pending_close"),
    path(
        "tickets/<str:number>/pending-close/cancel/",
        support.ticket_cancel_pending_close,
        name="ticket_pending_close_cancel",
    ),
    path("tickets/<str:number>/auto-assign/", support.ticket_assign_automatically, name="ticket_auto_assign"),
    path("tickets/<str:number>/replying/", support.ticket_replying, name="ticket_replying"),
    path("routing/", support.routing_rules, name="routing_rules"),
    path("routing/rules/<int:pk>/", support.routing_rule_edit, name="routing_rule"),
    path("routing/rules/<int:pk>/move/", support.routing_rule_reorder, name="routing_rule_move"),
    path("routing/rules/<int:pk>/delete/", support.routing_rule_remove, name="routing_rule_delete"),
    path("routing/teams/<int:pk>/", support.team_assignment_edit, name="team_assignment"),
    path("routing/settings/", support.support_settings_edit, name="support_settings"),
    path("agents/", support.agents, name="agents"),
    path("agents/<int:user_id>/status/", support.agent_status, name="agent_status"),
    path("agents/<int:user_id>/", support.agent_edit, name="agent"),
    path("macros/", support.macros, name="macros"),
    path("macros/<int:pk>/", support.macro_edit, name="macro"),
    path("macros/<int:pk>/delete/", support.macro_remove, name="macro_delete"),
    path("mailboxes/", mail.mailboxes, name="mailboxes"),
    path("mailboxes/new/", mail.mailbox_new, name="mailbox_new"),
    path("mailboxes/<int:pk>/", mail.mailbox_detail, name="mailbox"),
    path("mailboxes/<int:pk>/test/", mail.mailbox_check, name="mailbox_test"),
    path("emails/<int:pk>/", mail_display.mail_view, name="mail_view"),
    path("emails/<int:pk>/html/", mail_display.mail_html, name="mail_html"),
    path("mailboxes/<int:pk>/fetch/", mail.mailbox_fetch, name="mailbox_fetch"),
    path("mailboxes/<int:pk>/remove/", mail.mailbox_remove_view, name="mailbox_remove"),
    path("mailboxes/<int:pk>/restore/", mail.mailbox_restore_view, name="mailbox_restore"),
    path("attachments/<int:pk>/", dashboard.attachment, name="attachment"),
    path("knowledge/", dashboard_knowledge.article_list, name="articles"),
    path("knowledge/new/", dashboard_knowledge.article_new, name="article_new"),
    path("knowledge/categories/", dashboard_knowledge.category_new, name="article_category_new"),
    path("knowledge/suggest/", dashboard_knowledge.article_suggest, name="article_suggest"),
    path("knowledge/<int:article_id>/", dashboard_knowledge.article_edit, name="article"),
    path("knowledge/<int:article_id>/status/", dashboard_knowledge.article_status, name="article_status"),
    path(
        "tickets/<str:number>/complaint/classify/", dashboard_complaints.complaint_classify, name="complaint_classify"
    ),
    path(
        "tickets/<str:number>/complaint/responsibility/",
        dashboard_complaints.complaint_responsibility,
        name="complaint_responsibility",
    ),
    path(
        "tickets/<str:number>/complaint/third-party-answer/",
        dashboard_complaints.complaint_third_party_answer,
        name="complaint_third_party_answer",
    ),
    path(
        "tickets/<str:number>/complaint/escalate/", dashboard_complaints.complaint_escalate, name="complaint_escalate"
    ),
    path(
        "tickets/<str:number>/complaint/compensations/",
        dashboard_complaints.compensation_propose,
        name="compensation_propose",
    ),
    path(
        "tickets/<str:number>/complaint/compensations/<int:pk>/",
        dashboard_complaints.compensation_act,
        name="compensation_act",
    ),
    path(
        "tickets/<str:number>/complaint/regulator/",
        dashboard_complaints.regulator_case_record,
        name="regulator_case_record",
    ),
    path(
        "tickets/<str:number>/complaint/regulator/<int:pk>/accept/",
        dashboard_complaints.regulator_case_accept,
        name="regulator_case_accept",
    ),
    path(
        "tickets/<str:number>/complaint/regulator/<int:pk>/answer/",
        dashboard_complaints.regulator_case_answer,
        name="regulator_case_answer",
    ),
    path(
        "tickets/<str:number>/complaint/close-out/",
        dashboard_complaints.complaint_close_out,
        name="complaint_close_out",
    ),
    path("reports/complaints/", dashboard_complaints.complaint_report, name="complaint_report"),
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
    path("<slug:merchant_slug>/help/", portal_help.help_home, name="help"),
    path("<slug:merchant_slug>/help/search/", portal_help.help_search, name="help_search"),
    path("<slug:merchant_slug>/help/suggest/", portal_help.help_suggest, name="help_suggest"),
    path("<slug:merchant_slug>/help/articles/<int:article_id>/", portal_help.help_article, name="help_article"),
    path(
        "<slug:merchant_slug>/help/articles/<int:article_id>/feedback/",
        portal_help.help_feedback,
        name="help_feedback",
    ),
    path(
        "<slug:merchant_slug>/help/articles/<int:article_id>/answered/",
        portal_help.help_answered,
        name="help_answered",
    ),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/escalate/",
        portal_complaints.complaint_escalate,
        name="complaint_escalate",
    ),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/compensations/<int:pk>/",
        portal_complaints.compensation_answer,
        name="compensation_answer",
    ),
]

# Outside both namespaces: a provider posts received mail here; the token names the mailbox.
hook_urlpatterns = [
    path("mail/<str:token>/", mail.mail_inbound, name="mail_inbound"),
]
