from django.urls import path

from returns.views import portal as returns_portal
from tickets.views import portal

urlpatterns = [
    path("", portal.index, name="index"),
    path("<slug:merchant_slug>/", portal.home, name="home"),
    path("<slug:merchant_slug>/verify/", portal.verify, name="verify"),
    path("<slug:merchant_slug>/logout/", portal.logout, name="logout"),
    path("<slug:merchant_slug>/orders/<int:order_id>/", portal.order_detail, name="order"),
    path("<slug:merchant_slug>/orders/<int:order_id>/new/", portal.ticket_new, name="ticket_new"),
    path("<slug:merchant_slug>/tickets/<str:number>/", portal.ticket_detail, name="ticket"),
    path("<slug:merchant_slug>/attachments/<int:pk>/", portal.attachment, name="attachment"),
]

# Returns (returns/views/portal.py): choose, review and confirm; from the ticket page, cancel, choose
# how to send it back, add the tracking number, revise or escalate after a rejection.
urlpatterns += [
    path("<slug:merchant_slug>/orders/<int:order_id>/return/", returns_portal.return_start, name="return_start"),
    path(
        "<slug:merchant_slug>/orders/<int:order_id>/return/confirm/",
        returns_portal.return_confirm,
        name="return_confirm",
    ),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/return/cancel/",
        returns_portal.return_cancel,
        name="return_cancel",
    ),
    path("<slug:merchant_slug>/tickets/<str:number>/return/ship/", returns_portal.return_ship, name="return_ship"),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/return/tracking/",
        returns_portal.return_tracking,
        name="return_tracking",
    ),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/return/revise/",
        returns_portal.return_revise,
        name="return_revise",
    ),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/return/escalate/",
        returns_portal.return_escalate,
        name="return_escalate",
    ),
]
