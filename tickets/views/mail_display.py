"""An inbound e-mail's HTML for staff, beside the stripped text the timeline shows: a page with the
message's text, its formatted version in a sandboxed frame, a "show images" link that loads remote
images only when clicked, and the original .eml to download. The frame's document is built from
the original kept as an attachment (``tickets.mailhtml``) and served under a strict Content
Security Policy; the frame's ``sandbox`` lets nothing in it run.

Every read starts from the request's membership (``attachment_for_staff``): an e-mail of a case
the staff member may not see, or of another merchant, is a 404.
"""

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from aftersales.pages import render_dashboard, staff_required
from tickets.mailhtml import document_csp, mail_document
from tickets.models import Attachment
from tickets.selectors import attachment_for_staff

ORIGINAL_CONTENT_TYPE = "message/rfc822"
# The original is at most the size a mailbox accepts; read once per view.
MAX_ORIGINAL_BYTES = 30 * 1024 * 1024


def _original_or_404(request, pk: int) -> tuple[Attachment, bytes]:
    found = attachment_for_staff(membership=request.membership, attachment_id=pk)
    if found is None or found.content_type != ORIGINAL_CONTENT_TYPE or found.size > MAX_ORIGINAL_BYTES:
        raise Http404(_("No such e-mail."))
    try:
        with found.file.open("rb") as handle:
            raw = handle.read()
    except FileNotFoundError as exc:
        raise Http404(_("No such e-mail.")) from exc
    return found, raw


@staff_required
@require_GET
def mail_view(request, pk):
    original, raw = _original_or_404(request, pk)
    document = mail_document(raw, show_images=False)
    context = {
        "original": original,
        "ticket": original.ticket,
        "message": original.message,
        "has_html": bool(document.html),
        "remote_images": document.remote_images,
    }
    return render_dashboard(request, "dashboard/mail/mail_view.html", context)


@staff_required
@require_GET
@xframe_options_sameorigin
def mail_html(request, pk):
    """The sanitised document alone, for the page's sandboxed frame; ``?images=1`` shows remote
    images (the "show images" link targets the frame, so they load only on that click)."""
    original, raw = _original_or_404(request, pk)
    images = request.GET.get("images") == "1"
    document = mail_document(raw, show_images=images, title=original.message.body[:80] if original.message else "")
    if not document.html:
        raise Http404(_("This e-mail has no HTML."))
    response = HttpResponse(document.html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = document_csp(images=images)
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response
