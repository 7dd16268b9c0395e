"""The customer portal (the ``portal`` namespace): each app's pages from its own ``urls.py``."""

from django.urls import include, path

from repairs import urls as repairs_urls
from returns import urls as returns_urls
from tickets import urls as tickets_urls

urlpatterns = [
    path("", include(tickets_urls.portal_urlpatterns)),
    path("", include(returns_urls.portal_urlpatterns)),
    path("", include(repairs_urls.portal_urlpatterns)),
]
