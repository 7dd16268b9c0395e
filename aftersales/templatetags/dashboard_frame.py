"""The frame of every dashboard page (``dashboard/base.html``): the top bar with its menu, the
merchant switcher, the user, the language switcher and the log-out button, written in Python.

As template markup the top bar cost every page some twenty ``{% url %}`` lookups and as many
``{% translate %}`` tags (~2 ms of CPU a request here). The menu a member sees depends only on the
language, the member's role and the script prefix: its links and labels are built once per
process for each of those and kept (``_menu``); a request only marks the link of its own page.
The markup is the template's; every value from the database goes through ``escape``.
"""

import functools
from collections.abc import Callable
from html import escape

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from aftersales.models import Membership

register = template.Library()

Role = Membership.Role


def _everyone(role: str | None, is_supervisor: bool) -> bool:
    return True


def _not_technician(role: str | None, is_supervisor: bool) -> bool:
    return role is not None and role != Role.TECHNICIAN


def _not_field_staff(role: str | None, is_supervisor: bool) -> bool:
    return role is not None and role not in (Role.TECHNICIAN, Role.WAREHOUSE)


def _agent_or_supervisor(role: str | None, is_supervisor: bool) -> bool:
    return role == Role.AGENT or is_supervisor


def _supervisor(role: str | None, is_supervisor: bool) -> bool:
    return is_supervisor


def _merchant_admin(role: str | None, is_supervisor: bool) -> bool:
    return role == Role.MERCHANT_ADMIN


def _supervisor_or_warehouse(role: str | None, is_supervisor: bool) -> bool:
    return is_supervisor or role == Role.WAREHOUSE


def _technician(role: str | None, is_supervisor: bool) -> bool:
    return role == Role.TECHNICIAN


# The menu in its order: URL name, label, who sees it. The labels are written out for makemessages.
MENU: tuple[tuple[str, Callable[[], str], Callable[[str | None, bool], bool]], ...] = (
    ("dashboard:queue", lambda: _("Queue"), _everyone),
    ("dashboard:ticket_new", lambda: _("New ticket"), _everyone),
    ("dashboard:macros", lambda: _("Macros"), _everyone),
    ("dashboard:agents", lambda: _("Agents"), _everyone),
    ("dashboard:returns", lambda: _("Returns"), _not_technician),
    ("dashboard:articles", lambda: _("Knowledge base"), _not_field_staff),
    ("dashboard:feedback_followups", lambda: _("Feedback"), _agent_or_supervisor),
    ("dashboard:sla_report", lambda: _("SLA report"), _supervisor),
    ("dashboard:routing_rules", lambda: _("Routing"), _supervisor),
    ("dashboard:returns_report", lambda: _("Returns report"), _supervisor),
    ("dashboard:complaint_report", lambda: _("Complaints report"), _supervisor),
    ("dashboard:kpi_home", lambda: _("KPIs"), _supervisor),
    ("dashboard:exports", lambda: _("Exports"), _supervisor),
    ("dashboard:quality_alerts", lambda: _("Quality alerts"), _supervisor),
    ("dashboard:mailboxes", lambda: _("Mailboxes"), _merchant_admin),
    ("dashboard:dispatch_board", lambda: _("Dispatch"), _supervisor),
    ("dashboard:repair_technicians", lambda: _("Technicians"), _supervisor),
    ("dashboard:repair_parts", lambda: _("Parts"), _supervisor_or_warehouse),
    ("dashboard:repair_stock", lambda: _("Stock"), _supervisor_or_warehouse),
    ("dashboard:my_day", lambda: _("My day"), _technician),
)


@functools.lru_cache(maxsize=64)
def _menu(
    language: str | None, role: str | None, is_supervisor: bool, script_prefix: str
) -> tuple[tuple[str, str], ...]:
    """The (URL, escaped label) of each link the role sees, in ``language`` (the active one)."""
    return tuple((reverse(name), escape(label())) for name, label, shown in MENU if shown(role, is_supervisor))


@functools.lru_cache(maxsize=8)
def _words(language: str | None, script_prefix: str) -> dict[str, str]:
    return {
        "aftersales": escape(_("Aftersales")),
        "main": escape(_("Main")),
        "merchant": escape(_("Merchant")),
        "switch": escape(_("Switch")),
        "log_out": escape(_("Log out")),
        "language": escape(_("Language")),
        "change": escape(_("Change")),
        "queue_url": escape(reverse("dashboard:queue")),
        "switch_url": escape(reverse("dashboard:switch_merchant")),
        "logout_url": escape(reverse("dashboard:logout")),
        "set_language_url": escape(reverse("set_language")),
    }


@functools.lru_cache(maxsize=64)
def _constant_fragment(template_name: str, language: str | None, script_prefix: str) -> str:
    return get_template(template_name).render({})


@register.simple_tag
def constant_include(template_name: str) -> str:
    """``{% include template_name %}`` of a template that reads nothing of the page (its words,
    URLs and static files' URLs only, no request, no CSRF token): rendered once per language and
    script prefix and kept. Rendered afresh with ``DEBUG`` on, where templates are being edited."""
    if settings.DEBUG:
        return get_template(template_name).render({})
    # mark_safe: the output of a template rendered with autoescape.
    return mark_safe(_constant_fragment(template_name, translation.get_language(), get_script_prefix()))  # noqa: S308


def csrf_input(context) -> str:
    """What ``{% csrf_token %}`` writes."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":  # noqa: S105 -- Django's word for "no token", not a secret
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(str(token))}">'


def _language_switcher(context, words: dict[str, str]) -> str:
    request = context.get("request")
    current = translation.get_language()
    options = "".join(
        f'<option value="{escape(code)}"{" selected" if code == current else ""}>'
        f"{'简体中文' if code == 'zh-hans' else 'English'}</option>"
        for code in _language_codes()
    )
    next_path = escape(request.get_full_path()) if request is not None else ""
    return (
        f'<form class="language-switcher" action="{words["set_language_url"]}" method="post">{csrf_input(context)}\n'
        f'  <input type="hidden" name="next" value="{next_path}">\n'
        f'  <label class="visually-hidden" for="language-select">{words["language"]}</label>\n'
        '  <select id="language-select" name="language" onchange="this.form.submit()">\n'
        f"    {options}\n"
        "  </select>\n"
        f'  <noscript><button type="submit">{words["change"]}</button></noscript>\n'
        "</form>"
    )


def _language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@register.simple_tag(takes_context=True)
def language_switcher(context) -> str:
    """The language picker of every page (``includes/language_switcher.html`` calls this)."""
    # mark_safe: the path is escaped, the rest are fixed words and escaped labels.
    return mark_safe(_language_switcher(context, _words(translation.get_language(), get_script_prefix())))  # noqa: S308


@register.simple_tag(takes_context=True)
def dashboard_topbar(context) -> str:
    """The top bar of a dashboard page: ``membership``, ``memberships`` and ``request`` of the
    page's context (``aftersales.pages.render_dashboard``)."""
    request = context.get("request")
    membership = context.get("membership")
    memberships = context.get("memberships") or []
    language = translation.get_language()
    prefix = get_script_prefix()
    words = _words(language, prefix)
    role = membership.role if membership else None
    path = request.path if request is not None else None
    current = ' aria-current="page"'
    links = "\n".join(
        f'      <a href="{url}"{current if url == path else ""}>{label}</a>'
        for url, label in _menu(language, role, bool(membership and membership.is_supervisor), prefix)
    )
    if len(memberships) > 1:
        options = "".join(
            f'<option value="{m.merchant_id}"{" selected" if m.merchant_id == membership.merchant_id else ""}>'
            f"{escape(str(m.merchant.name))}</option>"
            for m in memberships
        )
        csrf = csrf_input(context)
        merchant = (
            f'      <form class="merchant-switcher" action="{words["switch_url"]}" method="post">{csrf}\n'
            f'        <label class="visually-hidden" for="merchant-select">{words["merchant"]}</label>\n'
            '        <select id="merchant-select" name="merchant" onchange="this.form.submit()">\n'
            f"          {options}\n"
            "        </select>\n"
            f'        <noscript><button type="submit" class="btn btn--small">{words["switch"]}</button></noscript>\n'
            "      </form>"
        )
    elif membership:
        merchant = f'      <span class="merchant-name">{escape(str(membership.merchant.name))}</span>'
    else:
        merchant = ""
    role_chip = (
        f'\n        <span class="user-chip__role">{escape(str(membership.get_role_display()))}</span>'
        if membership
        else ""
    )
    user = escape(str(request.user)) if request is not None else ""
    html = (
        '<header class="topbar">\n'
        '  <div class="topbar__inner">\n'
        f'    <a class="brand" href="{words["queue_url"]}"><span class="brand__mark" aria-hidden="true">A</span>'
        f'<span class="brand__name">{words["aftersales"]}</span></a>\n'
        f'    <nav class="topnav" aria-label="{words["main"]}">\n'
        f"{links}\n"
        "    </nav>\n"
        '    <div class="topbar__who">\n'
        f"{merchant}\n"
        '      <span class="user-chip">\n'
        f'        <span class="user-chip__name">{user}</span>{role_chip}\n'
        "      </span>\n"
        f"      {_language_switcher(context, words)}\n"
        f'      <form action="{words["logout_url"]}" method="post" class="logout-form">{csrf_input(context)}\n'
        f'        <button type="submit" class="btn btn--ghost btn--small">{words["log_out"]}</button>\n'
        "      </form>\n"
        "    </div>\n"
        "  </div>\n"
        "</header>"
    )
    # mark_safe: every value above went through escape; the rest are fixed words and URLs.
    return mark_safe(html)  # noqa: S308
