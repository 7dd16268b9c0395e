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

# Returns (returns/views/portal.py): choose, review and confirm; cancel from the ticket page.
urlpatterns += [
    path("<slug:merchant_slug>/orders/<int:order_id>/return/", returns_portal.return_start, name="return_start"),
    path(
        "<slug:merchant_slug>/orders/<int:order_id>/return/review/",
        returns_portal.return_review,
        name="return_review",
    ),
    path(
        "<slug:merchant_slug>/tickets/<str:number>/return/cancel/",
        returns_portal.return_cancel,
        name="return_cancel",
    ),
]
