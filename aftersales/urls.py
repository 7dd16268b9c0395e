from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from aftersales.views import healthz
from tickets import urls as tickets_urls

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:queue", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("portal/", include(("aftersales.urls_portal", "portal"))),
    path("dashboard/", include(("aftersales.urls_dashboard", "dashboard"))),
    path("api/v1/", include(("aftersales.api.urls", "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("hooks/", include(tickets_urls.hook_urlpatterns)),
]

handler404 = "aftersales.views.page_not_found"
