"""The pages of repairs' dispatch, in the list the dashboard URLconf includes (``dashboard``
namespace). The API's routes are in ``repairs.api.urls``."""

from django.urls import path

from repairs.views import dispatch

dashboard_urlpatterns = [
    path("dispatch/", dispatch.dispatch_board, name="dispatch_board"),
    path("dispatch/plan/", dispatch.dispatch_plan_apply, name="dispatch_plan_apply"),
    path("dispatch/visits/<int:visit_id>/assign/", dispatch.dispatch_assign, name="dispatch_assign"),
    path("my-day/", dispatch.my_day, name="my_day"),
    path("my-day/visits/<int:visit_id>/check-out/", dispatch.my_visit_check_out, name="my_visit_check_out"),
    path("my-day/visits/<int:visit_id>/<slug:step>/", dispatch.my_visit_step, name="my_visit_step"),
]
