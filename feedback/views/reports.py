"""The dashboard's feedback pages: the KPI home with its charts and scorecards, and the quality
alerts (list, one alert, acknowledge, dismiss, export).

Supervisors and merchant admins only; every read starts from the request's merchant through
``feedback.selectors``; another merchant's alert is a 404 like one that does not exist.
"""

from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.exports import Column, export_format, export_links, export_response
from aftersales.pages import render_dashboard, staff_required
from feedback.forms.reports import AlertAcknowledgeForm, AlertDismissForm, AlertFilterForm, KpiFilterForm
from feedback.models import QualityAlert
from feedback.roles import may_see_reports
from feedback.selectors import KpiHome, alert_cases, alert_events, alert_of, alerts_of, kpi_home
from feedback.services import quality_alert_acknowledge, quality_alert_dismiss


def _backlog_ages() -> list[str]:
    return [_("Under 1 day"), _("1–3 days"), _("3–7 days"), _("Over 7 days")]


def forbidden(request):
    return render_dashboard(request, "dashboard/feedback/reports_forbidden.html", {}, status=403)


def _hours(minutes: Decimal | None) -> float | None:
    return None if minutes is None else round(float(minutes) / 60, 1)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def chart_data(home: KpiHome) -> dict:
    """What the charts draw (static/js/kpi_charts.js), with their labels in the page's language.
    The same numbers are in the tables under each chart."""
    days = [formats.date_format(day.day, "m-d") for day in home.days]
    return {
        "labels": {
            "median": _("Median (hours)"),
            "p90": _("90th percentile (hours)"),
            "opened": _("Opened"),
            "resolved": _("Resolved"),
            "met": _("Met"),
            "breached": _("Breached"),
            "returned": _("Units returned"),
            "rate": _("Return rate (%)"),
            "first_time_fix": _("Fixed at the first visit (%)"),
            "on_time": _("Arrived on time (%)"),
            "csat_percent": _("CSAT average, out of 5 (%)"),
        },
        "refund_cycle": {
            "days": days,
            "median": [_hours(day.figures.refund_cycle.median_minutes) for day in home.days],
            "p90": [_hours(day.figures.refund_cycle.p90_minutes) for day in home.days],
        },
        "volume": {
            "days": days,
            "opened": [day.figures.counts["created"] for day in home.days],
            "resolved": [day.figures.counts["resolved"] for day in home.days],
        },
        "sla": {
            "targets": [figure.label for figure in home.totals.sla],
            "met": [figure.met for figure in home.totals.sla],
            "breached": [figure.breached for figure in home.totals.sla],
        },
        "backlog": {
            "ages": home.backlog_ages,
            "series": [{"name": row.label, "counts": row.by_age} for row in home.backlog],
        },
        "skus": {
            "skus": [sku.sku for sku in home.skus],
            "rate": [float(sku.rate_percent) if sku.rate_percent is not None else 0 for sku in home.skus],
        },
        "reasons": [{"name": reason.name, "value": reason.returned_units} for reason in home.reasons],
        "technicians": {
            "names": [card.name for card in home.technicians],
            "first_time_fix": [_number(card.figures.first_time_fix_percent) for card in home.technicians],
            "on_time": [_number(card.figures.on_time_percent) for card in home.technicians],
            # On the same 0-100 axis as the rates: the average score as a share of the best (5).
            "csat": [
                None if card.figures.csat_average is None else round(float(card.figures.csat_average) * 20, 1)
                for card in home.technicians
            ],
        },
    }


@staff_required
@require_GET
def kpi_home_page(request):
    membership = request.membership
    if not may_see_reports(membership):
        return forbidden(request)
    form = KpiFilterForm(request.GET or None, merchant=membership.merchant)
    home = kpi_home(merchant=membership.merchant, filters=form.filters(), backlog_ages=_backlog_ages())
    context = {"form": form, "home": home, "chart_data": chart_data(home)}
    return render_dashboard(request, "dashboard/feedback/kpi_home.html", context)


PERCENT_PLACES = Decimal("0.01")
ALERT_COLUMNS = [
    Column(gettext_lazy("Detected"), lambda alert: alert.detected_on),
    Column(gettext_lazy("SKU"), lambda alert: alert.sku),
    Column(gettext_lazy("Product"), lambda alert: alert.product.name),
    Column(gettext_lazy("Category"), lambda alert: alert.category),
    Column(gettext_lazy("Method"), lambda alert: alert.get_method_display()),
    Column(gettext_lazy("Status"), lambda alert: alert.get_status_display()),
    Column(gettext_lazy("Units delivered"), lambda alert: alert.delivered_units),
    Column(gettext_lazy("Defect claims (units)"), lambda alert: alert.defect_units),
    Column(gettext_lazy("Rate (%)"), lambda alert: (alert.rate * 100).quantize(PERCENT_PLACES)),
    Column(gettext_lazy("Category rate (%)"), lambda alert: (alert.baseline_rate * 100).quantize(PERCENT_PLACES)),
    Column(gettext_lazy("First cohort"), lambda alert: alert.cohort_start),
    Column(gettext_lazy("Last cohort"), lambda alert: alert.cohort_end),
    Column(gettext_lazy("Top reasons"), lambda alert: "; ".join(str(r["reason"]) for r in alert.top_reasons)),
    Column(gettext_lazy("Note"), lambda alert: alert.note),
]


@staff_required
@require_GET
def alert_list(request):
    membership = request.membership
    if not may_see_reports(membership):
        return forbidden(request)
    form = AlertFilterForm(request.GET or None)
    alerts = alerts_of(membership.merchant, status=form.chosen_status())
    file_format = export_format(request.GET.get("export"))
    if file_format:
        return export_response(rows=alerts, columns=ALERT_COLUMNS, stem="quality-alerts", file_format=file_format)
    context = {"form": form, "alerts": alerts[:200], "export_links": export_links(request.GET)}
    return render_dashboard(request, "dashboard/feedback/alerts.html", context)


def _alert_or_404(request, pk: int) -> QualityAlert:
    alert = alert_of(request.membership.merchant, pk)
    if alert is None:
        raise Http404(_("No such alert."))
    return alert


def _alert_page(request, alert: QualityAlert, *, status: int = 200, **forms):
    context = {
        "alert": alert,
        "cases": list(alert_cases(alert)),
        "events": list(alert_events(alert)),
        "acknowledge_form": forms.get("acknowledge_form") or AlertAcknowledgeForm(),
        "dismiss_form": forms.get("dismiss_form") or AlertDismissForm(),
    }
    return render_dashboard(request, "dashboard/feedback/alert_detail.html", context, status=status)


@staff_required
@require_GET
def alert_detail(request, pk: int):
    if not may_see_reports(request.membership):
        return forbidden(request)
    return _alert_page(request, _alert_or_404(request, pk))


@staff_required
@require_POST
def alert_acknowledge(request, pk: int):
    if not may_see_reports(request.membership):
        return forbidden(request)
    alert = _alert_or_404(request, pk)
    form = AlertAcknowledgeForm(request.POST)
    if not form.is_valid():
        return _alert_page(request, alert, status=400, acknowledge_form=form)
    try:
        quality_alert_acknowledge(alert=alert, actor=request.user, note=form.cleaned_data["note"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Alert acknowledged."))
    return redirect(reverse("dashboard:quality_alert", kwargs={"pk": alert.pk}))


@staff_required
@require_POST
def alert_dismiss(request, pk: int):
    if not may_see_reports(request.membership):
        return forbidden(request)
    alert = _alert_or_404(request, pk)
    form = AlertDismissForm(request.POST)
    if not form.is_valid():
        return _alert_page(request, alert, status=400, dismiss_form=form)
    try:
        quality_alert_dismiss(alert=alert, actor=request.user, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Alert dismissed. Its cohorts no longer count for this product."))
    return redirect(reverse("dashboard:quality_alert", kwargs={"pk": alert.pk}))
