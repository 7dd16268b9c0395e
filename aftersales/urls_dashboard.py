"""The staff dashboard (the ``dashboard`` namespace): sign-in, then each app's pages from its own
``urls.py``."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from aftersales.views import export_download, exports_list
from feedback import urls as feedback_urls
from repairs import urls as repairs_urls
from returns import urls as returns_urls
from tickets import urls as tickets_urls

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="dashboard/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("exports/", exports_list, name="exports"),
    path("exports/<int:job_id>/download/", export_download, name="export_download"),
    path("", include(tickets_urls.dashboard_urlpatterns)),
    path("", include(returns_urls.dashboard_urlpatterns)),
    path("", include(feedback_urls.dashboard_urlpatterns)),
    path("", include(repairs_urls.dashboard_urlpatterns)),
]
