"""The dashboard's feedback pages: survey settings and follow-up rules (supervisors), the
responses list with agent and technician scores, the recovery queue, the follow-up queue and one
follow-up's call page. Every read starts from the request's merchant; every action is one service
call, whose refusal comes back as a message with nothing changed."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.exports import export_format, export_links, export_response
from aftersales.pages import (
    act_and_return,
    cursor_decode,
    cursor_encode,
    cursor_instant,
    render_dashboard,
    staff_required,
)
from feedback.exports import FOLLOWUP_COLUMNS, RECOVERY_COLUMNS, RESPONSE_COLUMNS
from feedback.forms.dashboard import (
    CallForm,
    FollowUpRuleForm,
    RecoveryCloseForm,
    ResponseFilterForm,
    SurveySettingsForm,
)
from feedback.models import RecoveryStatus
from feedback.roles import may_manage_surveys, may_see_feedback
from feedback.selectors import (
    ResponseKey,
    agent_scores,
    followup_detail,
    followup_queue,
    followup_rules_of,
    followups_queued,
    recovery_queue,
    responses_for_export,
    responses_page,
    survey_settings_of,
    technician_scores,
)
from feedback.services import followup_record_call, followup_rule_save, recovery_close, survey_settings_save


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render_dashboard(request, "dashboard/feedback/forbidden.html", {}, status=403)


def _decode_key(value: str) -> ResponseKey | None:
    match cursor_decode(value):
        case ["responses", str() as answered_at, int() as pk]:
            instant = cursor_instant(answered_at)
            return ResponseKey(answered_at=instant, id=pk) if instant is not None else None
    return None


@staff_required
@require_http_methods(["GET", "POST"])
def survey_settings_page(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    if not may_manage_surveys(membership):
        return _forbidden(request)
    current = survey_settings_of(membership.merchant_id)
    form = SurveySettingsForm(request.POST or None, instance=current, prefix="settings")
    rule_form = FollowUpRuleForm(prefix="rule")
    if request.method == "POST" and form.is_valid():
        try:
            survey_settings_save(merchant=membership.merchant, actor=request.user, values=form.cleaned_data)  # type: ignore[arg-type]
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Survey settings saved."))
            return redirect("dashboard:feedback_settings")
    return render_dashboard(
        request,
        "dashboard/feedback/settings.html",
        {"form": form, "rule_form": rule_form, "rules": list(followup_rules_of(merchant_id=membership.merchant_id))},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def followup_rule_page(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    if not may_manage_surveys(membership):
        return _forbidden(request)
    rule = None
    if rule_id is not None:
        rule = followup_rules_of(merchant_id=membership.merchant_id).filter(pk=rule_id).first()
        if rule is None:
            raise Http404
    form = FollowUpRuleForm(request.POST or None, instance=rule, prefix="rule")
    if request.method == "POST" and form.is_valid():
        try:
            followup_rule_save(merchant=membership.merchant, actor=request.user, values=form.cleaned_data, rule=rule)  # type: ignore[arg-type]
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Follow-up rule saved."))
            return redirect("dashboard:feedback_settings")
    return render_dashboard(
        request,
        "dashboard/feedback/rule.html",
        {"form": form, "rule": rule},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@staff_required
@require_GET
def responses_list(request: HttpRequest) -> HttpResponseBase:
    membership = request.membership  # type: ignore[attr-defined]
    if not may_see_feedback(membership):
        return _forbidden(request)
    form = ResponseFilterForm(request.GET or None)
    filters = form.filters()
    file_format = export_format(request.GET.get("export"))
    if file_format:
        rows = responses_for_export(merchant_id=membership.merchant_id, filters=filters)
        return export_response(rows=rows, columns=RESPONSE_COLUMNS, stem="survey-responses", file_format=file_format)
    page = responses_page(
        merchant_id=membership.merchant_id, filters=filters, after=_decode_key(request.GET.get("after", ""))
    )
    next_cursor = (
        cursor_encode(["responses", page.next_key.answered_at.isoformat(), page.next_key.id]) if page.next_key else None
    )
    return render_dashboard(
        request,
        "dashboard/feedback/responses.html",
        {
            "form": form,
            "page": page,
            "next_cursor": next_cursor,
            "is_later_page": bool(request.GET.get("after")),
            "export_links": export_links(request.GET),
            "agents": agent_scores(merchant_id=membership.merchant_id),
            "technicians": technician_scores(merchant_id=membership.merchant_id),
        },
    )


@staff_required
@require_GET
def recovery_list(request: HttpRequest) -> HttpResponseBase:
    membership = request.membership  # type: ignore[attr-defined]
    if not may_see_feedback(membership):
        return _forbidden(request)
    closed = request.GET.get("status") == RecoveryStatus.CLOSED
    queue = recovery_queue(
        merchant_id=membership.merchant_id, status=RecoveryStatus.CLOSED if closed else RecoveryStatus.OPEN
    )
    file_format = export_format(request.GET.get("export"))
    if file_format:
        return export_response(rows=queue, columns=RECOVERY_COLUMNS, stem="recovery-cases", file_format=file_format)
    cases = list(queue[:200])
    return render_dashboard(
        request,
        "dashboard/feedback/recovery.html",
        {
            "cases": cases,
            "closed": closed,
            "export_links": export_links(request.GET),
            "close_form": RecoveryCloseForm(),
            "may_close": may_manage_surveys(membership),
            "now": timezone.now(),
        },
    )


@staff_required
@require_POST
def recovery_close_view(request: HttpRequest, recovery_id: int) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    recovery = recovery_queue(merchant_id=membership.merchant_id).filter(pk=recovery_id).first()
    if recovery is None:
        raise Http404
    form = RecoveryCloseForm(request.POST)
    back = reverse("dashboard:feedback_recovery")
    if not form.is_valid():
        messages.error(request, _("Check the outcome and try again."))
        return redirect(back)
    data = form.cleaned_data
    return act_and_return(
        request,
        lambda: recovery_close(
            recovery=recovery,
            actor=request.user,  # type: ignore[arg-type]
            reached=data["reached"],
            resolved=data["resolved"],
            compensated=data["compensated"],
            note=data["note"],
        ),
        _("Recovery case closed."),
        back,
    )


@staff_required
@require_GET
def followup_list(request: HttpRequest) -> HttpResponseBase:
    membership = request.membership  # type: ignore[attr-defined]
    if not may_see_feedback(membership):
        return _forbidden(request)
    include_later = request.GET.get("show") == "all"
    file_format = export_format(request.GET.get("export"))
    if file_format:
        rows = followups_queued(merchant_id=membership.merchant_id, include_later=include_later)
        return export_response(rows=rows, columns=FOLLOWUP_COLUMNS, stem="follow-ups", file_format=file_format)
    return render_dashboard(
        request,
        "dashboard/feedback/followups.html",
        {
            "followups": followup_queue(merchant_id=membership.merchant_id, include_later=include_later),
            "include_later": include_later,
            "export_links": export_links(request.GET),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def followup_page(request: HttpRequest, followup_id: int) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    if not may_see_feedback(membership):
        return _forbidden(request)
    detail = followup_detail(merchant_id=membership.merchant_id, followup_id=followup_id)
    if detail is None:
        raise Http404
    form = CallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            followup_record_call(followup=detail.followup, actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Call recorded."))
            return redirect("dashboard:feedback_followup", followup_id=followup_id)
    return render_dashboard(
        request,
        "dashboard/feedback/followup.html",
        {"detail": detail, "followup": detail.followup, "form": form},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
