"""The staff dashboard's returns: the queue of return requests, one return, and its decisions.

Every read starts from the request's membership through ``returns.dashboard_selectors``, which
sees what ``tickets_visible_to`` sees: another merchant's return, or any return for a technician,
is a 404 like one that does not exist. Every action is one service call; a domain refusal comes
back as a message on the return's page, and nothing is changed.
"""

from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.exceptions import ApplicationError
from returns.dashboard_forms import ApproveForm, RejectForm, ReturnFilterForm
from returns.dashboard_selectors import (
    ReturnKey,
    customer_return_history,
    may_work_returns,
    return_by_number,
    return_lines_shown,
    return_photos,
    return_queue_page,
    review_reasons_shown,
)
from returns.models import ReturnRequest, ReturnStatus
from returns.services import return_request_approve, return_request_cancel, return_request_reject

# The dashboard's shared pieces: the staff check, the page frame, and the keyset cursors.
from tickets.views.dashboard import _aware, _decode_cursor, _encode_cursor, _render, staff_required


def _forbidden(request):
    return _render(request, "dashboard/returns/forbidden.html", {}, status=403)


# --- the returns queue ----------------------------------------------------------------------------


def encode_return_key(key: ReturnKey) -> str:
    return _encode_cursor(["returns", key.submitted_at.isoformat(), key.id])


def decode_return_key(value: str) -> ReturnKey | None:
    """A cursor from the URL, or None for anything that is not one (the first page is shown)."""
    match _decode_cursor(value):
        case ["returns", str() as submitted_at, int() as pk]:
            instant = _aware(submitted_at)
            return ReturnKey(submitted_at=instant, id=pk) if instant is not None else None
    return None


@staff_required
@require_GET
def return_list(request):
    membership = request.membership
    if not may_work_returns(membership):
        return _forbidden(request)
    form = ReturnFilterForm(request.GET or None)
    filters = form.filters()
    page = return_queue_page(
        membership=membership,
        filters=filters,
        after=decode_return_key(request.GET.get("after", "")),
        before=decode_return_key(request.GET.get("before", "")),
    )
    context = {
        "form": form,
        "returns": page.returns,
        "next_cursor": encode_return_key(page.next_key) if page.next_key else None,
        "previous_cursor": encode_return_key(page.previous_key) if page.previous_key else None,
        "is_filtered": filters != type(filters)(),
    }
    return _render(request, "dashboard/returns/list.html", context)


# --- one return -----------------------------------------------------------------------------------


def _return_or_404(request, number: str) -> ReturnRequest:
    return_request = return_by_number(membership=request.membership, number=number)
    if return_request is None:
        raise Http404(_("No such return."))
    return return_request


def _return_page(request, return_request: ReturnRequest, *, status: int = 200, **bound_forms):
    """The return's page; a form that failed validation is passed in bound, to show its errors."""
    lines = return_lines_shown(return_request)
    context = {
        "return_request": return_request,
        "ticket": return_request.ticket,
        "lines": lines,
        "item_count": sum(shown.line.quantity for shown in lines),
        "estimated_refund": sum((shown.refund_amount for shown in lines), Decimal("0.00")),
        "photos": return_photos(return_request=return_request),
        "review_reasons": review_reasons_shown(return_request),
        "history": customer_return_history(membership=request.membership, customer=return_request.customer),
        "can_approve": return_request.can_transition_to(ReturnStatus.APPROVED),
        "can_reject": return_request.can_transition_to(ReturnStatus.REJECTED),
        "can_cancel": return_request.can_transition_to(ReturnStatus.CANCELLED),
        "approve_form": ApproveForm(),
        "reject_form": RejectForm(),
        **bound_forms,
    }
    return _render(request, "dashboard/returns/detail.html", context, status=status)


@staff_required
@require_GET
def return_detail(request, number):
    return _return_page(request, _return_or_404(request, number))


def _act(request, return_request: ReturnRequest, action, success: str):
    """Run one service call; show its refusal, or the success, and go back to the return."""
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("dashboard:return", number=return_request.ticket.number)


@staff_required
@require_POST
def return_approve(request, number):
    return_request = _return_or_404(request, number)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _return_page(request, return_request, status=400, approve_form=form)
    return _act(
        request,
        return_request,
        lambda: return_request_approve(
            return_request=return_request, actor=request.user, note=form.cleaned_data["note"]
        ),
        _("Return approved."),
    )


@staff_required
@require_POST
def return_reject(request, number):
    return_request = _return_or_404(request, number)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _return_page(request, return_request, status=400, reject_form=form)
    return _act(
        request,
        return_request,
        lambda: return_request_reject(
            return_request=return_request, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        _("Return rejected; the customer sees your reason."),
    )


@staff_required
@require_POST
def return_cancel(request, number):
    return_request = _return_or_404(request, number)
    return _act(
        request,
        return_request,
        lambda: return_request_cancel(return_request=return_request, actor=request.user),
        _("Return cancelled on the customer's behalf."),
    )
