"""The staff dashboard: the queue, one ticket and its actions, tickets typed in by staff, files.

Every read starts from the request's membership (its merchant and role) through a selector, so a
ticket of another merchant, or one a technician is not assigned, is a 404 like one that does not
exist. Every action is one service call; a domain refusal comes back as a message on the page the
action was taken from, and nothing is changed.
"""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.exports import export_format, export_links
from aftersales.pages import act_and_return, staff_required
from aftersales.pages import cursor_decode as _decode_cursor
from aftersales.pages import cursor_encode as _encode_cursor
from aftersales.pages import cursor_instant as _aware
from aftersales.pages import render_dashboard as _render
from aftersales.periods import ReportPeriodForm
from aftersales.selectors import SESSION_MERCHANT_KEY
from aftersales.services.customers import customer_get_or_create
from tickets import services
from tickets.attachments import DOWNLOAD_CONTENT_SECURITY_POLICY
from tickets.forms.dashboard import (
    AssignForm,
    NewTicketForm,
    NoteForm,
    PriorityForm,
    QueueBulkForm,
    QueueFilterForm,
    RemindForm,
    ReplyForm,
    SavedViewForm,
    StatusForm,
    SwitchMerchantForm,
    TagsForm,
)
from tickets.models import Ticket
from tickets.panels import staff_boxes
from tickets.queue_filters import saved_view_fields
from tickets.selectors import (
    QueueKey,
    QueueSort,
    attachment_for_staff,
    saved_views_counted,
    teams_of_member,
    teams_of_member_listed,
    ticket_by_number,
    ticket_page_lists,
    ticket_page_of,
    ticket_page_order_lines,
    ticket_page_timeline,
    ticket_queue_page,
)
from tickets.sla_selectors import BreachKey, sla_attainment, sla_breaches_page, ticket_page_deadlines, ticket_sla_clocks
from tickets.views.exports import queue_export
from tickets.views.queue_tools import queue_staff_choices
from tickets.views.support import support_box_context

# --- the queue ----------------------------------------------------------------------------------


def encode_queue_key(key: QueueKey) -> str:
    # The sort goes first: a cursor of one order is never read as a place in the other.
    if key.sort == QueueSort.DEADLINE:
        due = key.next_deadline_at.isoformat() if key.next_deadline_at else None
        return _encode_cursor([QueueSort.DEADLINE.value, due, key.id])
    if key.created_at is None:  # QueueKey.of always gives an attention key its creation time
        raise ValueError("A key in the attention order needs its creation time.")
    return _encode_cursor([QueueSort.ATTENTION.value, key.priority, key.created_at.isoformat(), key.id])


def decode_queue_key(value: str) -> QueueKey | None:
    """A cursor from the URL, or None for anything that is not one (the first page is shown)."""
    match _decode_cursor(value):
        case [QueueSort.ATTENTION, int() as priority, str() as created_at, int() as pk]:
            created = _aware(created_at)
            if created is None:
                return None
            return QueueKey(sort=QueueSort.ATTENTION, priority=priority, created_at=created, id=pk)
        case [QueueSort.DEADLINE, None, int() as pk]:
            return QueueKey(sort=QueueSort.DEADLINE, next_deadline_at=None, id=pk)
        case [QueueSort.DEADLINE, str() as due_at, int() as pk]:
            due = _aware(due_at)
            if due is None:
                return None
            return QueueKey(sort=QueueSort.DEADLINE, next_deadline_at=due, id=pk)
    return None


@staff_required
@require_GET
def queue(request):
    membership = request.membership
    form = QueueFilterForm(request.GET or None, merchant=membership.merchant)
    filters = form.filters()
    file_format = export_format(request.GET.get("export"))
    if file_format:
        return queue_export(request, filters=filters, file_format=file_format)
    sort = form.chosen_sort()
    page = ticket_queue_page(
        membership=membership,
        filters=filters,
        sort=sort,
        after=decode_queue_key(request.GET.get("after", "")),
        before=decode_queue_key(request.GET.get("before", "")),
    )
    context = {
        "form": form,
        "sort": sort,
        "tickets": page.tickets,
        "now": timezone.now(),
        "next_cursor": encode_queue_key(page.next_key) if page.next_key else None,
        "previous_cursor": encode_queue_key(page.previous_key) if page.previous_key else None,
        "is_filtered": filters != type(filters)(),
        "saved_views": saved_views_counted(membership),
        "bulk_form": QueueBulkForm(staff_choices=queue_staff_choices(form)),
        "saved_view_form": SavedViewForm(
            teams=teams_of_member(membership), shown_teams=teams_of_member_listed(membership)
        ),
        "saved_view_fields": [(name, request.GET.get(name, "")) for name in saved_view_fields()],
        "export_links": export_links(request.GET),
    }
    return _render(request, "dashboard/queue.html", context)


# --- one ticket ---------------------------------------------------------------------------------


def _ticket_or_404(request, number: str) -> Ticket:
    ticket = ticket_by_number(membership=request.membership, number=number)
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


def _ticket_page(request, ticket: Ticket, *, status: int = 200, **bound_forms):
    """The ticket page; a form that failed validation is passed in bound, to show its errors.

    Seven queries with a conversation of any length (session, user, memberships, the ticket with
    every list its boxes show, order lines, timers with their pauses, the timeline with its
    attachments), two more for the business calendar of SLA clocks that have one; a workflow's box
    adds its own. The reads are prepared statements of the database session (``CompiledRead``)."""
    membership = request.membership
    if not hasattr(ticket, "page_tags"):  # a failed action's ticket: read as the page reads it
        ticket = ticket_page_of(membership=membership, number=ticket.number) or ticket
    read = ticket_page_lists(ticket)
    order = ticket.order
    order_lines, linked_line_ids = ticket_page_order_lines(ticket=ticket)
    forms = {
        "reply_form": ReplyForm(ticket=ticket),
        "note_form": NoteForm(),
        "assign_form": AssignForm(
            merchant=membership.merchant,
            staff_choices=read.staff_choices,
            teams=read.teams,
            initial={"assignee": ticket.assignee_id, "team": ticket.team_id},
        ),
        "status_form": StatusForm(ticket=ticket),
        "priority_form": PriorityForm(initial={"priority": ticket.priority}),
        "tags_form": TagsForm(initial={"tags": ", ".join(tag.name for tag in read.tags)}),
        "remind_form": RemindForm(),
        **bound_forms,
    }
    now = timezone.now()
    deadlines = ticket_page_deadlines(ticket=ticket, user=request.user)
    boxes = staff_boxes(ticket=ticket, request=request)
    context = {
        "ticket": ticket,
        "ticket_tags": read.tags,
        "now": now,
        "sla_clocks": ticket_sla_clocks(ticket=ticket, now=now, deadlines=deadlines.sla),
        "reminder": deadlines.reminder,
        "timeline": ticket_page_timeline(ticket=ticket),
        "other_tickets": read.other_tickets,
        "order": order,
        "order_lines": order_lines,
        "order_total": sum((line.paid_amount for line in order_lines), order.shipping_amount) if order else None,
        "linked_line_ids": linked_line_ids,
        "status_targets": forms["status_form"].offered_choices,
        "known_tags": read.known_tag_names,
        "staff_box_templates": boxes.template_names,
        **boxes.context,
        **support_box_context(
            membership=membership,
            ticket=ticket,
            read=read,
            pending_close_read=True,
            pending_close=deadlines.pending_close_at,
        ),
        **forms,
    }
    return _render(request, "dashboard/ticket_detail.html", context, status=status)


@staff_required
@require_GET
def ticket_detail(request, number):
    ticket = ticket_page_of(membership=request.membership, number=number)
    if ticket is None:
        raise Http404(_("No such ticket."))
    return _ticket_page(request, ticket)


def _act(request, ticket: Ticket, action, success: str):
    return act_and_return(request, action, success, reverse("dashboard:ticket", kwargs={"number": ticket.number}))


@staff_required
@require_POST
def ticket_reply(request, number):
    ticket = _ticket_or_404(request, number)
    form = ReplyForm(request.POST, request.FILES, ticket=ticket)
    if not form.is_valid():
        return _ticket_page(request, ticket, status=400, reply_form=form)
    data = form.cleaned_data
    return _act(
        request,
        ticket,
        lambda: services.ticket_reply(
            ticket=ticket, actor=request.user, body=data["body"], files=data["files"], status=data["status"] or None
        ),
        _("Your reply was sent to the customer."),
    )


@staff_required
@require_POST
def ticket_note(request, number):
    ticket = _ticket_or_404(request, number)
    form = NoteForm(request.POST, request.FILES)
    if not form.is_valid():
        return _ticket_page(request, ticket, status=400, note_form=form)
    data = form.cleaned_data
    return _act(
        request,
        ticket,
        lambda: services.ticket_note(ticket=ticket, actor=request.user, body=data["body"], files=data["files"]),
        _("Internal note added."),
    )


@staff_required
@require_POST
def ticket_assign(request, number):
    ticket = _ticket_or_404(request, number)
    form = AssignForm(request.POST, merchant=request.membership.merchant)
    if not form.is_valid():
        return _ticket_page(request, ticket, status=400, assign_form=form)
    data = form.cleaned_data
    return _act(
        request,
        ticket,
        lambda: services.ticket_assign(ticket=ticket, actor=request.user, assignee=data["assignee"], team=data["team"]),
        _("Assignment saved."),
    )


@staff_required
@require_POST
def ticket_status(request, number):
    ticket = _ticket_or_404(request, number)
    form = StatusForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return _ticket_page(request, ticket, status=400, status_form=form)
    data = form.cleaned_data
    return _act(
        request,
        ticket,
        lambda: services.ticket_change_status(
            ticket=ticket, actor=request.user, status=data["status"], note=data["note"]
        ),
        _("Status changed."),
    )


@staff_required
@require_POST
def ticket_priority(request, number):
    ticket = _ticket_or_404(request, number)
    form = PriorityForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, ticket, status=400, priority_form=form)
    return _act(
        request,
        ticket,
        lambda: services.ticket_change_priority(
            ticket=ticket, actor=request.user, priority=form.cleaned_data["priority"]
        ),
        _("Priority changed."),
    )


@staff_required
@require_POST
def ticket_tags(request, number):
    ticket = _ticket_or_404(request, number)
    form = TagsForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, ticket, status=400, tags_form=form)
    return _act(
        request,
        ticket,
        lambda: services.ticket_set_tags(ticket=ticket, actor=request.user, names=form.cleaned_data["tags"]),
        _("Tags saved."),
    )


@staff_required
@require_POST
def ticket_remind(request, number):
    ticket = _ticket_or_404(request, number)
    form = RemindForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, ticket, status=400, remind_form=form)
    data = form.cleaned_data
    return _act(
        request,
        ticket,
        lambda: services.ticket_reminder_set(
            ticket=ticket, actor=request.user, remind_at=data["remind_at"], note=data["note"]
        ),
        _("Reminder set."),
    )


@staff_required
@require_POST
def ticket_remind_cancel(request, number):
    ticket = _ticket_or_404(request, number)
    return _act(
        request,
        ticket,
        lambda: services.ticket_reminder_cancel(ticket=ticket, actor=request.user),
        _("Reminder cancelled."),
    )


# --- a ticket typed in by staff (a phone call, an e-mail) -----------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    merchant = request.membership.merchant
    form = NewTicketForm(request.POST or None, request.FILES or None, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        order = data["order"]
        try:
            # One transaction: a refused ticket leaves no half-entered customer behind.
            with transaction.atomic():
                if data["customer_email"] or data["customer_phone"]:
                    customer = customer_get_or_create(
                        merchant=merchant,
                        email=data["customer_email"],
                        phone=data["customer_phone"],
                        name=data["customer_name"].strip(),
                    )
                else:
                    customer = order.customer
                ticket = services.ticket_create(
                    merchant=merchant,
                    kind=data["kind"],
                    subject=data["subject"],
                    body=data["body"],
                    customer=customer,
                    channel=data["channel"],
                    order=order,
                    priority=data["priority"],
                    created_by=request.user,
                    files=data["files"],
                    assignee=request.user if data["assign_to_me"] else None,
                )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
            return redirect("dashboard:ticket", number=ticket.number)
    status = 400 if request.method == "POST" else 200
    return _render(request, "dashboard/ticket_new.html", {"form": form}, status=status)


# --- attachments --------------------------------------------------------------------------------


@staff_required
@require_GET
def attachment(request, pk):
    found = attachment_for_staff(membership=request.membership, attachment_id=pk)
    if found is None:
        raise Http404(_("No such file."))
    try:
        handle = found.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("No such file.")) from exc
    # Images and videos open in the browser (a video plays in the page's <video>); anything else is
    # downloaded. The type is the one found by content at upload, and nosniff stops the browser from
    # guessing another.
    response = FileResponse(
        handle,
        content_type=found.content_type,
        as_attachment=not (found.is_image or found.is_video),
        filename=found.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- reports ------------------------------------------------------------------------------------


def encode_breach_key(key: BreachKey) -> str:
    return _encode_cursor([key.breached_at.isoformat(), key.id])


def decode_breach_key(value: str) -> BreachKey | None:
    match _decode_cursor(value):
        case [str() as breached_at, int() as pk]:
            instant = _aware(breached_at)
            return BreachKey(breached_at=instant, id=pk) if instant is not None else None
    return None


@staff_required
@require_GET
def sla_report(request):
    """Attainment per policy and target, and the breaches, over whole days of the merchant's time
    zone (the one the middleware made current). Supervisors and merchant admins only."""
    membership = request.membership
    if not membership.is_supervisor:
        return _render(request, "dashboard/forbidden.html", {}, status=403)
    bound = "start" in request.GET or "end" in request.GET
    form = ReportPeriodForm(request.GET if bound else None, today=timezone.localdate())
    first_day, last_day = form.period()
    zone = timezone.get_current_timezone()
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
    report = sla_attainment(merchant=membership.merchant, start=start, end=end)
    breaches = sla_breaches_page(
        merchant=membership.merchant, start=start, end=end, after=decode_breach_key(request.GET.get("after", ""))
    )
    context = {
        "form": form,
        "first_day": first_day,
        "last_day": last_day,
        "report": report,
        "breaches": breaches.breaches,
        "next_cursor": encode_breach_key(breaches.next_key) if breaches.next_key else None,
        "is_later_page": "after" in request.GET,
    }
    return _render(request, "dashboard/sla_report.html", context)


# --- who is working where -----------------------------------------------------------------------


@login_required
@require_POST
def switch_merchant(request):
    form = SwitchMerchantForm(request.POST, user=request.user)
    if form.is_valid():
        merchant = form.cleaned_data["merchant"]
        request.session[SESSION_MERCHANT_KEY] = merchant.pk
        messages.success(request, _("You are now working for %(merchant)s.") % {"merchant": merchant.name})
    else:
        messages.error(request, _("You are not a member of that merchant's staff."))
    return redirect(reverse("dashboard:queue"))
