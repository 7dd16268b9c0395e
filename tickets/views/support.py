"""Dashboard pages of routing, assignment, agents' presence, macros, merge and links, and the
support box on the ticket page. Every read starts from the request's membership; every action is
one service call whose refusal comes back as a message and changes nothing."""

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from aftersales.exceptions import ApplicationError
from aftersales.models import Membership
from aftersales.pages import act_and_return, staff_required
from aftersales.pages import render_dashboard as _render
from aftersales.selectors import staff_of
from tickets.forms.support import (
    AgentProfileForm,
    AgentStatusForm,
    ApplyMacroForm,
    LinkForm,
    MacroForm,
    MergeForm,
    PendingCloseForm,
    RoutingRuleForm,
    SupportSettingsForm,
    TeamAssignmentForm,
)
from tickets.models import Macro, Ticket, TicketKind
from tickets.selectors import TicketPageLists, teams_of, ticket_by_number, tickets_visible_to
from tickets.selectors.routing import (
    agent_profile_of,
    agents_of,
    agents_replying,
    macro_managed_by,
    macro_usable_by,
    macros_active_of,
    macros_managed_by,
    possible_duplicates,
    routing_rule_of,
    routing_rules_of,
    support_settings_of,
    team_assignments_of,
    team_of,
    ticket_link_of,
    ticket_links,
)
from tickets.services.assignment import (
    agent_profile_for,
    agent_profile_save,
    agent_set_status,
    team_assignment_save,
    ticket_auto_assign,
)
from tickets.services.closing import pending_close_at, ticket_pending_close, ticket_pending_close_cancel
from tickets.services.macros import macro_apply, macro_delete, macro_save
from tickets.services.merge import ticket_link, ticket_merge, ticket_unlink
from tickets.services.replying import replying_mark
from tickets.services.routing import (
    routing_rule_delete,
    routing_rule_move,
    routing_rule_save,
    support_settings_save,
)


def _forbidden(request: HttpRequest) -> HttpResponse:
    return _render(request, "dashboard/forbidden.html", {}, status=403)


def _confirm_delete(request: HttpRequest, **context: str) -> HttpResponse:
    """The page that asks before a delete button posts: title, question, consequence, cancel_url,
    back_label."""
    return _render(request, "dashboard/confirm_delete.html", context)


def _ticket_or_404(request: HttpRequest, number: str) -> Ticket:
    ticket = ticket_by_number(membership=request.membership, number=number)  # type: ignore[attr-defined]
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


def _back_to_ticket(ticket: Ticket) -> str:
    return reverse("dashboard:ticket", kwargs={"number": ticket.number})


# --- the support box on the ticket page -----------------------------------------------------------


def support_box_context(
    *,
    membership: Membership,
    ticket: Ticket,
    read: TicketPageLists | None = None,
    pending_close_read: bool = False,
    pending_close: datetime | None = None,
) -> dict[str, Any]:
    """What ``dashboard/support/ticket_box.html`` reads: the merchant's support settings, possible
    duplicates, links and macros, each limited to the tickets the staff member may see, and a
    pending close. The ticket page reads them with the ticket (``read``, ``ticket_page_lists``)
    and its timers (``pending_close_read`` with ``pending_close``); otherwise five queries here.
    The macros are the merchant's active ones; the template shows the shared ones and the
    viewer's own."""
    if read is None:
        support_settings = support_settings_of(ticket.merchant_id)
        visible = tickets_visible_to(membership)
        duplicates = (
            possible_duplicates(ticket=ticket, within=visible, days=support_settings.duplicate_window_days)
            if ticket.is_active
            else []
        )
        links = ticket_links(ticket=ticket, within=visible)
        macros = list(macros_active_of(membership.merchant))
    else:
        support_settings, duplicates, links, macros = read.support_settings, read.duplicates, read.links, read.macros
    if not pending_close_read:
        pending_close = pending_close_at(ticket) if ticket.is_active else None
    return {
        "support_duplicates": duplicates,
        "support_links": links,
        "support_macros": macros,
        "support_pending_close_at": pending_close if ticket.is_active else None,
        "support_pending_close_days": support_settings.pending_close_days,
        "support_merge_form": MergeForm(),
        "support_link_form": LinkForm(),
    }


@staff_required
@require_POST
def ticket_apply_macro(request, number):
    ticket = _ticket_or_404(request, number)
    form = ApplyMacroForm(request.POST)
    macro = (
        macro_usable_by(merchant=request.membership.merchant, user=request.user, pk=form.cleaned_data["macro"])
        if form.is_valid()
        else None
    )
    if macro is None:
        messages.error(request, _("Pick one of your macros."))
        return redirect(_back_to_ticket(ticket))
    return act_and_return(
        request,
        lambda: macro_apply(macro=macro, ticket=ticket, actor=request.user),
        _("Macro “%(name)s” applied.") % {"name": macro.name},
        _back_to_ticket(ticket),
    )


@staff_required
@require_POST
def ticket_merge_into(request, number):
    ticket = _ticket_or_404(request, number)
    form = MergeForm(request.POST)
    target = (
        ticket_by_number(membership=request.membership, number=form.cleaned_data["target"].strip().upper())
        if form.is_valid()
        else None
    )
    if target is None:
        messages.error(request, _("No such ticket to merge into."))
        return redirect(_back_to_ticket(ticket))
    try:
        ticket_merge(source=ticket, target=target, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_back_to_ticket(ticket))
    messages.success(
        request, _("%(source)s was merged into %(target)s.") % {"source": ticket.number, "target": target.number}
    )
    return redirect(_back_to_ticket(target))


@staff_required
@require_POST
def ticket_add_link(request, number):
    ticket = _ticket_or_404(request, number)
    form = LinkForm(request.POST)
    other = (
        ticket_by_number(membership=request.membership, number=form.cleaned_data["other"].strip().upper())
        if form.is_valid()
        else None
    )
    if other is None:
        messages.error(request, _("No such ticket to link."))
        return redirect(_back_to_ticket(ticket))
    return act_and_return(
        request,
        lambda: ticket_link(ticket=ticket, other=other, kind=form.cleaned_data["kind"], actor=request.user),
        _("Tickets linked."),
        _back_to_ticket(ticket),
    )


@staff_required
@require_POST
def ticket_remove_link(request, number, link_id):
    ticket = _ticket_or_404(request, number)
    link = ticket_link_of(merchant=request.membership.merchant, pk=link_id)
    if link is None or ticket.pk not in (link.source_id, link.target_id):
        raise Http404(_("No such link."))
    return act_and_return(
        request, lambda: ticket_unlink(link=link, actor=request.user), _("Link removed."), _back_to_ticket(ticket)
    )


@staff_required
@require_POST
def ticket_set_pending_close(request, number):
    ticket = _ticket_or_404(request, number)
    form = PendingCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick from 1 to 90 days."))
        return redirect(_back_to_ticket(ticket))
    return act_and_return(
        request,
        lambda: ticket_pending_close(ticket=ticket, actor=request.user, days=form.cleaned_data["days"]),
        _("The ticket closes by itself unless the customer answers in time."),
        _back_to_ticket(ticket),
    )


@staff_required
@require_POST
def ticket_cancel_pending_close(request, number):
    ticket = _ticket_or_404(request, number)
    return act_and_return(
        request,
        lambda: ticket_pending_close_cancel(ticket=ticket, actor=request.user),
        _("Pending close cancelled."),
        _back_to_ticket(ticket),
    )


@staff_required
@require_POST
def ticket_assign_automatically(request, number):
    ticket = _ticket_or_404(request, number)
    try:
        ticket = ticket_auto_assign(ticket=ticket, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if ticket.assignee_id is None:
            messages.warning(request, _("Nobody in the team has room now; the ticket waits in the team's pool."))
        else:
            messages.success(request, _("Assigned to %(name)s.") % {"name": ticket.assignee})
    return redirect(_back_to_ticket(ticket))


@staff_required
@require_http_methods(["GET", "POST"])
def ticket_replying(request, number):
    """GET: who else is writing a reply here. POST: I am (the reply form calls it every few seconds)."""
    ticket = _ticket_or_404(request, number)
    if request.method == "POST":
        replying_mark(ticket=ticket, user=request.user)
    names = agents_replying(ticket=ticket, excluding_user_id=request.user.pk)
    notice = _("%(names)s is replying to this ticket.") % {"names": ", ".join(names)} if names else ""
    return JsonResponse({"replying": names, "notice": notice})


# --- routing rules and team assignment ------------------------------------------------------------


def _rules_page(request, *, form=None, status=200):
    merchant = request.membership.merchant
    assignments = team_assignments_of(merchant)
    teams = []
    for team in teams_of(merchant):
        policy = assignments.get(team.pk)
        initial = {
            "auto_assign": policy.auto_assign if policy else False,
            "strategy": policy.strategy if policy else "least_loaded",
            "complaint_weight": policy.weight_of(TicketKind.COMPLAINT) if policy else 1,
            "repair_weight": policy.weight_of(TicketKind.REPAIR) if policy else 1,
        }
        teams.append((team, TeamAssignmentForm(initial=initial, prefix=f"team{team.pk}")))
    support_settings = support_settings_of(merchant.pk)
    context = {
        "rules": list(routing_rules_of(merchant)),
        "form": form or RoutingRuleForm(merchant=merchant),
        "teams": teams,
        "settings_form": SupportSettingsForm(
            initial={
                "reopen_window_days": support_settings.reopen_window_days,
                "duplicate_window_days": support_settings.duplicate_window_days,
                "pending_close_days": support_settings.pending_close_days,
            }
        ),
    }
    return _render(request, "dashboard/support/rules.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def routing_rules(request):
    if not request.membership.is_supervisor:
        return _forbidden(request)
    if request.method == "GET":
        return _rules_page(request)
    form = RoutingRuleForm(request.POST, merchant=request.membership.merchant)
    if form.is_valid():
        try:
            routing_rule_save(
                rule=form.save(commit=False),
                actor=request.user,
                store_ids=[store.pk for store in form.cleaned_data["match_stores"]],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("dashboard:routing_rules")
    return _rules_page(request, form=form, status=400)


@staff_required
@require_http_methods(["GET", "POST"])
def routing_rule_edit(request, pk):
    if not request.membership.is_supervisor:
        return _forbidden(request)
    merchant = request.membership.merchant
    rule = routing_rule_of(merchant, pk)
    if rule is None:
        raise Http404(_("No such rule."))
    form = RoutingRuleForm(request.POST or None, instance=rule, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        try:
            routing_rule_save(
                rule=form.save(commit=False),
                actor=request.user,
                store_ids=[store.pk for store in form.cleaned_data["match_stores"]],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("dashboard:routing_rules")
    status = 400 if request.method == "POST" else 200
    return _render(request, "dashboard/support/rule_edit.html", {"form": form, "rule": rule}, status=status)


@staff_required
@require_POST
def routing_rule_reorder(request, pk):
    rule = routing_rule_of(request.membership.merchant, pk)
    if rule is None:
        raise Http404(_("No such rule."))
    return act_and_return(
        request,
        lambda: routing_rule_move(rule=rule, actor=request.user, up=request.POST.get("direction") == "up"),
        _("Rule moved."),
        reverse("dashboard:routing_rules"),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def routing_rule_remove(request, pk):
    """GET asks first (every new ticket stops running through the rule); POST deletes."""
    if not request.membership.is_supervisor:
        return _forbidden(request)
    rule = routing_rule_of(request.membership.merchant, pk)
    if rule is None:
        raise Http404(_("No such rule."))
    if request.method == "GET":
        return _confirm_delete(
            request,
            title=_("Delete the rule?"),
            question=_("Delete the routing rule “%(name)s”?") % {"name": rule.name},
            consequence=_("New tickets no longer run through it; tickets it already routed keep their team."),
            cancel_url=reverse("dashboard:routing_rules"),
            back_label=_("Routing"),
        )
    return act_and_return(
        request,
        lambda: routing_rule_delete(rule=rule, actor=request.user),
        _("Rule deleted."),
        reverse("dashboard:routing_rules"),
    )


@staff_required
@require_POST
def team_assignment_edit(request, pk):
    team = team_of(request.membership.merchant, pk)
    if team is None:
        raise Http404(_("No such team."))
    form = TeamAssignmentForm(request.POST, prefix=f"team{team.pk}")
    if not form.is_valid():
        messages.error(request, _("Check the team's assignment settings: each load is a whole number from 1 to 100."))
        return redirect("dashboard:routing_rules")
    data = form.cleaned_data
    weights = {
        kind: weight
        for kind, weight in (
            (TicketKind.COMPLAINT, data["complaint_weight"]),
            (TicketKind.REPAIR, data["repair_weight"]),
        )
        if weight != 1
    }
    return act_and_return(
        request,
        lambda: team_assignment_save(
            team=team,
            actor=request.user,
            auto_assign=data["auto_assign"],
            strategy=data["strategy"],
            kind_weights=weights,
        ),
        _("Team assignment saved."),
        reverse("dashboard:routing_rules"),
    )


@staff_required
@require_POST
def support_settings_edit(request):
    form = SupportSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Each number of days is a whole number from 0 to 90 (pending close: from 1)."))
        return redirect("dashboard:routing_rules")
    return act_and_return(
        request,
        lambda: support_settings_save(merchant=request.membership.merchant, actor=request.user, **form.cleaned_data),
        _("Support settings saved."),
        reverse("dashboard:routing_rules"),
    )


# --- agents ---------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def agents(request):
    """Everyone sets their own status here; supervisors see the whole desk and set anyone's."""
    merchant = request.membership.merchant
    own = agent_profile_of(merchant, request.user.pk)
    form = AgentStatusForm(request.POST or None, initial={"status": own.status if own else "offline"})
    if request.method == "POST":
        if form.is_valid():
            return act_and_return(
                request,
                lambda: agent_set_status(
                    merchant=merchant,
                    agent=request.user,
                    actor=request.user,
                    status=form.cleaned_data["status"],
                    hand_back=form.cleaned_data["hand_back"],
                ),
                _("Your status is saved."),
                reverse("dashboard:agents"),
            )
        messages.error(request, _("Pick a status."))
    context = {
        "form": form,
        "own": own,
        "desk": agents_of(merchant) if request.membership.is_supervisor else [],
        "status_choices": AgentStatusForm.base_fields["status"].choices,
    }
    return _render(request, "dashboard/support/agents.html", context, status=200 if request.method == "GET" else 400)


@staff_required
@require_POST
def agent_status(request, user_id):
    merchant = request.membership.merchant
    membership = staff_of(merchant).filter(user_id=user_id).first()
    if membership is None:
        raise Http404(_("No such agent."))
    form = AgentStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pick a status."))
        return redirect("dashboard:agents")
    return act_and_return(
        request,
        lambda: agent_set_status(
            merchant=merchant,
            agent=membership.user,
            actor=request.user,
            status=form.cleaned_data["status"],
            hand_back=form.cleaned_data["hand_back"],
        ),
        _("Status saved."),
        reverse("dashboard:agents"),
    )


@staff_required
@require_http_methods(["GET", "POST"])
def agent_edit(request, user_id):
    if not request.membership.is_supervisor:
        return _forbidden(request)
    merchant = request.membership.merchant
    membership = staff_of(merchant).filter(user_id=user_id).first()
    if membership is None:
        raise Http404(_("No such agent."))
    profile = agent_profile_for(merchant=merchant, user=membership.user)
    initial = {
        "capacity": profile.capacity,
        "languages": profile.languages,
        "kinds": profile.kinds,
        "product_categories": profile.product_categories,
        "shift_calendar": profile.shift_calendar_id,
    }
    form = AgentProfileForm(request.POST or None, initial=initial, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agent_profile_save(
                profile=profile,
                actor=request.user,
                capacity=data["capacity"],
                languages=data["languages"],
                product_categories=data["product_categories"],
                kinds=data["kinds"],
                shift_calendar=data["shift_calendar"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Agent saved."))
            return redirect("dashboard:agents")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "agent": membership.user, "profile": profile}
    return _render(request, "dashboard/support/agent_edit.html", context, status=status)


# --- macros ---------------------------------------------------------------------------------------


def _save_macro(request, form: MacroForm) -> Macro | None:
    macro = form.save(commit=False)
    if macro.pk is None:
        macro.owner = request.user if form.cleaned_data["personal"] else None
    try:
        return macro_save(macro=macro, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return None


@staff_required
@require_http_methods(["GET", "POST"])
def macros(request):
    merchant = request.membership.merchant
    form = MacroForm(request.POST or None, merchant=merchant)
    if request.method == "POST" and form.is_valid() and _save_macro(request, form) is not None:
        messages.success(request, _("Macro saved."))
        return redirect("dashboard:macros")
    context = {"macros": list(macros_managed_by(merchant=merchant, user=request.user)), "form": form}
    return _render(request, "dashboard/support/macros.html", context, status=400 if request.method == "POST" else 200)


@staff_required
@require_http_methods(["GET", "POST"])
def macro_edit(request, pk):
    merchant = request.membership.merchant
    macro = macro_managed_by(merchant=merchant, user=request.user, pk=pk)
    if macro is None:
        raise Http404(_("No such macro."))
    form = MacroForm(request.POST or None, instance=macro, merchant=merchant)
    if request.method == "POST" and form.is_valid() and _save_macro(request, form) is not None:
        messages.success(request, _("Macro saved."))
        return redirect("dashboard:macros")
    status = 400 if request.method == "POST" else 200
    return _render(request, "dashboard/support/macro_edit.html", {"form": form, "macro": macro}, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def macro_remove(request, pk):
    """GET asks first (a shared macro goes for the whole team); POST deletes."""
    macro = macro_managed_by(merchant=request.membership.merchant, user=request.user, pk=pk)
    if macro is None:
        raise Http404(_("No such macro."))
    if request.method == "GET":
        return _confirm_delete(
            request,
            title=_("Delete the macro?"),
            question=_("Delete the macro “%(name)s”?") % {"name": macro.name},
            consequence=(
                _("Only you use it.") if macro.owner_id else _("Everyone at the merchant loses it from their macros.")
            ),
            cancel_url=reverse("dashboard:macros"),
            back_label=_("Macros"),
        )
    return act_and_return(
        request, lambda: macro_delete(macro=macro, actor=request.user), _("Macro deleted."), reverse("dashboard:macros")
    )
