"""The customer's way to return items from the portal: pick units, a reason and a resolution; see
the estimate; add photos and confirm. Then the return's box on its ticket page, with a cancel
button while the return may still be withdrawn.

Access is the portal's: the merchant from the URL, the orders the session verified (another
order is a 404). Nothing is written before the customer confirms: the choices wait in the
session, keyed by order, and are checked again against the policy at every step.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.models import Customer, Order
from aftersales.portal import portal_customers, portal_order_ids, portal_verified_required
from aftersales.selectors import orders_of
from returns.forms import ReturnConfirmForm, ReturnStartForm
from returns.models import Resolution, ReturnLine, ReturnRequest, ReturnStatus
from returns.selectors import (
    order_return_terms,
    refund_estimates,
    return_reasons_active,
    return_request_of_ticket,
    return_steps_public,
    window_last_day,
)
from returns.services import return_request_cancel, return_request_create
from tickets.models import Ticket, TicketChannel, TicketKind
from tickets.selectors import ticket_for_customer

# {str(order id): the start form's values as text}: the choices between the two steps.
RETURN_DRAFTS_KEY = "aftersales_return_drafts"

# The kinds of case a return request opens (see ``returns.services.requests.KIND_BY_RESOLUTION``).
RETURN_TICKET_KINDS = frozenset({TicketKind.RETURN, TicketKind.EXCHANGE, TicketKind.REFUND_ONLY})

# The resolutions that need the item back; the others settle without a parcel.
ITEM_COMES_BACK = frozenset({Resolution.REFUND, Resolution.STORE_CREDIT, Resolution.EXCHANGE})

# What the estimate is, in the customer's words, by what they asked for.
ESTIMATE_LABELS = {
    Resolution.REFUND: gettext_lazy("Estimated refund"),
    Resolution.REFUND_ONLY: gettext_lazy("Estimated refund"),
    Resolution.STORE_CREDIT: gettext_lazy("Estimated store credit"),
    Resolution.EXCHANGE: gettext_lazy("Value towards your exchange"),
    Resolution.KEEP_ITEM: gettext_lazy("Refund at most"),
}


@dataclass(frozen=True)
class ReturnStatusWords:
    label: str
    explanation: str
    tone: str  # the portal's CSS modifiers: waiting, progress, done, closed


S = ReturnStatus
# A return's status in the customer's words: what happens next and whose move it is.
RETURN_STATUS_WORDS = {
    S.SUBMITTED: ReturnStatusWords(
        gettext_lazy("Sent to the shop"), gettext_lazy("The shop will review your return and tell you."), "progress"
    ),
    S.NEEDS_REVIEW: ReturnStatusWords(
        gettext_lazy("Being reviewed"),
        gettext_lazy("A member of the shop's team is looking at your return."),
        "progress",
    ),
    S.APPROVED: ReturnStatusWords(
        gettext_lazy("Approved"),
        gettext_lazy("The shop accepted your return. We will tell you the next step."),
        "progress",
    ),
    S.REJECTED: ReturnStatusWords(
        gettext_lazy("Declined"), gettext_lazy("The shop did not accept this return. The reason is below."), "waiting"
    ),
    S.ESCALATED: ReturnStatusWords(
        gettext_lazy("With a supervisor"), gettext_lazy("A supervisor is looking at your return again."), "progress"
    ),
    S.AWAITING_SHIPMENT: ReturnStatusWords(
        gettext_lazy("Waiting for your parcel"), gettext_lazy("Please send the items back to the shop."), "waiting"
    ),
    S.IN_TRANSIT: ReturnStatusWords(
        gettext_lazy("On its way"), gettext_lazy("Your parcel is on its way to the shop."), "progress"
    ),
    S.RECEIVED: ReturnStatusWords(
        gettext_lazy("Received"), gettext_lazy("The shop has your parcel and will check the items."), "progress"
    ),
    S.INSPECTED: ReturnStatusWords(
        gettext_lazy("Checked"), gettext_lazy("The shop has checked the items and is settling your return."), "progress"
    ),
    S.SETTLING: ReturnStatusWords(
        gettext_lazy("Being settled"), gettext_lazy("Your refund, credit or exchange is under way."), "progress"
    ),
    S.ACTION_REQUIRED: ReturnStatusWords(
        gettext_lazy("Delayed"),
        gettext_lazy("Something held up the settlement; the shop is on it and will tell you."),
        "progress",
    ),
    S.COMPLETED: ReturnStatusWords(gettext_lazy("Completed"), gettext_lazy("This return is settled."), "done"),
    S.CANCELLED: ReturnStatusWords(gettext_lazy("Cancelled"), gettext_lazy("This return was cancelled."), "closed"),
    S.EXPIRED: ReturnStatusWords(
        gettext_lazy("Expired"), gettext_lazy("The items were not sent back in time, so this return lapsed."), "closed"
    ),
}
del S

# The return's own public steps, by event verb. A verb not listed here is not shown; whoever adds
# a step (shipment, inspection, refund, …) adds its sentence here.
RETURN_STEP_LABELS = {
    "return_submitted": gettext_lazy("You sent the return request"),
    "return_approved": gettext_lazy("The shop approved your return"),
    "return_rejected": gettext_lazy("The shop declined your return"),
    "return_cancelled": gettext_lazy("The return was cancelled"),
}
# The words of the shop that come with a step, by the event data key that holds them.
RETURN_STEP_NOTES = {"return_approved": "note", "return_rejected": "reason"}


def _context(request, **extra) -> dict:
    merchant = request.merchant
    return {"merchant": merchant, "portal_verified": bool(portal_order_ids(request, merchant)), **extra}


def _verified_order_or_404(request, order_id: int) -> Order:
    if order_id not in portal_order_ids(request, request.merchant):
        raise Http404
    order = orders_of(request.merchant).filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


# --- the draft between the two steps -------------------------------------------------------------


def _draft(request, order: Order) -> dict | None:
    return request.session.get(RETURN_DRAFTS_KEY, {}).get(str(order.pk))


def _draft_keep(request, order: Order, values: dict) -> None:
    drafts = dict(request.session.get(RETURN_DRAFTS_KEY, {}))
    drafts[str(order.pk)] = values
    request.session[RETURN_DRAFTS_KEY] = drafts


def _draft_drop(request, order: Order) -> None:
    drafts = dict(request.session.get(RETURN_DRAFTS_KEY, {}))
    if drafts.pop(str(order.pk), None) is not None:
        request.session[RETURN_DRAFTS_KEY] = drafts


def _start_form(request, order: Order, data=None) -> ReturnStartForm:
    merchant = request.merchant
    return ReturnStartForm(
        data,
        order_terms=order_return_terms(merchant=merchant, order=order),
        reasons=return_reasons_active(merchant=merchant),
    )


# --- step 1: which units, why, what the customer would like -------------------------------------


@portal_verified_required
@require_http_methods(["GET", "POST"])
def return_start(request, merchant_slug, order_id):
    order = _verified_order_or_404(request, order_id)
    if request.method == "POST":
        form = _start_form(request, order, request.POST)
        if form.is_valid():
            _draft_keep(request, order, form.draft())
            return redirect("portal:return_review", merchant_slug=request.merchant.slug, order_id=order.pk)
    else:
        # Back from the review ("Change"), the choices are there again, checked against now.
        form = _start_form(request, order, _draft(request, order))
    return render(request, "portal/returns/start.html", _context(request, order=order, form=form))


# --- step 2: the estimate, photos, confirm -------------------------------------------------------


@portal_verified_required
@require_http_methods(["GET", "POST"])
def return_review(request, merchant_slug, order_id):
    order = _verified_order_or_404(request, order_id)
    merchant = request.merchant
    draft = _draft(request, order)
    if draft is None:
        messages.info(request, _("Choose the items you want to return first."))
        return redirect("portal:return_start", merchant_slug=merchant.slug, order_id=order.pk)
    start = _start_form(request, order, draft)
    if not start.is_valid():
        # Time passed (a window closed) or another request took the units: back to the choices,
        # which show why.
        messages.warning(request, _("Something has changed since you chose; please check your return again."))
        return redirect("portal:return_start", merchant_slug=merchant.slug, order_id=order.pk)
    chosen = start.cleaned_data["chosen"]
    estimates = refund_estimates(chosen=chosen)
    form = ReturnConfirmForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        photos_required=any(estimate.terms.photos_required for estimate in estimates),
    )
    if request.method == "POST" and form.is_valid():
        try:
            return_request = return_request_create(
                order=order,
                customer=order.customer,
                lines=[(estimate.line, estimate.quantity) for estimate in estimates],
                reason=start.cleaned_data["reason"],
                resolution=start.cleaned_data["resolution"],
                note=start.cleaned_data["description"],
                files=form.cleaned_data["photos"],
                channel=TicketChannel.PORTAL,
            )
        except ApplicationError as exc:
            form.add_error(form.service_error_field(exc), exc.message)
        else:
            _draft_drop(request, order)
            number = return_request.ticket.number
            messages.success(
                request,
                _("Thank you. Your return %(number)s has been sent; we will tell you by e-mail or text message.")
                % {"number": number},
            )
            return redirect("portal:ticket", merchant_slug=merchant.slug, number=number)
    resolution = start.cleaned_data["resolution"]
    policy = start.order_terms.policy
    return render(
        request,
        "portal/returns/review.html",
        _context(
            request,
            order=order,
            form=form,
            reason=start.cleaned_data["reason"],
            resolution_label=Resolution(resolution).label,
            is_exchange=resolution == Resolution.EXCHANGE,
            item_comes_back=resolution in ITEM_COMES_BACK,
            return_address=policy.return_address if policy else "",
            description=start.cleaned_data["description"],
            estimates=estimates,
            estimate_label=ESTIMATE_LABELS[resolution],
            total_paid=sum((estimate.paid_amount for estimate in estimates), Decimal("0")),
            total_fee=sum((estimate.restocking_fee_amount for estimate in estimates), Decimal("0")),
            total_refund=sum((estimate.refund_amount for estimate in estimates), Decimal("0")),
        ),
    )


# --- the return on its ticket page ---------------------------------------------------------------


@dataclass(frozen=True)
class ReturnBoxLine:
    line: ReturnLine
    last_day: date | None  # of the window promised when the return was sent
    restocking_fee_percent: Decimal


@dataclass(frozen=True)
class ReturnStep:
    label: str
    when: datetime
    note: str = ""


@dataclass(frozen=True)
class ReturnBox:
    return_request: ReturnRequest
    status: ReturnStatusWords
    lines: list[ReturnBoxLine]
    steps: list[ReturnStep]
    can_cancel: bool

    @property
    def refund_amount(self) -> Decimal:
        return sum((box_line.line.refund_amount for box_line in self.lines), Decimal("0"))

    @property
    def restocking_fee_percent(self) -> Decimal:
        return max((box_line.restocking_fee_percent for box_line in self.lines), default=Decimal("0"))


def _box_line(return_line: ReturnLine, terms: dict, zone: ZoneInfo) -> ReturnBoxLine:
    promised = terms.get(str(return_line.order_line_id), {})
    ends_at = promised.get("window_ends_at")
    return ReturnBoxLine(
        line=return_line,
        last_day=window_last_day(datetime.fromisoformat(ends_at), zone) if ends_at else None,
        restocking_fee_percent=Decimal(promised.get("restocking_fee_percent") or "0"),
    )


def return_box_context(request, *, ticket: Ticket, customer: Customer | None) -> dict:
    """The ``return_box`` of a ticket page (None when the case is not a return), for
    ``templates/portal/returns/_return_box.html``. ``customer`` is the session's customer who
    owns the ticket, or None: only the owner gets the cancel button."""
    if ticket.kind not in RETURN_TICKET_KINDS:
        return {"return_box": None}
    return_request = return_request_of_ticket(ticket=ticket)
    if return_request is None:
        return {"return_box": None}
    zone = ZoneInfo(request.merchant.timezone)
    steps = [
        ReturnStep(
            label=RETURN_STEP_LABELS[event.verb],
            when=event.created_at,
            note=event.data.get(RETURN_STEP_NOTES.get(event.verb, ""), ""),
        )
        for event in return_steps_public(return_request=return_request)
        if event.verb in RETURN_STEP_LABELS
    ]
    box = ReturnBox(
        return_request=return_request,
        status=RETURN_STATUS_WORDS[return_request.status],
        lines=[_box_line(line, return_request.terms, zone) for line in return_request.lines.all()],
        steps=steps,
        can_cancel=(
            customer is not None
            and customer.pk == return_request.customer_id
            and return_request.can_transition_to(ReturnStatus.CANCELLED)
        ),
    )
    return {"return_box": box}


@require_POST
@portal_verified_required
def return_cancel(request, merchant_slug, number):
    merchant = request.merchant
    ticket = ticket_for_customer(merchant=merchant, order_ids=portal_order_ids(request, merchant), number=number)
    return_request = return_request_of_ticket(ticket=ticket) if ticket is not None else None
    if return_request is None:
        raise Http404
    customer = portal_customers(request, merchant).filter(pk=return_request.customer_id).first()
    if customer is None:
        messages.error(request, _("Only the customer who sent this return can cancel it."))
    else:
        try:
            return_request_cancel(return_request=return_request, customer=customer)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your return has been cancelled."))
    return redirect("portal:ticket", merchant_slug=merchant.slug, number=ticket.number)
