"""The queue's tools: changing many tickets at once, and saved views. Each posts, changes through
a service and goes back to the queue as it was (its filters, its page)."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from aftersales.exceptions import ApplicationError
from aftersales.pages import staff_required
from aftersales.selectors import staff_of
from tickets import services
from tickets.forms.dashboard import QueueBulkForm, QueueFilterForm, SavedViewForm
from tickets.queue_filters import saved_view_fields
from tickets.selectors import saved_view_of, teams_of_member


def _back_to_queue(request):
    """The queue as the member left it: the "back" field when it is the queue's own address."""
    queue = reverse("dashboard:queue")
    back = request.POST.get("back", "")
    parts = urlsplit(back)
    if back and not parts.scheme and not parts.netloc and parts.path == queue:
        return redirect(back)
    return redirect(queue)


def queue_staff_choices(form: QueueFilterForm) -> list[tuple[str, str]]:
    """The staff the filter form already offers (no second query for the bulk form's menu)."""
    return form.staff_choices


@staff_required
@require_POST
def queue_bulk(request):
    """One change for every ticket ticked. Each ticket changes on its own (see
    ``tickets.services.bulk``): the page says how many changed and names each refusal."""
    membership = request.membership
    staff = [(str(m.user_id), str(m.user)) for m in staff_of(membership.merchant)]
    form = QueueBulkForm(request.POST, staff_choices=staff)
    numbers = request.POST.getlist("tickets")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back_to_queue(request)
    data = form.cleaned_data
    assignee = None
    if data["action"] == "assign" and data["assignee"] != QueueBulkForm.NOBODY:
        member = staff_of(membership.merchant).filter(user_id=int(data["assignee"])).select_related("user").first()
        assignee = member.user if member else None
    try:
        outcomes = services.tickets_bulk_change(
            membership=membership,
            numbers=numbers,
            action=data["action"],
            assignee=assignee,
            status=data["status"],
            priority=data["priority"],
            tags=[data["tag"]] if data["tag"] else [],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back_to_queue(request)
    changed = [outcome for outcome in outcomes if outcome.ok]
    refused = [outcome for outcome in outcomes if not outcome.ok]
    if changed:
        messages.success(
            request,
            ngettext("%(count)s ticket changed.", "%(count)s tickets changed.", len(changed)) % {"count": len(changed)},
        )
    for outcome in refused:
        messages.error(
            request,
            _("%(number)s was not changed: %(reason)s") % {"number": outcome.number, "reason": outcome.message},
        )
    return _back_to_queue(request)


@staff_required
@require_POST
def saved_view_create(request):
    membership = request.membership
    form = SavedViewForm(request.POST, teams=teams_of_member(membership))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back_to_queue(request)
    filters = {key: request.POST.get(key, "") for key in saved_view_fields()}
    try:
        view = services.saved_view_create(
            membership=membership, name=form.cleaned_data["name"], filters=filters, team=form.cleaned_data["team"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back_to_queue(request)
    messages.success(request, _("View %(name)s saved.") % {"name": view.name})
    return _back_to_queue(request)


@staff_required
@require_POST
def saved_view_delete(request, pk):
    view = saved_view_of(request.membership, pk)
    if view is None:
        raise Http404(_("No such view."))
    services.saved_view_delete(membership=request.membership, view=view)
    messages.success(request, _("View %(name)s deleted.") % {"name": view.name})
    return redirect("dashboard:queue")
