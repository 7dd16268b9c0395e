"""The customer portal: no password. A customer proves an order by its number and the contact on
it, then a one-time code sent there; the session then sees that order and its requests, nothing
else. Every read starts from ``request.merchant`` and the session's verified order ids."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.exceptions import ApplicationError, RateLimited
from aftersales.models import Merchant, Order, PortalChallenge
from aftersales.notifications.links import case_link_ticket_id
from aftersales.portal import (
    PENDING_CHALLENGE_KEY,
    portal_customers,
    portal_grant,
    portal_language_remember,
    portal_merchant_required,
    portal_order_ids,
    portal_revoke,
    portal_verified_required,
)
from aftersales.selectors import merchants_active, orders_of
from aftersales.services.portal import portal_challenge_start, portal_challenge_verify
from tickets.attachments import DOWNLOAD_CONTENT_SECURITY_POLICY
from tickets.forms.portal import (
    OrderLookupForm,
    PortalReplyForm,
    PortalTicketForm,
    ShopCodeForm,
    VerifyCodeForm,
    service_error_field,
)
from tickets.models import Attachment, Ticket, TicketChannel, TicketEvent, TicketStatus
from tickets.panels import portal_boxes
from tickets.selectors import (
    attachment_for_customer,
    ticket_for_customer,
    ticket_timeline,
    tickets_of,
    tickets_of_order,
    tickets_of_orders,
)
from tickets.services import ticket_create, ticket_customer_message
from tickets.verbs import RoutingVerb

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Where the pending code went (masked), so the code page can say so after a reload.
PENDING_DESTINATION_KEY = "aftersales_portal_challenge_to"

# The refusals after which the code cannot succeed any more: the customer needs a new one.
FINAL_CODE_REFUSALS = {"code_used", "code_expired", "too_many_attempts"}


@dataclass(frozen=True)
class PortalStatus:
    label: "StrOrPromise"
    explanation: "StrOrPromise"
    tone: str  # a CSS modifier: waiting, progress, done, closed


# The generic status in the customer's words: whose move it is, not the desk's jargon.
PORTAL_STATUSES = {
    TicketStatus.NEW: PortalStatus(
        pgettext_lazy("ticket status", "Received"),
        gettext_lazy("We have your request and will get back to you soon."),
        "progress",
    ),
    TicketStatus.OPEN: PortalStatus(
        gettext_lazy("In progress"), gettext_lazy("Our team is working on your request."), "progress"
    ),
    TicketStatus.WAITING_CUSTOMER: PortalStatus(
        gettext_lazy("Waiting for your reply"),
        gettext_lazy("We need something from you. Please read our last message and reply below."),
        "waiting",
    ),
    TicketStatus.WAITING_THIRD_PARTY: PortalStatus(
        gettext_lazy("Waiting on a partner"),
        gettext_lazy("We are waiting on a carrier or supplier and will update you as soon as we hear back."),
        "progress",
    ),
    TicketStatus.RESOLVED: PortalStatus(
        gettext_lazy("Resolved"),
        gettext_lazy("We consider this solved. If something is still wrong, reply and we will reopen it."),
        "done",
    ),
    TicketStatus.CLOSED: PortalStatus(gettext_lazy("Closed"), gettext_lazy("This request is closed."), "closed"),
    TicketStatus.CANCELLED: PortalStatus(
        gettext_lazy("Cancelled"), gettext_lazy("This request was cancelled."), "closed"
    ),
}


# In a list, a case waiting on the customer may wait for a reply or for a step of its workflow (a
# parcel to send): the list says only that the move is theirs; the case page says which.
LIST_WAITING_CUSTOMER = PortalStatus(
    gettext_lazy("Waiting for you"), gettext_lazy("Open the request to see what we need from you."), "waiting"
)


def _with_portal_status(tickets):
    for ticket in tickets:
        ticket.portal_status = (
            LIST_WAITING_CUSTOMER if ticket.status == TicketStatus.WAITING_CUSTOMER else PORTAL_STATUSES[ticket.status]
        )
    return tickets


def _client_ip(request) -> str | None:
    # REMOTE_ADDR only: a forwarded-for header is whatever the client wants it to be. Behind a
    # proxy, the proxy must set REMOTE_ADDR (e.g. gunicorn's --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


def _verified_order_or_404(request, order_id: int) -> Order:
    if order_id not in portal_order_ids(request, request.merchant):
        raise Http404
    order = orders_of(request.merchant).filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


def _context(request, **extra) -> dict:
    merchant = request.merchant
    return {
        "merchant": merchant,
        "portal_verified": bool(merchant and portal_order_ids(request, merchant)),
        **extra,
    }


# --- choosing the shop ---------------------------------------------------------------------------


@require_http_methods(["GET"])
def index(request):
    """One shop: straight to it. Several: ask for the shop code; never list the shops."""
    only = list(merchants_active().order_by("pk")[:2])
    if len(only) == 1:
        return redirect("portal:home", merchant_slug=only[0].slug)
    form = ShopCodeForm(request.GET or None)
    if form.is_valid():
        merchant = merchants_active().filter(slug=form.cleaned_data["shop"]).first()
        if merchant is not None:
            return redirect("portal:home", merchant_slug=merchant.slug)
        form.add_error("shop", _("We do not know this shop code. Check the link or e-mail from the shop."))
    return render(request, "portal/index.html", _context(request, form=form))


# --- proving an order ----------------------------------------------------------------------------


@portal_merchant_required
@require_http_methods(["GET", "POST"])
def home(request, merchant_slug):
    """The verified orders and their requests; or the lookup form that sends a one-time code."""
    merchant: Merchant = request.merchant
    order_ids = portal_order_ids(request, merchant)
    status = 200
    if request.method == "POST":
        form = OrderLookupForm(request.POST)
        if form.is_valid():
            try:
                challenge, masked = portal_challenge_start(
                    merchant=merchant,
                    order_number=form.cleaned_data["order_number"],
                    contact=form.cleaned_data["contact"],
                    client_ip=_client_ip(request),
                    language=translation.get_language(),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = 429 if isinstance(exc, RateLimited) else 200
            else:
                request.session[PENDING_CHALLENGE_KEY] = challenge.pk
                request.session[PENDING_DESTINATION_KEY] = {"to": masked, "channel": challenge.channel}
                return redirect("portal:verify", merchant_slug=merchant.slug)
    elif order_ids and "lookup" not in request.GET:
        return _render_orders(request, order_ids)
    else:
        form = OrderLookupForm(initial={"order_number": request.GET.get("order", "")[:64]})
    return render(
        request, "portal/lookup.html", _context(request, form=form, has_orders=bool(order_ids)), status=status
    )


def _render_orders(request, order_ids: list[int]):
    merchant = request.merchant
    portal_language_remember(request, merchant)
    orders = list(orders_of(merchant).filter(pk__in=order_ids).order_by("-placed_at", "-id"))
    by_order: dict[int, list[Ticket]] = {order.pk: [] for order in orders}
    for ticket in _with_portal_status(list(tickets_of_orders(merchant=merchant, order_ids=order_ids))):
        by_order.setdefault(ticket.order_id, []).append(ticket)
    for order in orders:
        order.portal_tickets = by_order[order.pk]
    return render(request, "portal/home.html", _context(request, orders=orders))


@portal_merchant_required
@require_http_methods(["GET", "POST"])
def verify(request, merchant_slug):
    merchant: Merchant = request.merchant
    challenge_id = request.session.get(PENDING_CHALLENGE_KEY)
    destination = request.session.get(PENDING_DESTINATION_KEY) or {}
    if challenge_id is None:
        messages.info(request, _("Enter your order number first; we will send you a code."))
        return redirect("portal:home", merchant_slug=merchant.slug)
    form = VerifyCodeForm(request.POST or None)
    code_spent = False
    if request.method == "POST" and form.is_valid():
        try:
            order = portal_challenge_verify(
                merchant=merchant, challenge_id=challenge_id, code=form.cleaned_data["code"]
            )
        except ApplicationError as exc:
            form.add_error("code", exc.message)
            if exc.code in FINAL_CODE_REFUSALS:
                code_spent = True
                request.session.pop(PENDING_CHALLENGE_KEY, None)
                request.session.pop(PENDING_DESTINATION_KEY, None)
        else:
            portal_grant(request, merchant=merchant, order=order)
            request.session.pop(PENDING_DESTINATION_KEY, None)
            messages.success(request, _("Thank you. You can now see order %(number)s.") % {"number": order})
            return redirect("portal:order", merchant_slug=merchant.slug, order_id=order.pk)
    return render(
        request,
        "portal/verify.html",
        _context(
            request,
            form=form,
            code_spent=code_spent,
            destination=destination.get("to", ""),
            by_sms=destination.get("channel") == PortalChallenge.Channel.SMS,
            code_minutes=settings.PORTAL_CODE_TTL_SECONDS // 60,
        ),
    )


@require_POST
@portal_merchant_required
def logout(request, merchant_slug):
    portal_revoke(request, request.merchant)
    request.session.pop(PENDING_CHALLENGE_KEY, None)
    request.session.pop(PENDING_DESTINATION_KEY, None)
    messages.info(request, _("You have signed out. Your orders are no longer shown on this device."))
    return redirect("portal:home", merchant_slug=request.merchant.slug)


# --- an order and its requests -------------------------------------------------------------------


@portal_verified_required
@require_http_methods(["GET"])
def order_detail(request, merchant_slug, order_id):
    order = _verified_order_or_404(request, order_id)
    tickets = _with_portal_status(list(tickets_of_order(order=order)))
    return render(request, "portal/order.html", _context(request, order=order, tickets=tickets))


@portal_verified_required
@require_http_methods(["GET", "POST"])
def ticket_new(request, merchant_slug, order_id):
    order = _verified_order_or_404(request, order_id)
    form = PortalTicketForm(request.POST or None, request.FILES or None, order=order)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = ticket_create(
                merchant=request.merchant,
                kind=data["kind"],
                subject=data["subject"],
                body=data["description"],
                customer=order.customer,
                channel=TicketChannel.PORTAL,
                order=order,
                order_lines=data["order_lines"],
                files=data["photos"],
            )
        except ApplicationError as exc:
            form.add_error(service_error_field(form, exc), exc.message)
        else:
            messages.success(
                request,
                _("Thank you. Your request %(number)s has been sent; we will reply by e-mail or text message.")
                % {"number": ticket.number},
            )
            return redirect("portal:ticket", merchant_slug=request.merchant.slug, number=ticket.number)
    return render(request, "portal/ticket_new.html", _context(request, order=order, form=form))


@dataclass
class TimelineEntry:
    """One public event of a request as the customer reads it."""

    kind: str  # created, opened_by_merchant, customer, staff, status, merged, follow_up
    when: object
    body: str = ""
    status: PortalStatus | None = None
    attachments: list[Attachment] = field(default_factory=list)
    other: str = ""  # merged, follow_up: the number of the request it continues in


def _timeline(ticket: Ticket, *, with_status: bool = True) -> list[TimelineEntry]:
    verb = TicketEvent.Verb
    entries = []
    for event in ticket_timeline(ticket=ticket, public_only=True):
        message = event.message
        body = message.display_body if message is not None else ""
        attachments = list(message.attachments.all()) if message is not None else []
        if event.verb == verb.CREATED:
            # Opened by the shop (a recovery case, a call typed in by staff) or by the customer.
            kind = "created" if event.actor_customer_id else "opened_by_merchant"
            entries.append(TimelineEntry(kind, event.created_at, body, attachments=attachments))
        elif event.verb == verb.CUSTOMER_MESSAGE:
            entries.append(TimelineEntry("customer", event.created_at, body, attachments=attachments))
        elif event.verb == verb.REPLY:
            entries.append(TimelineEntry("staff", event.created_at, body, attachments=attachments))
        elif with_status and event.verb == verb.STATUS_CHANGED and event.data.get("to") in PORTAL_STATUSES:
            entries.append(TimelineEntry("status", event.created_at, status=PORTAL_STATUSES[event.data["to"]]))
        elif event.verb == RoutingVerb.MACRO_APPLIED and message is not None:
            entries.append(TimelineEntry("staff", event.created_at, body, attachments=attachments))
            moved_to = (event.data.get("status") or {}).get("to")
            if moved_to in PORTAL_STATUSES:
                entries.append(TimelineEntry("status", event.created_at, status=PORTAL_STATUSES[moved_to]))
        elif event.verb == RoutingVerb.AUTO_CLOSED and event.data.get("to") in PORTAL_STATUSES:
            entries.append(TimelineEntry("status", event.created_at, status=PORTAL_STATUSES[event.data["to"]]))
        elif event.verb == RoutingVerb.MERGED_INTO:
            entries.append(TimelineEntry("merged", event.created_at, other=event.data.get("into", "")))
        elif event.verb == RoutingVerb.FOLLOW_UP_OPENED:
            entries.append(TimelineEntry("follow_up", event.created_at, other=event.data.get("other", "")))
        # Any other public event (and every internal one) has nothing to tell the customer.
    return entries


@portal_verified_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request, merchant_slug, number):
    merchant = request.merchant
    ticket = ticket_for_customer(merchant=merchant, order_ids=portal_order_ids(request, merchant), number=number)
    if ticket is None:
        raise Http404
    # Only the customer the ticket belongs to writes on it, and only once they proved an order.
    customer = portal_customers(request, merchant).filter(pk=ticket.customer_id).first()
    can_reply = customer is not None and ticket.accepts_customer_messages
    form = PortalReplyForm(request.POST or None, request.FILES or None) if can_reply else None
    if request.method == "POST":
        if form is None:
            messages.error(request, _("This request takes no more messages. Please open a new request."))
            return redirect("portal:ticket", merchant_slug=merchant.slug, number=ticket.number)
        if form.is_valid():
            try:
                message = ticket_customer_message(
                    ticket=ticket, customer=customer, body=form.cleaned_data["body"], files=form.cleaned_data["photos"]
                )
            except ApplicationError as exc:
                form.add_error(service_error_field(form, exc), exc.message)
            else:
                messages.success(request, _("Your message has been sent."))
                # Past the reopen window the message opened a follow-up request: show that one.
                number = message.ticket.number
                return redirect(reverse("portal:ticket", args=[merchant.slug, number]) + "#latest")
    boxes = portal_boxes(request, ticket=ticket, customer=customer)
    workflow_status = boxes.context.get("case_status")
    ticket.portal_status = workflow_status or PORTAL_STATUSES[ticket.status]
    return render(
        request,
        "portal/ticket.html",
        _context(
            request,
            ticket=ticket,
            order=ticket.order,
            timeline=_timeline(ticket, with_status=workflow_status is None),
            form=form,
            portal_box_templates=boxes.template_names,
            **boxes.context,
        ),
    )


@portal_merchant_required
@require_http_methods(["GET"])
def case_link(request, merchant_slug, token):
    """The link to a case in a message to the customer: a signed, expiring token of the case.

    Valid: the session is granted the case's order, as a code would, and goes to the case. Past its
    age: the lookup form for that order, to send a new code. Anything else: the lookup form, empty.
    A session that already sees the order goes straight to the case in every one of these."""
    merchant: Merchant = request.merchant
    expired = False
    try:
        ticket_id = case_link_ticket_id(token)
    except signing.SignatureExpired:
        expired = True
        ticket_id = case_link_ticket_id(token, expired_too=True)
    except signing.BadSignature:
        messages.error(request, _("This link is not valid. Enter your order number to see your requests."))
        return redirect("portal:home", merchant_slug=merchant.slug)
    ticket = tickets_of(merchant).filter(pk=ticket_id, order__isnull=False).select_related("order").first()
    if ticket is None:
        # Signed by us for another shop's case (or one since gone): nothing of it is shown here.
        messages.error(request, _("This link is not valid. Enter your order number to see your requests."))
        return redirect("portal:home", merchant_slug=merchant.slug)
    case_page = redirect("portal:ticket", merchant_slug=merchant.slug, number=ticket.number)
    if ticket.order_id in portal_order_ids(request, merchant):
        return case_page
    if expired:
        messages.info(request, _("This link has expired. We will send you a new code to see your request."))
        response = redirect("portal:home", merchant_slug=merchant.slug)
        response["Location"] += "?" + urlencode({"lookup": "1", "order": ticket.order.external_number})
        return response
    portal_grant(request, merchant=merchant, order=ticket.order)
    return case_page


@portal_verified_required
@require_http_methods(["GET"])
def attachment(request, merchant_slug, pk):
    merchant = request.merchant
    found = attachment_for_customer(merchant=merchant, order_ids=portal_order_ids(request, merchant), attachment_id=pk)
    if found is None:
        raise Http404
    try:
        handle = found.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        content_type=found.content_type,
        as_attachment=not found.is_image,
        filename=found.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "private, no-store"
    return response
