from django.urls import path

from tickets.views import portal

urlpatterns = [
    path("<slug:merchant_slug>/", portal.home, name="home"),
]
