"""The e-mail and phone channels on the dashboard: a merchant admin's mailboxes (add, edit, test,
last fetch and errors, what came in), staff logging a phone call on a case; and the inbound
webhook providers post mail to.

Every read starts from the request's merchant; a mailbox of another merchant is a 404 like one
that does not exist. Every write is one service call; a refusal is shown and changes nothing.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.models import Membership
from aftersales.pages import act_and_return, render_dashboard, staff_required
from tickets.forms.mail import MailboxForm, PhoneCallForm
from tickets.mailinbound import InboundRefused, raw_mime_of
from tickets.selectors import ticket_by_number
from tickets.selectors.mail import (
    mailbox_by_inbound_token,
    mailbox_of,
    mailbox_recent_emails,
    mailboxes_of,
    removed_mailboxes_of,
)
from tickets.services.calls import ticket_phone_call_log
from tickets.services.mail import mail_receive, mailbox_save, mailbox_test
from tickets.services.mailboxes import mailbox_fetch_now, mailbox_remove, mailbox_restore


def _admin_only(request: HttpRequest) -> HttpResponse | None:
    if request.membership.role != Membership.Role.MERCHANT_ADMIN:  # type: ignore[attr-defined]
        return render_dashboard(request, "dashboard/mail/admin_only.html", {}, status=403)
    return None


@staff_required
def mailboxes(request):
    if refused := _admin_only(request):
        return refused
    merchant = request.membership.merchant
    context = {"mailboxes": list(mailboxes_of(merchant)), "removed_mailboxes": list(removed_mailboxes_of(merchant))}
    return render_dashboard(request, "dashboard/mail/mailboxes.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def mailbox_new(request):
    if refused := _admin_only(request):
        return refused
    form = MailboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = mailbox_save(
                merchant=request.membership.merchant,
                actor=request.user,
                values=form.values(),
                password=form.cleaned_data["imap_password"],
            )
        except ApplicationError as exc:
            form.add_error(exc.extra.get("field") if exc.extra.get("field") in form.fields else None, exc.message)
        else:
            messages.success(request, _("Mailbox added."))
            return HttpResponseRedirect(reverse("dashboard:mailbox", args=[mailbox.pk]))
    status = 400 if request.method == "POST" else 200
    return render_dashboard(request, "dashboard/mail/mailbox_form.html", {"form": form, "mailbox": None}, status=status)


def _mailbox_or_404(request, pk: int):
    mailbox = mailbox_of(request.membership.merchant, pk)
    if mailbox is None:
        raise Http404(_("No such mailbox."))
    return mailbox


@staff_required
@require_http_methods(["GET", "POST"])
def mailbox_detail(request, pk):
    if refused := _admin_only(request):
        return refused
    mailbox = _mailbox_or_404(request, pk)
    form = MailboxForm(request.POST) if request.method == "POST" else MailboxForm.for_mailbox(mailbox)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox_save(
                merchant=request.membership.merchant,
                actor=request.user,
                values=form.values(),
                password=form.cleaned_data["imap_password"],
                mailbox=mailbox,
            )
        except ApplicationError as exc:
            form.add_error(exc.extra.get("field") if exc.extra.get("field") in form.fields else None, exc.message)
        else:
            messages.success(request, _("Mailbox saved."))
            return HttpResponseRedirect(reverse("dashboard:mailbox", args=[mailbox.pk]))
    context = {
        "form": form,
        "mailbox": mailbox,
        "emails": mailbox_recent_emails(mailbox),
        "inbound_url": request.build_absolute_uri(reverse("mail_inbound", args=[mailbox.inbound_token])),
    }
    status = 400 if request.method == "POST" else 200
    return render_dashboard(request, "dashboard/mail/mailbox_form.html", context, status=status)


@staff_required
@require_POST
def mailbox_check(request, pk):
    if refused := _admin_only(request):
        return refused
    mailbox = _mailbox_or_404(request, pk)
    back = reverse("dashboard:mailbox", args=[mailbox.pk])
    try:
        count = mailbox_test(mailbox=mailbox, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Connected. The folder holds %(count)s messages.") % {"count": count})
    return HttpResponseRedirect(back)


@staff_required
@require_POST
def mailbox_fetch(request, pk):
    """ "Fetch now": queue the fetch task (at most once a minute per mailbox); the result shows in
    the page's last fetch once the worker has run."""
    if refused := _admin_only(request):
        return refused
    mailbox = _mailbox_or_404(request, pk)
    return act_and_return(
        request,
        lambda: mailbox_fetch_now(mailbox=mailbox, actor=request.user),
        _("Fetch queued. Reload this page in a moment to see its outcome under Last fetch."),
        reverse("dashboard:mailbox", args=[mailbox.pk]),
    )


@staff_required
@require_POST
def mailbox_remove_view(request, pk):
    if refused := _admin_only(request):
        return refused
    mailbox = _mailbox_or_404(request, pk)
    return act_and_return(
        request,
        lambda: mailbox_remove(mailbox=mailbox, actor=request.user),
        _("Mailbox removed. It is no longer fetched; the mail it brought stays on its requests."),
        reverse("dashboard:mailboxes"),
    )


@staff_required
@require_POST
def mailbox_restore_view(request, pk):
    if refused := _admin_only(request):
        return refused
    mailbox = _mailbox_or_404(request, pk)
    return act_and_return(
        request,
        lambda: mailbox_restore(mailbox=mailbox, actor=request.user),
        _("Mailbox restored, paused: check its settings and turn it on."),
        reverse("dashboard:mailbox", args=[mailbox.pk]),
    )


@staff_required
@require_POST
def ticket_phone_call(request, number):
    ticket = ticket_by_number(membership=request.membership, number=number)
    if ticket is None:
        raise Http404(_("No such ticket."))
    back = reverse("dashboard:ticket", args=[ticket.number])
    form = PhoneCallForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{form.fields[name].label}: {' '.join(errs)}" for name, errs in form.errors.items())
        messages.error(request, errors)
        return HttpResponseRedirect(back)
    return act_and_return(
        request,
        lambda: ticket_phone_call_log(
            ticket=ticket,
            actor=request.user,
            direction=form.cleaned_data["direction"],
            duration_seconds=form.duration_seconds(),
            summary=form.cleaned_data["summary"],
        ),
        _("Phone call logged."),
        back,
    )


@csrf_exempt
@require_POST
def mail_inbound(request, token):
    """A provider posts one received message here (the URL's token names the mailbox). Answers
    200 once the message is stored, so the provider retries anything else; a message stored
    before answers 200 again without a second copy."""
    mailbox = mailbox_by_inbound_token(token)
    if mailbox is None:
        raise Http404
    try:
        raw = raw_mime_of(request)
    except InboundRefused as refused:
        return HttpResponse(str(refused), status=400, content_type="text/plain")
    email_row = mail_receive(mailbox=mailbox, raw=raw)
    return HttpResponse(email_row.disposition, status=200, content_type="text/plain")


PHONE_CALL_BOX_TEMPLATE = "dashboard/tickets/phone_call_box.html"


def phone_call_box(*, ticket):
    """The staff box of every ticket page: the form to log a call (reads nothing)."""
    return {"phone_call_form": PhoneCallForm()}
