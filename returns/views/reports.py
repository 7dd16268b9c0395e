"""The returns report page: refund and stage times, return rates and mixes over a period.

Like the SLA report: supervisors and merchant admins only, whole days of the merchant's time zone
(the one the middleware made current), the last 30 days by default.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django.views.decorators.http import require_GET

from aftersales.pages import render_dashboard, staff_required
from aftersales.periods import ReportPeriodForm
from returns.reports import returns_report


@staff_required
@require_GET
def returns_report_page(request):
    membership = request.membership
    if not membership.is_supervisor:
        return render_dashboard(request, "dashboard/forbidden.html", {}, status=403)
    bound = "start" in request.GET or "end" in request.GET
    form = ReportPeriodForm(request.GET if bound else None, today=timezone.localdate())
    first_day, last_day = form.period()
    zone = timezone.get_current_timezone()
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
    context = {
        "form": form,
        "first_day": first_day,
        "last_day": last_day,
        "report": returns_report(merchant=membership.merchant, start=start, end=end),
    }
    return render_dashboard(request, "dashboard/returns/report.html", context)
