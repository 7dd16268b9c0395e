from http import HTTPStatus

from django.core.files.storage import default_storage
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from aftersales.exports import CSV_CONTENT_TYPE, DOWNLOAD_CONTENT_SECURITY_POLICY, FILE_BLOCK_BYTES, XLSX_CONTENT_TYPE
from aftersales.models import ExportState
from aftersales.pages import render_dashboard, staff_required
from aftersales.selectors import export_job_of, export_jobs_of, merchant_active_by_slug


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- Background exports: the requester's Exports page and the download -------------------------


@staff_required
@require_GET
def exports_list(request):
    """The member's exports at this merchant, newest first, with their progress. While one is
    queued or running the page reloads itself every few seconds (no script needed on a phone)."""
    jobs = list(export_jobs_of(request.membership)[:50])
    working = any(job.state in (ExportState.QUEUED, ExportState.RUNNING) for job in jobs)
    return render_dashboard(request, "dashboard/exports.html", {"jobs": jobs, "working": working, "refresh_seconds": 3})


@staff_required
@require_GET
def export_download(request, job_id: int):
    job = export_job_of(request.membership, job_id)
    if job is None or job.state != ExportState.DONE or not job.file:
        raise Http404(_("No such export."))
    try:
        handle = default_storage.open(job.file, "rb")
    except FileNotFoundError as exc:
        raise Http404(_("No such export.")) from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=job.file.rsplit("/", 1)[-1],
        content_type=XLSX_CONTENT_TYPE if job.file_format == "xlsx" else CSV_CONTENT_TYPE,
    )
    response.block_size = FILE_BLOCK_BYTES
    # The same sandbox as every other file handed out: nothing in it runs under the site's origin.
    response["Content-Security-Policy"] = DOWNLOAD_CONTENT_SECURITY_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- Error pages: every one has a way back -------------------------------------------------------


def page_not_found(request, exception):
    """A 404 in the visitor's language, on a phone-sized page, with the way back to where they
    came from: staff to their queue, a customer to the merchant's portal (or the portal's index
    when the merchant in the address does not exist)."""
    merchant = getattr(request, "merchant", None)
    parts = request.path.split("/")
    if merchant is None and len(parts) > 3 and parts[1] == "portal" and parts[2]:
        merchant = merchant_active_by_slug(parts[2])  # no URL matched, so the middleware found none
    if request.path.startswith("/dashboard/"):
        back_url, back_label = reverse("dashboard:queue"), _("Back to the queue")
    elif merchant is not None and request.path.startswith("/portal/"):
        back_url, back_label = reverse("portal:home", args=[merchant.slug]), _("Back to your orders")
    else:
        back_url, back_label = reverse("portal:index"), _("Customer service")
    return render(
        request, "errors/404.html", {"back_url": back_url, "back_label": back_label}, status=HTTPStatus.NOT_FOUND
    )
