"""The customer's way to return items from the portal: pick units, a reason and a resolution; see
the estimate; add photos and confirm. Then the return's box on its ticket page, with a cancel
button while the return may still be withdrawn.

Access is the portal's: the merchant from the URL, the orders the session verified (another
order is a 404). Nothing is written before the customer confirms, not even the session: the
review is the answer to the choices' POST and carries them in hidden fields to the confirm (and
back to the choices, to change them), the way a form preview does. Each step checks them again
against the policy of now, so hidden fields edited by hand buy nothing a fresh form would not.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.models import Customer, Deadline, Order, OrderLine
from aftersales.portal import portal_customers, portal_order_ids, portal_verified_required
from aftersales.services.notifications import notifications_deferred
from returns import timers
from returns.forms.portal import (
    ReturnConfirmForm,
    ReturnEscalateForm,
    ReturnReviseForm,
    ReturnShippingForm,
    ReturnStartForm,
    ReturnTrackingForm,
)
from returns.models import Resolution, ReturnLine, ReturnRequest, ReturnShipment, ReturnStatus, ShippingMethod
from returns.reports import AUTO_APPROVAL_NOTE, auto_approval_notes
from returns.selectors import (
    order_return_terms,
    portal_order_with_lines,
    refund_estimates,
    return_clocks,
    return_parcels,
    return_policy_of,
    return_reasons_active,
    return_request_of_ticket,
    return_steps_public,
    window_last_day,
)
from returns.services import (
    return_request_cancel,
    return_request_create,
    return_request_escalate,
    return_request_revise,
    return_shipping_choose,
    return_tracking_add,
)
from returns.variants import ExchangeWish, difference_totals
from tickets.models import Ticket, TicketChannel, TicketKind
from tickets.selectors import ticket_for_customer

if TYPE_CHECKING:
    from django.utils.safestring import SafeString
    from django_stubs_ext import StrOrPromise

# The review's "Change my choices" button posts the choices back to step 1 with this name.
CHANGE_CHOICES = "change"

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
    label: "StrOrPromise"
    explanation: "StrOrPromise"
    tone: str  # the portal's CSS modifiers: waiting, progress, done, closed


S = ReturnStatus
# A return's status in the customer's words: what happens next and whose move it is.
# Approved, and the items come back: the next move is the customer's, and it is not a reply.
APPROVED_SEND_BACK_WORDS = ReturnStatusWords(
    gettext_lazy("Approved: send the items back"),
    gettext_lazy("The shop accepted your return. Choose below how to send the items back."),
    "waiting",
)
RETURN_STATUS_WORDS: dict[str, ReturnStatusWords] = {
    S.SUBMITTED: ReturnStatusWords(
        gettext_lazy("Sent to the shop"), gettext_lazy("The shop will review your return and tell you."), "progress"
    ),
    S.NEEDS_REVIEW: ReturnStatusWords(
        gettext_lazy("Being reviewed"),
        gettext_lazy("A member of the shop's team is looking at your return."),
        "progress",
    ),
    # Refund-only and keep-the-item: nothing to send, the shop settles next.
    S.APPROVED: ReturnStatusWords(
        gettext_lazy("Approved"),
        gettext_lazy("The shop accepted your request and is settling it; we will tell you when it is done."),
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
# a step adds its sentence here.
RETURN_STEP_LABELS = {
    "return_submitted": gettext_lazy("You sent the return request"),
    "return_approved": gettext_lazy("The shop approved your return"),
    "return_rejected": gettext_lazy("The shop declined your return"),
    "return_cancelled": gettext_lazy("The return was cancelled"),
    "return_revised": gettext_lazy("You revised your request"),
    "return_escalated": gettext_lazy("You asked a supervisor to review the decision"),
    "return_rejection_final": gettext_lazy("The shop's decision became final"),
    "return_shipping_chosen": gettext_lazy("You chose how to send the items back"),
    "return_pickup_booked": gettext_lazy("The shop booked your pickup"),
    "return_in_transit": gettext_lazy("You sent the parcel"),
    "return_ship_reminder": gettext_lazy("We reminded you to send the parcel"),
    "return_expired": gettext_lazy("The return lapsed: the parcel was not sent in time"),
    "return_received": gettext_lazy("The shop received your parcel"),
    "return_inspected": gettext_lazy("The shop checked the items"),
    "return_accepted_uninspected": gettext_lazy("The shop accepted the items as you asked"),
    "return_parcel_lost": gettext_lazy("The parcel was lost in transit; we are settling your return anyway"),
    "return_rejected_units_sent": gettext_lazy("The shop sent back the items it could not accept"),
    "return_quick_refund": gettext_lazy("We started your refund while the parcel travels"),
    "return_settling": gettext_lazy("The shop is settling your return"),
    "return_completed": gettext_lazy("Your return is complete"),
    "refund_paid": gettext_lazy("Your refund was paid"),
    "store_credit_granted": gettext_lazy("Store credit was added for you"),
    "replacement_shipped": gettext_lazy("Your replacement is on its way"),
    "exchange_difference_paid": gettext_lazy("The shop received your payment of the price difference"),
    "exchange_difference_surplus": gettext_lazy(
        "The price difference you paid for replacements that are not sent is being refunded"
    ),
}
# The words that come with a step, by the event data key that holds them.
RETURN_STEP_NOTES = {"return_approved": "note", "return_rejected": "reason", "return_escalated": "note"}


@dataclass(frozen=True)
class Milestone:
    """One stage of the return's progress: submitted, approved, sent, received, checked, done."""

    code: str
    label: "StrOrPromise"
    verbs: frozenset[str]


M = Milestone
MILESTONE_SUBMITTED = M("submitted", gettext_lazy("Submitted"), frozenset({"return_submitted"}))
MILESTONE_APPROVED = M("approved", gettext_lazy("Approved"), frozenset({"return_approved"}))
MILESTONE_SENT = M("sent", gettext_lazy("Sent back"), frozenset({"return_in_transit"}))
MILESTONE_RECEIVED = M("received", gettext_lazy("Received by the shop"), frozenset({"return_received"}))
MILESTONE_INSPECTED = M(
    "inspected", gettext_lazy("Checked"), frozenset({"return_inspected", "return_accepted_uninspected"})
)
# A parcel the carrier lost is settled without being received or checked.
MILESTONE_LOST = M("lost", gettext_lazy("Lost in transit, settled anyway"), frozenset({"return_parcel_lost"}))
MILESTONE_REFUNDED = M("refunded", gettext_lazy("Refunded"), frozenset({"return_completed"}))
MILESTONE_COMPLETED = M("completed", gettext_lazy("Completed"), frozenset({"return_completed"}))
del M
REFUNDED_RESOLUTIONS = frozenset({Resolution.REFUND, Resolution.REFUND_ONLY, Resolution.KEEP_ITEM})
# Where a return stops moving: no stage is "current" any more.
RETURN_ENDED = frozenset({ReturnStatus.COMPLETED, ReturnStatus.CANCELLED, ReturnStatus.EXPIRED})

# The customer's deadlines, in their words.
DEADLINE_LABELS = {
    timers.CUSTOMER_SHIP: gettext_lazy("Send the items back by"),
    timers.REVISE: gettext_lazy("Revise your request or ask for a review by"),
}


def _context(request, **extra) -> dict:
    merchant = request.merchant
    return {"merchant": merchant, "portal_verified": bool(portal_order_ids(request, merchant)), **extra}


def _verified_order_or_404(request, order_id: int) -> tuple[Order, list[OrderLine]]:
    """The order (one of the session's verified ones) and its lines, read together."""
    if order_id not in portal_order_ids(request, request.merchant):
        raise Http404
    found = portal_order_with_lines(merchant=request.merchant, order_id=order_id)
    if found is None:
        raise Http404
    return found


def _start_form(request, order: Order, lines: list[OrderLine], data=None) -> ReturnStartForm:
    merchant = request.merchant
    return ReturnStartForm(
        data,
        order_terms=order_return_terms(merchant=merchant, order=order, lines=lines),
        reasons=return_reasons_active(merchant=merchant),
    )


def _start_page(request, order: Order, form: ReturnStartForm):
    return render(request, "portal/returns/start.html", _context(request, order=order, form=form.for_page()))


# --- step 1: which units, why, what the customer would like -------------------------------------


@portal_verified_required
@require_http_methods(["GET", "POST"])
def return_start(request, merchant_slug, order_id):
    """The choices; valid ones are answered with the review (step 2). Back from the review
    ("Change my choices"), the choices come again, checked against now."""
    order, lines = _verified_order_or_404(request, order_id)
    if request.method == "GET":
        return _start_page(request, order, _start_form(request, order, lines))
    form = _start_form(request, order, lines, request.POST)
    if CHANGE_CHOICES in request.POST or not form.is_valid():
        return _start_page(request, order, form)
    return _review_page(request, order, form, _confirm_form(form))


# --- step 2: the estimate, photos, confirm -------------------------------------------------------


def _confirm_form(start: ReturnStartForm, data=None, files=None) -> ReturnConfirmForm:
    terms = [offer.terms for offer, _quantity in start.cleaned_data["chosen"]]
    return ReturnConfirmForm(data, files, photos_required=any(each.photos_required for each in terms))


@portal_verified_required
@require_http_methods(["GET", "POST"])
def return_confirm(request, merchant_slug, order_id):
    """The confirm: the choices (the review's hidden fields) again, the photos, then the return."""
    order, lines = _verified_order_or_404(request, order_id)
    if request.method == "GET":
        # Nothing to confirm without the choices (an old link, a bookmark): choose first.
        messages.info(request, _("Choose the items you want to return first."))
        return redirect("portal:return_start", merchant_slug=request.merchant.slug, order_id=order.pk)
    start = _start_form(request, order, lines, request.POST)
    if not start.is_valid():
        # Time passed (a window closed) or another request took the units: the choices again,
        # which show why.
        messages.warning(request, _("Something has changed since you chose; please check your return again."))
        return _start_page(request, order, start)
    form = _confirm_form(start, request.POST, request.FILES)
    if form.is_valid():
        variants = start.cleaned_data["exchange_variants"]
        try:
            # The acknowledgement goes out with the outbox's next flush (seconds away) rather than
            # a task of its own: a submission then costs no broker round trip here, and no task
            # in a worker (aftersales.celery, "notifications-flush").
            with notifications_deferred():
                return_request = return_request_create(
                    order=order,
                    customer=order.customer,
                    lines=[(offer.line, quantity) for offer, quantity in start.cleaned_data["chosen"]],
                    reason=start.cleaned_data["reason"],
                    resolution=start.cleaned_data["resolution"],
                    note=start.cleaned_data["description"],
                    files=form.cleaned_data["photos"],
                    channel=TicketChannel.PORTAL,
                    exchange_products={line_pk: variant.product for line_pk, variant in variants.items()},
                    order_terms=start.order_terms,
                    submission_key=form.cleaned_data["submission_key"],
                )
        except ApplicationError as exc:
            form.add_error(form.service_error_field(exc), exc.message)
        else:
            number = return_request.ticket.number
            messages.success(
                request,
                _("Thank you. Your return %(number)s has been sent; we will tell you by e-mail or text message.")
                % {"number": number},
            )
            return redirect("portal:ticket", merchant_slug=request.merchant.slug, number=number)
    return _review_page(request, order, start, form)


def _choices_fields(choices: dict[str, str]) -> "SafeString":
    """The choices of step 1 as the hidden fields the review carries to the confirm and back
    (nothing waits on the server). Written here rather than by a template loop, twice a review."""
    return format_html_join("", '<input type="hidden" class="return-choice" name="{}" value="{}">\n', choices.items())


def _review_page(request, order: Order, start: ReturnStartForm, form: ReturnConfirmForm):
    """The estimate of what the valid choices ``start`` would give, and the confirm ``form``."""
    chosen = start.cleaned_data["chosen"]
    estimates = refund_estimates(chosen=chosen)
    variants = start.cleaned_data["exchange_variants"]
    resolution = start.cleaned_data["resolution"]
    policy = start.order_terms.policy
    wishes = [
        ExchangeWish(line=estimate.line, quantity=estimate.quantity, variant=variants.get(estimate.line.pk))
        for estimate in estimates
    ]
    difference_due, difference_refunded = difference_totals(wish.difference for wish in wishes)
    return render(
        request,
        "portal/returns/review.html",
        _context(
            request,
            order=order,
            form=form,
            choices_fields=_choices_fields(start.draft()),
            change_choices=CHANGE_CHOICES,
            reason=start.cleaned_data["reason"],
            resolution_label=Resolution(resolution).label,
            is_exchange=resolution == Resolution.EXCHANGE,
            exchange_wishes=wishes if resolution == Resolution.EXCHANGE else [],
            difference_due=difference_due,
            difference_refunded=difference_refunded,
            item_comes_back=resolution in ITEM_COMES_BACK,
            shop_pays_postage=any(estimate.terms.merchant_pays_return_shipping for estimate in estimates),
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
    label: "StrOrPromise"
    when: datetime
    note: str = ""


@dataclass(frozen=True)
class ProgressStage:
    label: str
    when: datetime | None  # when it was reached; None while ahead
    current: bool = False

    @property
    def done(self) -> bool:
        return self.when is not None


@dataclass(frozen=True)
class CustomerDeadline:
    label: str
    due_at: datetime  # in the merchant's time zone
    passed: bool


@dataclass(frozen=True)
class ReturnBox:
    return_request: ReturnRequest
    status: ReturnStatusWords
    lines: list[ReturnBoxLine]
    steps: list[ReturnStep]
    can_cancel: bool
    progress: list[ProgressStage]
    deadlines: list[CustomerDeadline]
    shipment: ReturnShipment | None
    return_address: str
    # The units inspection rejected, going back to the customer; None when none was rejected.
    rejected_parcel: ReturnShipment | None = None
    shipping_form: ReturnShippingForm | None = None
    tracking_form: ReturnTrackingForm | None = None
    revise_form: ReturnReviseForm | None = None
    escalate_form: ReturnEscalateForm | None = None

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


def _step_note(event) -> str:
    if event.verb in ("return_in_transit", "replacement_shipped", "return_rejected_units_sent"):
        # A parcel the customer sent, or one on its way to them: carrier and number (or the store
        # where the items wait for them).
        parcel = f"{event.data.get('carrier', '')} {event.data.get('tracking_number', '')}".strip()
        return parcel or event.data.get("store", "")
    note = event.data.get(RETURN_STEP_NOTES.get(event.verb, ""), "")
    if event.verb == "return_approved" and note in auto_approval_notes():
        # Stored in the language active at submission: said again in the reader's.
        return _(AUTO_APPROVAL_NOTE)
    return note


def _progress(return_request: ReturnRequest, shipment: ReturnShipment | None, events) -> list[ProgressStage]:
    """The stages of this return in order, each reached at its first public event."""
    if return_request.resolution in ITEM_COMES_BACK:
        milestones = [MILESTONE_SUBMITTED, MILESTONE_APPROVED]
        # Handed in at a store, the parcel never travels: it is received there.
        if shipment is None or shipment.method != ShippingMethod.IN_STORE:
            milestones.append(MILESTONE_SENT)
        if shipment is not None and shipment.lost_at is not None:
            milestones.append(MILESTONE_LOST)
        else:
            milestones += [MILESTONE_RECEIVED, MILESTONE_INSPECTED]
    else:
        milestones = [MILESTONE_SUBMITTED, MILESTONE_APPROVED]
    milestones.append(MILESTONE_REFUNDED if return_request.resolution in REFUNDED_RESOLUTIONS else MILESTONE_COMPLETED)
    reached: dict[str, datetime] = {}
    for event in events:
        for milestone in milestones:
            if event.verb in milestone.verbs:
                reached.setdefault(milestone.code, event.created_at)
    # A rejected return waits on the customer (revise, escalate or leave it): no stage is under way,
    # and "Approved" marked as the current one read as if the shop had approved it.
    moving = return_request.status not in RETURN_ENDED and return_request.status != ReturnStatus.REJECTED
    stages, current_given = [], False
    for milestone in milestones:
        when = reached.get(milestone.code)
        current = moving and when is None and not current_given
        current_given = current_given or current
        stages.append(ProgressStage(label=str(milestone.label), when=when, current=current))
    return stages


def _open_deadline(clocks, kind: str, now: datetime) -> Deadline | None:
    for clock in clocks:
        deadline = clock.deadline
        if deadline.kind == kind and deadline.state == Deadline.State.PENDING and deadline.due_at > now:
            return deadline
    return None


def _allowed_resolutions(return_request: ReturnRequest) -> list[str]:
    """The resolutions every line's promised terms allow, as ``return_request_revise`` checks."""
    allowed = [set(term.get("allowed_resolutions", [])) for term in return_request.terms.values()]
    common = set.intersection(*allowed) if allowed else set()
    return [value for value in Resolution.values if value in common]


def _shipping_form(request, return_request, ship_by: Deadline | None, data=None) -> ReturnShippingForm:
    zone = ZoneInfo(request.merchant.timezone)
    return ReturnShippingForm(
        data,
        zone=zone,
        today=timezone.localdate(timezone.now(), zone),
        last_day=window_last_day(ship_by.due_at, zone) if ship_by else None,
        initial={"store_location": return_request.order.store.name},
    )


def _revise_form(return_request, data=None, files=None) -> ReturnReviseForm:
    return ReturnReviseForm(
        data, files, allowed_resolutions=_allowed_resolutions(return_request), current=return_request.resolution
    )


def return_box_context(request, *, ticket: Ticket, customer: Customer | None) -> dict:
    """The ``return_box`` of a ticket page (None when the case is not a return), for
    ``templates/portal/returns/_return_box.html``. ``customer`` is the session's customer who
    owns the ticket, or None: only the owner gets the buttons and forms of the next steps."""
    if ticket.kind not in RETURN_TICKET_KINDS:
        return {"return_box": None}
    return_request = return_request_of_ticket(ticket=ticket)
    if return_request is None:
        return {"return_box": None}
    zone = ZoneInfo(request.merchant.timezone)
    now = timezone.now()
    events = return_steps_public(return_request=return_request)
    steps = [
        ReturnStep(label=RETURN_STEP_LABELS[event.verb], when=event.created_at, note=_step_note(event))
        for event in events
        if event.verb in RETURN_STEP_LABELS
    ]
    parcels = return_parcels(return_request=return_request)
    shipment = parcels.inbound
    clocks = return_clocks(ticket=ticket)
    deadlines = [
        CustomerDeadline(
            label=str(DEADLINE_LABELS[clock.deadline.kind]),
            due_at=timezone.localtime(clock.deadline.due_at, zone),
            passed=clock.deadline.due_at <= now,
        )
        for clock in clocks
        if clock.customer_facing and clock.deadline.state == Deadline.State.PENDING
    ]
    owner = customer is not None and customer.pk == return_request.customer_id
    status = return_request.status
    forms: dict[str, Any] = {}
    if owner and status == ReturnStatus.APPROVED and return_request.resolution in ITEM_COMES_BACK:
        forms["shipping_form"] = _shipping_form(
            request, return_request, _open_deadline(clocks, timers.CUSTOMER_SHIP, now)
        )
    if (
        owner
        and status == ReturnStatus.AWAITING_SHIPMENT
        and (shipment is None or shipment.method != ShippingMethod.IN_STORE)
    ):
        forms["tracking_form"] = ReturnTrackingForm(initial={"carrier": shipment.carrier if shipment else ""})
    if (
        owner
        and status == ReturnStatus.REJECTED
        and return_request.escalated_at is None
        and _open_deadline(clocks, timers.REVISE, now) is not None
    ):
        forms["revise_form"] = _revise_form(return_request)
        forms["escalate_form"] = ReturnEscalateForm()
    policy = return_policy_of(merchant=request.merchant) if "shipping_form" in forms else None
    words = RETURN_STATUS_WORDS[status]
    if status == ReturnStatus.APPROVED and return_request.resolution in ITEM_COMES_BACK:
        words = APPROVED_SEND_BACK_WORDS
    box = ReturnBox(
        return_request=return_request,
        status=words,
        lines=[_box_line(line, return_request.terms, zone) for line in return_request.lines.all()],
        steps=steps,
        can_cancel=owner and return_request.can_transition_to(ReturnStatus.CANCELLED),
        progress=_progress(return_request, shipment, events),
        deadlines=deadlines,
        shipment=shipment,
        return_address=policy.return_address if policy else "",
        rejected_parcel=parcels.rejected_units,
        **forms,
    )
    # The case's status in the return's words: "waiting for your reply" would ask for a message
    # when the move the customer owes is the parcel (tickets.panels, "case_status").
    return {"return_box": box, "case_status": words}


# --- the customer's next steps: each a small form, each one service ------------------------------


def _owned_return_or_404(request, number: str) -> tuple[Ticket, ReturnRequest, Customer]:
    """The return on a case of the session's verified orders, and its customer, who must be one
    the session proved. Anything else is not found."""
    merchant = request.merchant
    ticket = ticket_for_customer(merchant=merchant, order_ids=portal_order_ids(request, merchant), number=number)
    if ticket is None:
        raise Http404
    return_request = return_request_of_ticket(ticket=ticket)
    if return_request is None:
        raise Http404
    customer = portal_customers(request, merchant).filter(pk=return_request.customer_id).first()
    if customer is None:
        raise Http404
    return ticket, return_request, customer


def _back_to_ticket(request, ticket: Ticket):
    return redirect(reverse("portal:ticket", args=[request.merchant.slug, ticket.number]) + "#return-box-title")


def _step_page(request, ticket: Ticket, return_request: ReturnRequest, *, template: str, **extra):
    return render(
        request,
        template,
        _context(request, ticket=ticket, order=ticket.order, return_request=return_request, **extra),
    )


def _refused(request, ticket: Ticket, form, exc: ApplicationError, render_form):
    """A service said no: on a field of the form, show it there; otherwise say it on the case."""
    field = exc.extra.get("field") if isinstance(exc.extra, dict) else None
    if field in form.fields:
        form.add_error(field, exc.message)
        return render_form()
    messages.error(request, exc.message)
    return _back_to_ticket(request, ticket)


@portal_verified_required
@require_http_methods(["GET", "POST"])
def return_ship(request, merchant_slug, number):
    """How will you send it back? A drop-off, a home pickup in a slot, or a store."""
    ticket, return_request, customer = _owned_return_or_404(request, number)
    now = timezone.now()
    ship_by = _open_deadline(return_clocks(ticket=ticket), timers.CUSTOMER_SHIP, now)
    form = _shipping_form(request, return_request, ship_by, request.POST if request.method == "POST" else None)

    def render_form():
        policy = return_policy_of(merchant=request.merchant)
        return _step_page(
            request,
            ticket,
            return_request,
            template="portal/returns/ship.html",
            form=form,
            return_address=policy.return_address if policy else "",
        )

    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        try:
            shipment = return_shipping_choose(
                return_request=return_request,
                method=cleaned["method"],
                customer=customer,
                pickup_address=cleaned["pickup_address"],
                pickup_slot_start=cleaned["pickup_slot_start"],
                pickup_slot_end=cleaned["pickup_slot_end"],
                store_location=cleaned["store_location"],
            )
        except ApplicationError as exc:
            return _refused(request, ticket, form, exc, render_form)
        if shipment.method == ShippingMethod.IN_STORE:
            messages.success(request, _("Thank you. Bring the items to the store; the shop will take them from there."))
        else:
            messages.success(request, _("Thank you. Send the items and add the tracking number here."))
        return _back_to_ticket(request, ticket)
    return render_form()


@portal_verified_required
@require_http_methods(["GET", "POST"])
def return_tracking(request, merchant_slug, number):
    """Add your tracking number: the parcel is on its way."""
    ticket, return_request, customer = _owned_return_or_404(request, number)
    form = ReturnTrackingForm(request.POST if request.method == "POST" else None)

    def render_form():
        return _step_page(request, ticket, return_request, template="portal/returns/tracking.html", form=form)

    if request.method == "POST" and form.is_valid():
        try:
            return_tracking_add(
                return_request=return_request,
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                customer=customer,
            )
        except ApplicationError as exc:
            return _refused(request, ticket, form, exc, render_form)
        messages.success(request, _("Thank you. We will tell you when the shop receives your parcel."))
        return _back_to_ticket(request, ticket)
    return render_form()


@portal_verified_required
@require_http_methods(["GET", "POST"])
def return_revise(request, merchant_slug, number):
    """Revise your request after a rejection: answer the reason, add photos, perhaps ask for
    another resolution the promised terms allow."""
    ticket, return_request, customer = _owned_return_or_404(request, number)
    posted = request.method == "POST"
    form = _revise_form(return_request, request.POST if posted else None, request.FILES if posted else None)

    def render_form():
        return _step_page(request, ticket, return_request, template="portal/returns/revise.html", form=form)

    if posted and form.is_valid():
        try:
            return_request_revise(
                return_request=return_request,
                customer=customer,
                note=form.cleaned_data["description"],
                files=form.cleaned_data["photos"],
                resolution=form.cleaned_data["resolution"],
            )
        except ApplicationError as exc:
            field = form.service_error_field(exc)
            if field is not None:
                form.add_error(field, exc.message)
                return render_form()
            return _refused(request, ticket, form, exc, render_form)
        messages.success(request, _("Thank you. Your revised request has been sent to the shop."))
        return _back_to_ticket(request, ticket)
    return render_form()


@portal_verified_required
@require_http_methods(["GET", "POST"])
def return_escalate(request, merchant_slug, number):
    """Ask a supervisor to review the rejection; their decision is final."""
    ticket, return_request, customer = _owned_return_or_404(request, number)
    form = ReturnEscalateForm(request.POST if request.method == "POST" else None)

    def render_form():
        return _step_page(request, ticket, return_request, template="portal/returns/escalate.html", form=form)

    if request.method == "POST" and form.is_valid():
        try:
            return_request_escalate(return_request=return_request, customer=customer, note=form.cleaned_data["note"])
        except ApplicationError as exc:
            return _refused(request, ticket, form, exc, render_form)
        messages.success(request, _("A supervisor will review the shop's decision and tell you."))
        return _back_to_ticket(request, ticket)
    return render_form()


@require_POST
@portal_verified_required
def return_cancel(request, merchant_slug, number):
    merchant = request.merchant
    ticket = ticket_for_customer(merchant=merchant, order_ids=portal_order_ids(request, merchant), number=number)
    if ticket is None:
        raise Http404
    return_request = return_request_of_ticket(ticket=ticket)
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
