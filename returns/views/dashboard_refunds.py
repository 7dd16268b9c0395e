"""The settlement on the return's page: settle as a refund, as store credit or with a replacement,
the customer's payment of a price difference, and the refund ledger's payment calls (retry, pay,
confirm a manual payout) and corrections (a supervisor voids a refund not yet paid). Each action
is one service call; the payment call itself holds the role back here, since it takes no actor.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.exceptions import ApplicationError

# The dashboard's shared pieces (from the kernel): the staff check, the page frame, the keyset cursors.
from aftersales.pages import (
    act_and_return,
    staff_required,
)
from returns.forms.dashboard import (
    ConfirmPayoutForm,
    ExchangeDifferencePaidForm,
    ExchangeShipForm,
    SettleForm,
    VoidRefundForm,
)
from returns.models import (
    ExecutionState,
    RefundAdapterName,
    RefundMethod,
    RefundState,
    ReturnRequest,
)
from returns.roles import REFUND_ROLES
from returns.selectors import (
    return_ledger,
    return_lines_shown,
    settle_defaults,
)
from returns.selectors.order_refunds import order_refund_of_ticket
from returns.services import (
    exchange_difference_confirm_paid,
    exchange_ship,
    refund_confirm_manual,
    refund_execute,
    return_request_settle,
    store_credit_grant,
)
from returns.services import refund_void as refund_void_service
from returns.views.dashboard import act, act_on_form, return_or_404, return_page
from tickets.selectors import ticket_by_number


def _settle_form(request, return_request: ReturnRequest) -> SettleForm:
    lines = return_lines_shown(return_request)
    ledger = return_ledger(return_request=return_request)
    return SettleForm(request.POST, defaults=settle_defaults(return_request=return_request, lines=lines, ledger=ledger))


def _settle(request, number, service, success: str):
    return_request = return_or_404(request, number)
    form = _settle_form(request, return_request)
    return act_on_form(
        request,
        return_request,
        form,
        "settle_form",
        lambda: service(
            return_request=return_request,
            actor=request.user,
            lines=form.allocations(),
            reason=form.cleaned_data["reason"],
            shipping_amount=form.cleaned_data["shipping_amount"],
        ),
        success,
    )


@staff_required
@require_POST
def return_refund(request, number):
    """Refund to the original payment: the grant, then the payment call (after the grant commits)."""
    return _settle(request, number, return_request_settle, _("Refund granted."))


@staff_required
@require_POST
def return_store_credit(request, number):
    return _settle(request, number, store_credit_grant, _("Store credit granted."))


@staff_required
@require_POST
def return_exchange_ship(request, number):
    """The replacement parcel: the variant each line asked for unless staff typed another SKU;
    a cheaper variant's difference is refunded once the parcel is recorded."""
    return_request = return_or_404(request, number)
    form = ExchangeShipForm(request.POST, lines=list(return_request.lines.all()))
    return act_on_form(
        request,
        return_request,
        form,
        "exchange_form",
        lambda: exchange_ship(
            return_request=return_request,
            actor=request.user,
            lines=form.replacements(),
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
        ),
        _("Replacement shipped."),
    )


@staff_required
@require_POST
def return_exchange_difference_paid(request, number):
    return_request = return_or_404(request, number)
    form = ExchangeDifferencePaidForm(request.POST)
    return act_on_form(
        request,
        return_request,
        form,
        "difference_form",
        lambda: exchange_difference_confirm_paid(
            return_request=return_request, actor=request.user, reference=form.cleaned_data["reference"]
        ),
        _("Payment of the price difference confirmed; the replacement may ship."),
    )


def _refusal_to_refund(request, return_request: ReturnRequest):
    """The payment call itself takes no actor, so the page holds the role back."""
    if request.membership.role in REFUND_ROLES:
        return None
    messages.error(request, _("Your role does not allow refunds."))
    return redirect("dashboard:return", number=return_request.ticket.number)


def _pay(refund):
    """Call the refund's payment; a failed call is the action's refusal, in the provider's words."""
    execution = refund_execute(refund=refund)
    if execution.state == ExecutionState.FAILED:
        raise ApplicationError(
            _("The payment failed: %(error)s") % {"error": execution.error or _("no reason given")},
            code="refund_failed",
        )


@staff_required
@require_POST
def refund_retry(request, number, refund_id):
    return_request = return_or_404(request, number)
    refund = refund_or_404(return_request, refund_id)
    refused = _refusal_to_refund(request, return_request)
    if refused is not None:
        return refused
    if refund.state != RefundState.FAILED:
        messages.error(request, _("Only a failed payment is tried again."))
        return redirect("dashboard:return", number=return_request.ticket.number)
    return act(request, return_request, lambda: _pay(refund), _("Payment tried again and made."))


@staff_required
@require_POST
def refund_pay(request, number, refund_id):
    """Start the payment call of a refund granted but never called: the task that calls it after the
    grant was lost (a broker restart, say). Safe beside a late task: ``refund_execute`` makes one
    execution per refund and one call per lease."""
    return_request = return_or_404(request, number)
    refund = refund_or_404(return_request, refund_id)
    refused = _refusal_to_refund(request, return_request)
    if refused is not None:
        return refused
    if (
        refund.method != RefundMethod.ORIGINAL_PAYMENT
        or refund.state != RefundState.GRANTED
        or getattr(refund, "execution", None) is not None
    ):
        messages.error(request, _("Only a granted refund whose payment never started is started here."))
        return redirect("dashboard:return", number=return_request.ticket.number)
    return act(request, return_request, lambda: _pay(refund), _("Payment started."))


@staff_required
@require_POST
def refund_confirm(request, number, refund_id):
    return_request = return_or_404(request, number)
    refund = refund_or_404(return_request, refund_id)
    form = ConfirmPayoutForm(request.POST)
    if not form.is_valid():
        return return_page(request, return_request, status=400, confirm_form=form)
    execution = getattr(refund, "execution", None)
    if execution is None or execution.adapter != RefundAdapterName.MANUAL:
        messages.error(request, _("This refund is paid by the payment gateway, not by hand."))
        return redirect("dashboard:return", number=return_request.ticket.number)
    return act(
        request,
        return_request,
        lambda: refund_confirm_manual(
            execution=execution, actor=request.user, reference=form.cleaned_data["reference"]
        ),
        _("Payout confirmed."),
    )


@staff_required
@require_POST
def refund_void(request, number, refund_id):
    return_request = return_or_404(request, number)
    refund = refund_or_404(return_request, refund_id)
    form = VoidRefundForm(request.POST, refund_id=refund.pk)
    if not form.is_valid():
        return return_page(request, return_request, status=400, void_form=form)
    return act(
        request,
        return_request,
        lambda: refund_void_service(refund=refund, actor=request.user, reason=form.cleaned_data["reason"]),
        _("Refund voided: its units and amount can be settled again."),
    )


def refund_or_404(return_request: ReturnRequest, refund_id: int):
    refund = return_request.refunds.select_related("execution").filter(pk=refund_id).first()
    if refund is None:
        raise Http404(_("No such refund."))
    return refund


# --- refunds without a return (a complaint's compensation), from the case's page -----------------


def _order_refund_or_404(request, number: str, refund_id: int):
    ticket = ticket_by_number(membership=request.membership, number=number)
    refund = order_refund_of_ticket(ticket=ticket, refund_id=refund_id) if ticket is not None else None
    if ticket is None or refund is None:
        raise Http404(_("No such refund."))
    return ticket, refund


def _back_to_ticket(request, ticket, action, success: str):
    if request.membership.role not in REFUND_ROLES:
        messages.error(request, _("Your role does not allow refunds."))
        return redirect("dashboard:ticket", number=ticket.number)
    return act_and_return(request, action, success, reverse("dashboard:ticket", kwargs={"number": ticket.number}))


@staff_required
@require_POST
def order_refund_retry(request, number, refund_id):
    """Start, or try again, the payment of a refund granted without a return: a failed call, or
    one whose task was lost. ``refund_execute`` makes one call per lease under the grant's key."""
    ticket, refund = _order_refund_or_404(request, number, refund_id)
    if refund.state not in (RefundState.FAILED, RefundState.GRANTED):
        messages.error(request, _("Only a failed payment is tried again."))
        return redirect("dashboard:ticket", number=ticket.number)
    return _back_to_ticket(request, ticket, lambda: _pay(refund), _("Payment started."))


@staff_required
@require_POST
def order_refund_confirm(request, number, refund_id):
    ticket, refund = _order_refund_or_404(request, number, refund_id)
    form = ConfirmPayoutForm(request.POST)
    execution = getattr(refund, "execution", None)
    if execution is None or execution.adapter != RefundAdapterName.MANUAL:
        messages.error(request, _("This refund is paid by the payment gateway, not by hand."))
        return redirect("dashboard:ticket", number=ticket.number)
    if not form.is_valid():
        messages.error(request, _("Enter the payout reference from the shop's back office."))
        return redirect("dashboard:ticket", number=ticket.number)
    return _back_to_ticket(
        request,
        ticket,
        lambda: refund_confirm_manual(
            execution=execution, actor=request.user, reference=form.cleaned_data["reference"]
        ),
        _("Payout confirmed."),
    )
