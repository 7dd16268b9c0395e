"""Panels of the staff ticket page written in Python, like the timeline and the form rows
(``aftersales/templatetags/dashboard_tags.py``): the SLA panel with its "remind me" box.

As a template the SLA panel resolved every variable of every clock through the template engine
(a ticket with a dozen next-response clocks: ~4 ms of the page's CPU). The markup is the
template's; every value from the database goes through ``escape`` (or ``conditional_escape``
for the form's own safe markup), every word through ``gettext``, so both languages read as before.
As in the template, a ``{% translate %}`` is escaped, and the text of a ``{% blocktranslate %}``
is not, only the values put into it.
"""

import functools
from collections.abc import Iterable
from datetime import datetime, tzinfo
from html import escape
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # public, not in the stubs
from django.utils.translation import gettext as _

from aftersales.templatetags.dashboard_frame import csrf_input
from aftersales.templatetags.dashboard_tags import field_row, field_widget, short_datetime, status_badge, status_label
from tickets.sla_selectors import SlaClock
from tickets.templatetags.sla_tags import Countdowns, business_duration

register = template.Library()

MINUTE = "%Y-%m-%d %H:%M"  # the template's |date:"Y-m-d H:i"


def _time(instant: datetime, time_zone: tzinfo) -> str:
    """``<time>`` of an instant in the current time zone (``time_zone``, read once a panel), as
    ``|date:'c'`` and ``|date:"Y-m-d H:i"`` write it (the ISO form, and the minute)."""
    local = instant.astimezone(time_zone)
    return f'<time datetime="{escape(local.isoformat())}">{escape(local.strftime(MINUTE))}</time>'


def _minute(instant: datetime | None) -> str:
    return escape(timezone.localtime(instant).strftime(MINUTE)) if instant is not None else ""


def _clock(clock: SlaClock, words: dict[str, str], time_zone: tzinfo, countdowns: Countdowns) -> str:
    deadline = clock.deadline
    outcome = escape(str(clock.outcome))
    lines = [
        f'    <li class="sla-clock sla-clock--{outcome}" data-deadline="{deadline.pk}">',
        '      <div class="sla-clock__head">',
        f"        <strong>{escape(str(clock.target_label))}</strong>",
        f'        <span class="badge sla-outcome sla-outcome--{outcome}">{escape(str(clock.outcome_label))}</span>',
        "      </div>",
        '      <dl class="details">',
        (
            f'        <dt>{words["target"]}</dt><dd class="sla-clock__target">'
            f"{escape(business_duration(deadline.target_minutes))}</dd>"
        ),
        f"        <dt>{words['started']}</dt><dd>{_time(deadline.started_at, time_zone)}</dd>",
    ]
    if clock.outcome == "paused":
        lines.append(
            f"        <dt>{words['time_left']}</dt><dd>{escape(business_duration(clock.remaining_minutes))}</dd>"
        )
    else:
        countdown = ""
        if clock.outcome == "pending":
            countdown = "<br>" + countdowns(deadline.due_at, deadline.warn_at, 0)
        lines.append(f"        <dt>{words['due']}</dt><dd>{_time(deadline.due_at, time_zone)}{countdown}</dd>")
    if clock.ended_at:
        ended = {"met": words["met"], "breached": words["breached"]}.get(clock.outcome, words["ended"])
        lines.append(f"        <dt>{ended}</dt>")
        lines.append(f"        <dd>{_time(clock.ended_at, time_zone)}</dd>")
    elapsed = words["of_business_time"] % {"elapsed": escape(business_duration(clock.elapsed_minutes))}
    lines.append(f'        <dt>{words["elapsed"]}</dt><dd class="sla-clock__elapsed">{elapsed}</dd>')
    if clock.breach:
        late_minutes = escape(business_duration(clock.late_minutes))
        if clock.is_late_so_far:
            late = _("%(late)s so far") % {"late": late_minutes}
        else:
            late = _("%(late)s (answered %(met)s)") % {"late": late_minutes, "met": _minute(clock.breach.met_at)}
        lines.append(f"        <dt>{words['late_by']}</dt>")
        lines.append(f'        <dd class="sla-clock__late">{late}</dd>')
    lines.append("      </dl>")
    if clock.pauses:
        lines.append(f"      <h3>{words['pauses']}</h3>")
        lines.append('      <ul class="mini-list sla-pauses">')
        for pause in clock.pauses:
            until = _time(pause.resumed_at, time_zone) if pause.resumed_at else words["still_paused"]
            reason = f" · {escape(status_label(pause.reason))}" if pause.reason else ""
            lines.append(f"        <li>{_time(pause.paused_at, time_zone)} – {until}{reason}</li>")
        lines.append("      </ul>")
    lines.append("    </li>")
    return "\n".join(lines)


def _sla_section(ticket, clocks: Iterable[SlaClock], now: datetime) -> str:
    clocks = list(clocks)
    words = {
        key: escape(text)
        for key, text in (
            ("target", _("Target")),
            ("started", _("Started")),
            ("time_left", _("Time left")),
            ("due", _("Due")),
            ("met", _("Met")),
            ("breached", _("Breached")),
            ("ended", _("Ended")),
            ("elapsed", _("Elapsed")),
            ("late_by", _("Late by")),
            ("pauses", _("Pauses")),
            ("still_paused", _("still paused")),
        )
    }
    # A blocktranslate's text: not escaped, only the value put into it.
    words["of_business_time"] = _("%(elapsed)s of business time")
    # (the words translated outside the f-strings: makemessages does not read inside them)
    policy = ticket.sla_policy
    if policy:
        policy_label = escape(_("Policy"))
        policy_line = f'<span class="facts__label">{policy_label}</span> <strong>{escape(policy.name)}</strong>'
    else:
        no_policy = escape(_("No SLA policy"))
        policy_line = f'<span class="muted">{no_policy}</span>'
    title = escape(_("SLA"))
    lines = [
        '<section class="card sla" aria-labelledby="sla-title">',
        f'  <h2 id="sla-title">{title}</h2>',
        f'  <p class="sla__policy">{policy_line}</p>',
    ]
    if clocks:
        lines.append('  <ol class="sla-clocks">')
        time_zone = timezone.get_current_timezone()
        countdowns = Countdowns(now)
        lines.extend(_clock(clock, words, time_zone, countdowns) for clock in clocks)
        lines.append("  </ol>")
    elif policy:
        not_started = escape(_("No clock has started yet."))
        lines.append(f'  <p class="muted">{not_started}</p>')
    lines.append("</section>")
    return "\n".join(lines)


def _remind_section(context, ticket, reminder, remind_form) -> str:
    csrf = csrf_input(context)
    title = escape(_("Remind me"))
    lines = [
        '<section class="card" aria-labelledby="remind-title">',
        f'  <h2 id="remind-title">{title}</h2>',
    ]
    if reminder:
        at = _("You will be reminded at %(at)s.") % {"at": _minute(reminder.due_at)}
        cancel_url = escape(ticket_url("dashboard:ticket_remind_cancel", ticket.number))
        cancel = escape(_("Cancel reminder"))
        note = (reminder.payload or {}).get("note")
        shown_note = f'<br><span class="muted">{conditional_escape(note)}</span>' if note else ""
        lines += [
            '  <div class="reminder">',
            f"    <p>{at}{shown_note}</p>",
            f'    <form method="post" action="{cancel_url}">{csrf}',
            f'      <button type="submit" class="btn btn--small">{cancel}</button>',
            "    </form>",
            "  </div>",
        ]
    if ticket.accepts_customer_messages:
        field = remind_form["remind_at"]
        errors = field.errors
        form_errors = remind_form.non_field_errors()
        zone = _("Time zone: %(zone)s") % {"zone": escape(str(context["membership"].merchant.timezone))}
        remind_url = escape(ticket_url("dashboard:ticket_remind", ticket.number))
        submit = escape(_("Change reminder") if reminder else _("Set reminder"))
        lines.append(f'  <form method="post" action="{remind_url}" class="stack action">{csrf}')
        if form_errors:
            lines.append(f'    <div class="form-errors" role="alert">{form_errors}</div>')
        lines += [
            f'    <div class="field{" field--error" if errors else ""}">',
            f'      <label for="{conditional_escape(field.id_for_label)}">{conditional_escape(field.label)}</label>',
            f"      {field_widget(field)}",
            f'      <p class="field__help">{zone}</p>',
        ]
        if errors:
            lines.append(f'      <div class="field__errors" role="alert">{errors}</div>')
        lines += [
            "    </div>",
            f"    {field_row(remind_form['note'])}",
            f'    <div><button type="submit" class="btn">{submit}</button></div>',
            "  </form>",
        ]
    lines.append("</section>")
    return "\n".join(lines)


@register.simple_tag(takes_context=True)
def sla_panel(context) -> str:
    """The SLA clocks of the ticket (policy, each clock's target, times, elapsed business time,
    lateness and pauses) and the viewer's "remind me" box: ``ticket``, ``sla_clocks``, ``now``,
    ``reminder`` and ``remind_form`` of the page's context."""
    ticket = context["ticket"]
    now = context.get("now") or timezone.now()
    html = (
        _sla_section(ticket, context.get("sla_clocks") or [], now)
        + "\n\n"
        + _remind_section(context, ticket, context.get("reminder"), context["remind_form"])
    )
    # mark_safe: every value above went through escape, the form's markup is Django's own.
    return mark_safe(html)  # noqa: S308


# What ``reverse`` leaves unquoted in a path argument (django.urls.resolvers), as the queue's rows use.
_URL_SAFE = "!$&'()*+,;=/~:@"
_INT_MARKER = 987654321
_STR_MARKER = "ticketurlmarker"


@functools.lru_cache(maxsize=256)
def _url_pattern(name: str, kinds: tuple[type, ...], script_prefix: str) -> str:
    """The URL of ``name`` with ``{}`` for each argument, its markers reversed once a process."""
    markers = [_INT_MARKER + index if kind is int else f"{_STR_MARKER}{index}" for index, kind in enumerate(kinds)]
    url = reverse(name, args=markers).replace("{", "{{").replace("}", "}}")
    for marker in markers:
        url = url.replace(str(marker), "{}", 1)
    return url


@register.simple_tag
def ticket_url(name: str, *args: int | str) -> str:
    """``{% url name arg … %}`` for the ticket page's links and forms (a ticket's number, a link's
    id), without resolving the URL pattern again for each of the page's twenty: the URL is the
    pattern reversed once, with each argument quoted as ``reverse`` quotes it. Escaped by the
    template as ``{% url %}`` is."""
    kinds = tuple(int if type(arg) is int else str for arg in args)
    pattern = _url_pattern(name, kinds, get_script_prefix())
    return pattern.format(*(str(arg) if type(arg) is int else quote(str(arg), safe=_URL_SAFE) for arg in args))


@register.simple_tag
def ticket_items(tickets) -> str:
    """A short list of tickets beside the page's own, one ``<li>`` each: the number linking to its
    page, the subject, the status badge (the customer's other cases). Every value from the
    database goes through ``escape``."""
    url = _url_pattern("dashboard:ticket", (str,), get_script_prefix())
    badges: dict[str, str] = {}
    items = []
    for ticket in tickets:
        badge = badges.get(ticket.status)
        if badge is None:
            badge = badges[ticket.status] = status_badge(ticket.status)
        link = escape(url.format(quote(str(ticket.number), safe=_URL_SAFE)))
        items.append(f'<li><a href="{link}">{escape(ticket.number)}</a> {escape(ticket.display_subject)} {badge}</li>')
    # mark_safe: every value above went through escape.
    return mark_safe("\n".join(items))  # noqa: S308


def _shown(value) -> str:
    """``{{ value }}``: in the current time zone and locale, escaped."""
    return escape(str(localize(template_localtime(value))))


@register.simple_tag(takes_context=True)
def order_panel(context) -> str:
    """The ticket's order (number, store, dates) with its lines, the lines the ticket names marked,
    and the totals: ``order``, ``order_lines``, ``linked_line_ids`` and ``order_total`` of the
    page's context. The markup is the template's; numbers and times are localised as
    ``{{ value }}`` writes them, and every value goes through ``escape``."""
    order = context.get("order")
    title = escape(_("Order"))
    head = f'<section class="card" aria-labelledby="order-title">\n  <h2 id="order-title">{title}</h2>'
    if not order:
        none = escape(_("No order is linked to this ticket."))
        return mark_safe(f'{head}\n  <p class="muted">{none}</p>\n</section>')  # noqa: S308 -- escaped

    def when(instant) -> str:
        return escape(short_datetime(template_localtime(instant))) or "—"

    linked = context.get("linked_line_ids") or set()
    in_ticket = escape(_("in this ticket"))
    rows = []
    linked_row = ' class="lines__linked"'
    linked_note = f" · {in_ticket}"
    for line in context.get("order_lines") or []:
        is_linked = line.pk in linked
        rows.append(
            f"    <tr{linked_row if is_linked else ''}>\n"
            f'      <td>{escape(line.name)}<br><span class="muted small">{escape(line.sku)}'
            f"{linked_note if is_linked else ''}</span></td>\n"
            f'      <td class="num">{_shown(line.quantity)}</td>\n'
            f'      <td class="num">{_shown(line.unit_price)}</td>\n'
            f'      <td class="num">{_shown(line.paid_amount)}</td>\n'
            "    </tr>"
        )
    # (the words translated outside the f-strings: makemessages does not read inside them)
    number, store, placed, shipped, delivered = (
        escape(_("Number")),
        escape(_("Store")),
        escape(_("Placed")),
        escape(_("Shipped")),
        escape(_("Delivered")),
    )
    lines_caption, item, quantity, unit_price, paid = (
        escape(_("Order lines")),
        escape(_("Item")),
        escape(_("Qty")),
        escape(_("Unit price")),
        escape(_("Paid")),
    )
    shipping, total = escape(_("Shipping")), escape(_("Total"))
    body = "\n".join(rows)
    shipping_amount, order_total = _shown(order.shipping_amount), _shown(context.get("order_total"))
    html = (
        f"{head}\n"
        '  <dl class="details">\n'
        f"    <dt>{number}</dt><dd>{escape(order.external_number)}</dd>\n"
        f"    <dt>{store}</dt><dd>{escape(str(order.store))}</dd>\n"
        f"    <dt>{placed}</dt><dd>{escape(short_datetime(template_localtime(order.placed_at)))}</dd>\n"
        f"    <dt>{shipped}</dt><dd>{when(order.shipped_at)}</dd>\n"
        f"    <dt>{delivered}</dt><dd>{when(order.delivered_at)}</dd>\n"
        "  </dl>\n"
        '  <div class="table-wrap">\n'
        '  <table class="lines">\n'
        f'    <caption class="visually-hidden">{lines_caption}</caption>\n'
        f'    <thead><tr><th scope="col">{item}</th><th scope="col" class="num">{quantity}</th>'
        f'<th scope="col" class="num">{unit_price}</th><th scope="col" class="num">{paid}</th></tr></thead>\n'
        "    <tbody>\n"
        f"{body}\n"
        "    </tbody>\n"
        "    <tfoot>\n"
        f'      <tr><th scope="row" colspan="3">{shipping}</th><td class="num">{shipping_amount}</td></tr>\n'
        f'      <tr><th scope="row" colspan="3">{total}</th><td class="num"><strong>'
        f"{order_total} {escape(order.currency)}</strong></td></tr>\n"
        "    </tfoot>\n"
        "  </table>\n"
        "  </div>\n"
        "</section>"
    )
    # mark_safe: every value above went through escape; the rest are fixed words.
    return mark_safe(html)  # noqa: S308
