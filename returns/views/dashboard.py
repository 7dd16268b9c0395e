"""The staff dashboard's returns: the queue of return requests, one return, and its decisions.

Every read starts from the request's membership through ``returns.selectors``, which
sees what ``tickets_visible_to`` sees: another merchant's return, or any return for a technician,
is a 404 like one that does not exist. Every action is one service call; a domain refusal comes
back as a message on the return's page, and nothing is changed.
"""

from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.exports import export_format, export_links

# The dashboard's shared pieces (from the kernel): the staff check, the page frame, the keyset cursors.
from aftersales.pages import (
    act_and_return,
    cursor_decode,
    cursor_encode,
    cursor_instant,
    render_dashboard,
    staff_required,
)
from returns.forms.dashboard import (
    ApproveForm,
    BulkForm,
    ClaimRejectForm,
    ClaimSettleForm,
    ClaimWithdrawForm,
    ConfirmPayoutForm,
    EscalationDecisionForm,
    ExchangeDifferencePaidForm,
    ExchangeShipForm,
    InspectForm,
    LostParcelForm,
    PickupForm,
    ReceiveForm,
    RejectedUnitsSendForm,
    RejectForm,
    ReturnFilterForm,
    ScanForm,
    SettleForm,
    TrackingForm,
)
from returns.models import (
    ReturnRequest,
    ReturnStatus,
    ShipmentDirection,
    ShippingMethod,
)
from returns.roles import DECIDE_ROLES
from returns.selectors import (
    ReturnKey,
    customer_return_history,
    may_work_returns,
    return_actions,
    return_by_number,
    return_carrier_claims,
    return_clocks,
    return_ledger,
    return_lines_shown,
    return_photos,
    return_queue_page,
    return_shipments,
    returns_numbered,
    review_reasons_shown,
)
from returns.services import (
    return_request_approve,
    return_request_cancel,
    return_request_receive_by_tracking,
    return_request_reject,
    return_requests_bulk_approve,
    return_requests_bulk_receive,
)
from returns.views.exports import return_list_export
from tickets.models import Ticket


def forbidden(request):
    return render_dashboard(request, "dashboard/returns/forbidden.html", {}, status=403)


def encode_return_key(key: ReturnKey) -> str:
    return cursor_encode(["returns", key.submitted_at.isoformat(), key.id])


def decode_return_key(value: str) -> ReturnKey | None:
    """A cursor from the URL, or None for anything that is not one (the first page is shown)."""
    match cursor_decode(value):
        case ["returns", str() as submitted_at, int() as pk]:
            instant = cursor_instant(submitted_at)
            return ReturnKey(submitted_at=instant, id=pk) if instant is not None else None
    return None


@staff_required
@require_GET
def return_list(request):
    membership = request.membership
    if not may_work_returns(membership):
        return forbidden(request)
    form = ReturnFilterForm(request.GET or None)
    filters = form.filters()
    file_format = export_format(request.GET.get("export"))
    if file_format:
        return return_list_export(request, filters=filters, file_format=file_format)
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
        "scan_form": ScanForm(),
        "bulk_actions": BulkForm.base_fields["action"].choices,
        "export_links": export_links(request.GET),
    }
    return render_dashboard(request, "dashboard/returns/list.html", context)


def return_or_404(request, number: str) -> ReturnRequest:
    return_request = return_by_number(membership=request.membership, number=number)
    if return_request is None:
        raise Http404(_("No such return."))
    return return_request


def _later_steps(request, return_request: ReturnRequest, lines) -> dict:
    """What the page shows and offers after the decision: parcels, receipt, inspection, settlement."""
    shipments = return_shipments(return_request=return_request)
    inbound = next((s for s in shipments if s.direction == ShipmentDirection.TO_MERCHANT), None)
    ledger = return_ledger(return_request=return_request)
    actions = return_actions(
        membership=request.membership, return_request=return_request, lines=lines, shipments=shipments, ledger=ledger
    )
    defaults, units_left = actions.settle, actions.units_left
    receivable = [shown.line for shown in lines if shown.line.quantity > shown.line.quantity_received]
    rejected_parcel = next((s for s in shipments if s.direction == ShipmentDirection.TO_CUSTOMER), None)
    return {
        "shipments": shipments,
        "inbound": inbound,
        "rejected_parcel": rejected_parcel,
        "rejected_lines": [shown.line for shown in lines if shown.line.quantity_rejected],
        "can_send_back": actions.can_send_back,
        "send_back_form": RejectedUnitsSendForm(initial={"store_location": _collection_store(return_request, inbound)}),
        "ledger": ledger,
        "clocks": return_clocks(ticket=return_request.ticket),
        "can_track": actions.can_track,
        "can_book_pickup": actions.can_book_pickup,
        "can_receive": actions.can_receive,
        "can_inspect": actions.can_inspect,
        "settle": defaults,
        "can_refund": actions.can_refund,
        "can_store_credit": actions.can_store_credit,
        "can_exchange": actions.can_exchange,
        "exchange": actions.exchange,
        "can_confirm_difference": actions.can_confirm_difference,
        "difference_needs_role": actions.difference_needs_role,
        "may_refund": actions.may_refund,
        "refunds_need_role": actions.refunds_need_role,
        "inspected": any(shown.inspection is not None for shown in lines),
        "can_decide_escalation": actions.can_decide_escalation,
        "can_declare_lost": actions.can_declare_lost,
        "lost_needs_role": actions.lost_needs_role,
        # Only a parcel declared lost has a claim: no query for every other return.
        "carrier_claims": return_carrier_claims(return_request=return_request)
        if inbound is not None and inbound.lost_at is not None
        else [],
        "may_decide_claims": actions.may_claim,
        "lost_form": LostParcelForm(),
        "claim_settle_form": ClaimSettleForm(),
        "claim_reject_form": ClaimRejectForm(),
        "claim_withdraw_form": ClaimWithdrawForm(),
        "tracking_form": TrackingForm(),
        "pickup_form": PickupForm(),
        "receive_form": ReceiveForm(lines=receivable),
        "inspect_form": InspectForm(lines=[shown.line for shown in lines if shown.line.quantity_received]),
        "settle_form": SettleForm(defaults=defaults) if defaults is not None else None,
        "exchange_form": ExchangeShipForm(
            lines=[shown.line for shown in lines if units_left.get(shown.line.pk)], units_left=units_left
        ),
        "difference_form": ExchangeDifferencePaidForm(),
        "confirm_form": ConfirmPayoutForm(),
        "escalation_form": EscalationDecisionForm(),
    }


def _collection_store(return_request: ReturnRequest, inbound) -> str:
    """Where rejected units wait for the customer by default: the store the items were handed in
    at, else the order's store."""
    if inbound is not None and inbound.method == ShippingMethod.IN_STORE and inbound.store_location:
        return inbound.store_location
    return return_request.order.store.name


def return_page(request, return_request: ReturnRequest, *, status: int = 200, **bound_forms):
    """The return's page; a form that failed validation is passed in bound, to show its errors."""
    context = return_page_context(request, return_request, **bound_forms)
    return render_dashboard(request, "dashboard/returns/detail.html", context, status=status)


def return_actions_html(request, ticket: Ticket) -> str:
    """The return's decisions and next steps as the return's page shows them, for the ticket page
    (the staff box of returns/panels.py): each form comes back to the ticket page. Empty when the
    ticket has no return this member may see."""
    return_request = return_by_number(membership=request.membership, number=ticket.number)
    if return_request is None:
        return ""
    context = return_page_context(request, return_request)
    context["actions_next"] = reverse("dashboard:ticket", kwargs={"number": ticket.number})
    return render_to_string("dashboard/returns/_actions.html", context, request=request)


def return_page_context(request, return_request: ReturnRequest, **bound_forms) -> dict:
    lines = return_lines_shown(return_request)
    escalated = return_request.status == ReturnStatus.ESCALATED
    may_decide = request.membership.role in DECIDE_ROLES
    return {
        "return_request": return_request,
        "ticket": return_request.ticket,
        "lines": lines,
        "item_count": sum(shown.line.quantity for shown in lines),
        "estimated_refund": sum((shown.refund_amount for shown in lines), Decimal("0.00")),
        "photos": return_photos(return_request=return_request),
        "review_reasons": review_reasons_shown(return_request),
        "history": customer_return_history(membership=request.membership, customer=return_request.customer),
        # An escalated return is a supervisor's to decide, in its own box; the desk decides the rest.
        "can_approve": may_decide and return_request.can_transition_to(ReturnStatus.APPROVED) and not escalated,
        "can_reject": may_decide and return_request.can_transition_to(ReturnStatus.REJECTED) and not escalated,
        "decision_needs_role": not may_decide
        and not escalated
        and return_request.can_transition_to(ReturnStatus.APPROVED),
        "can_cancel": return_request.can_transition_to(ReturnStatus.CANCELLED),
        "approve_form": ApproveForm(),
        "reject_form": RejectForm(),
        **_later_steps(request, return_request, lines),
        **bound_forms,
    }


@staff_required
@require_GET
def return_detail(request, number):
    return return_page(request, return_or_404(request, number))


def act(request, return_request: ReturnRequest, action, success: str):
    """Run ``action`` (a service call) and come back to the return's page with its message, or to
    the ticket's page when the form was posted from there (its "next"; no other place is taken)."""
    number = return_request.ticket.number
    back_to = reverse("dashboard:return", kwargs={"number": number})
    ticket_page = reverse("dashboard:ticket", kwargs={"number": number})
    if request.POST.get("next") == ticket_page:
        back_to = ticket_page
    return act_and_return(request, action, success, back_to)


def act_on_form(request, return_request: ReturnRequest, form, form_name: str, action, success: str):
    """An action posted from one of the return page's forms: the page again with that form and its
    errors (400) when the input is wrong, else ``action`` as ``act`` runs it."""
    if not form.is_valid():
        page = return_page(request, return_request, status=400, **{form_name: form})
        if b'class="field__errors"' in page.content or b'class="form-errors"' in page.content:
            return page
        # The form is no longer on the page (another member moved the return on since this one
        # was loaded): its errors would show nowhere, so the page says why nothing happened.
        messages.error(
            request,
            _("Nothing was changed: this return is now “%(status)s” and that step is no longer open.")
            % {"status": return_request.get_status_display()},
        )
        return return_page(request, return_request, status=400, **{form_name: form})
    return act(request, return_request, action, success)


@staff_required
@require_POST
def return_approve(request, number):
    return_request = return_or_404(request, number)
    form = ApproveForm(request.POST)
    return act_on_form(
        request,
        return_request,
        form,
        "approve_form",
        lambda: return_request_approve(
            return_request=return_request, actor=request.user, note=form.cleaned_data["note"]
        ),
        _("Return approved."),
    )


@staff_required
@require_POST
def return_reject(request, number):
    return_request = return_or_404(request, number)
    form = RejectForm(request.POST)
    return act_on_form(
        request,
        return_request,
        form,
        "reject_form",
        lambda: return_request_reject(
            return_request=return_request, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        _("Return rejected; the customer sees your reason."),
    )


@staff_required
@require_POST
def return_cancel(request, number):
    return_request = return_or_404(request, number)
    return act(
        request,
        return_request,
        lambda: return_request_cancel(return_request=return_request, actor=request.user),
        _("Return cancelled on the customer's behalf."),
    )


@staff_required
@require_POST
def return_decide_escalation(request, number):
    return_request = return_or_404(request, number)
    form = EscalationDecisionForm(request.POST)
    if not form.is_valid():
        return return_page(request, return_request, status=400, escalation_form=form)
    note = form.cleaned_data["note"]
    if form.cleaned_data["decision"] == EscalationDecisionForm.APPROVE:
        return act(
            request,
            return_request,
            lambda: return_request_approve(return_request=return_request, actor=request.user, note=note),
            _("Escalation decided: the return is approved."),
        )
    return act(
        request,
        return_request,
        lambda: return_request_reject(return_request=return_request, actor=request.user, reason=note),
        _("Escalation decided: the return stays rejected, finally."),
    )


@staff_required
@require_POST
def return_scan(request):
    if not may_work_returns(request.membership):
        return forbidden(request)
    form = ScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the tracking number."))
        return redirect("dashboard:returns")
    try:
        received = return_request_receive_by_tracking(
            merchant=request.merchant, tracking_number=form.cleaned_data["tracking_number"], actor=request.user
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("dashboard:returns")
    number = received.ticket.number
    messages.success(request, _("%(number)s received in full.") % {"number": number})
    return redirect("dashboard:return", number=number)


BULK_SERVICES = {BulkForm.APPROVE: return_requests_bulk_approve, BulkForm.RECEIVE: return_requests_bulk_receive}


@staff_required
@require_POST
def return_bulk(request):
    membership = request.membership
    if not may_work_returns(membership):
        return forbidden(request)
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick at least one return and pick what to do."))
        return redirect("dashboard:returns")
    wanted = list(dict.fromkeys(form.cleaned_data["ids"]))
    numbers = returns_numbered(membership=membership, ids=wanted)
    outcomes = {
        outcome.id: outcome
        for outcome in BULK_SERVICES[form.cleaned_data["action"]](
            merchant=request.merchant, ids=[pk for pk in wanted if pk in numbers], actor=request.user
        )
    }
    done, summary = 0, []
    for pk in wanted:
        outcome = outcomes.get(pk)
        if outcome is None:  # another merchant's, or one this role does not work
            summary.append(_("#%(id)s: no such return") % {"id": pk})
        elif outcome.ok:
            done += 1
            summary.append(
                _("%(number)s: %(status)s") % {"number": numbers[pk], "status": ReturnStatus(outcome.status).label}
            )
        else:
            summary.append(_("%(number)s: %(message)s") % {"number": numbers[pk], "message": outcome.message})
    message = _("%(done)s of %(count)s done. %(details)s") % {
        "done": done,
        "count": len(wanted),
        "details": "; ".join(str(item) for item in summary),
    }
    (messages.success if done == len(wanted) else messages.warning)(request, message)
    return redirect("dashboard:returns")
