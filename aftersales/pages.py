"""What every app's dashboard and portal views share: the staff check, the dashboard's page
frame, keyset cursors, and running one action."""

import base64
import binascii
import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError
from aftersales.instants import instant_in_utc
from aftersales.selectors import request_memberships

if TYPE_CHECKING:
    from django.http.response import HttpResponseBase
    from django_stubs_ext import StrOrPromise

    from aftersales.exports import ExportList


def act_and_return(
    request, action: Callable[[], object], success: "StrOrPromise", back_to: str
) -> HttpResponseRedirect:
    """Run one service call; show its refusal (which changed nothing) or the success, and go back."""
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return HttpResponseRedirect(back_to)


def staff_required(view):
    """Logged in, and an active member of an active merchant; otherwise the "no access" page."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.membership:
            return render(request, "dashboard/no_access.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def render_dashboard(request, template: str, context: dict, status: int = 200):
    """A dashboard page, with what its header needs."""
    # The header's merchant switcher needs every merchant the user works for.
    # Reading the membership reads the switcher's list with it: one query for both.
    membership = request.membership
    memberships = request_memberships(request) if membership else []
    context = {"membership": membership, "memberships": memberships, **context}
    return render(request, template, context, status=status)


def cursor_encode(values: list) -> str:
    """A keyset cursor for the URL: the JSON of the last row's sort values, base64url."""
    raw = json.dumps(values, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(value: str):
    """The JSON inside a cursor from the URL, or None for anything that is not one."""
    if not value:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError, binascii.Error, RecursionError):
        # RecursionError: a forged cursor of a few KB of "[".
        return None


def cursor_instant(value) -> datetime | None:
    """An aware instant from a cursor, or None for anything else (a naive time included)."""
    if not isinstance(value, str):
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    # In UTC, or None at the ends of the calendar: the page then starts from its first row.
    return instant_in_utc(instant)


def export_or_background(request, *, source: str, export: "ExportList", file_format: str) -> "HttpResponseBase":
    """The list's export: streamed as it is read, or, when it has more than
    ``EXPORT_BACKGROUND_ROWS`` rows (a count bounded by that number), a background job the
    requester follows on the Exports page. The caller has made the page's role checks already; the
    worker makes them again as the requester (``export_source_register``)."""
    from django.conf import settings
    from django.shortcuts import redirect

    from aftersales.exports import export_response, rows_at_least
    from aftersales.services.exports import export_job_request

    if not rows_at_least(export.rows_to_count, settings.EXPORT_BACKGROUND_ROWS):
        return export_response(rows=export.rows, columns=export.columns, stem=export.stem, file_format=file_format)
    try:
        export_job_request(
            membership=request.membership,
            source=source,
            stem=export.stem,
            params={key: request.GET.getlist(key) for key in request.GET},
            file_format=file_format,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(request.path)
    messages.success(
        request,
        _(
            "This list is large: it is being exported in the background. "
            "Follow it here; you will be told when it is ready."
        ),
    )
    return redirect("dashboard:exports")
