"""Small pieces of the staff dashboard's pages: labels for stored codes, a line per timeline event."""

from html import escape
from urllib.parse import quote

from django import template
from django.template.defaultfilters import timesince_filter
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from tickets.models import TicketChannel, TicketEvent, TicketKind, TicketPriority, TicketStatus
from tickets.templatetags.sla_tags import countdown_html
from tickets.timeline import verb_label

register = template.Library()

Verb = TicketEvent.Verb


def _label(choices, value) -> str:
    # An enum lookup: unlike ``get_FOO_display`` it builds no dict of the choices on every call,
    # which the queue page would do three times per row.
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@register.filter
def status_label(value) -> str:
    return _label(TicketStatus, value)


@register.filter
def kind_label(value) -> str:
    return _label(TicketKind, value)


@register.filter
def priority_label(value) -> str:
    return _label(TicketPriority, value)


@register.filter
def priority_class(value) -> str:
    """A CSS modifier for a priority: low, normal, high, urgent."""
    try:
        return TicketPriority(int(value)).name.lower()
    except (TypeError, ValueError):
        return "normal"


@register.simple_tag
def event_summary(event: TicketEvent) -> str:
    """What happened, in one line after the actor's name. The data is what the service wrote."""
    data = event.data or {}
    verb = event.verb
    if verb == Verb.CREATED:
        return _("opened the ticket (%(channel)s)") % {"channel": _label(TicketChannel, data.get("channel", ""))}
    if verb == Verb.CUSTOMER_MESSAGE:
        return _("wrote")
    if verb == Verb.REPLY:
        return _("replied to the customer")
    if verb == Verb.NOTE:
        return _("added an internal note")
    if verb == Verb.ASSIGNED:
        if data.get("to"):
            line = _("assigned the ticket to %(name)s") % {"name": data.get("to_name") or data["to"]}
        else:
            line = _("unassigned the ticket")
        if data.get("team"):
            line += " · " + _("team %(team)s") % {"team": data["team"]}
        return line
    if verb == Verb.STATUS_CHANGED:
        return _("changed the status from %(from)s to %(to)s") % {
            "from": status_label(data.get("from", "")),
            "to": status_label(data.get("to", "")),
        }
    if verb == Verb.PRIORITY_CHANGED:
        return _("changed the priority from %(from)s to %(to)s") % {
            "from": priority_label(data.get("from", "")),
            "to": priority_label(data.get("to", "")),
        }
    if verb == Verb.ORDER_LINKED:
        return _("linked order %(order)s") % {"order": data.get("order", "")}
    if verb == Verb.TAGS_CHANGED:
        if data.get("to"):
            return _("set the tags to %(tags)s") % {"tags": ", ".join(data["to"])}
        return _("removed every tag")
    if verb == Verb.ESCALATED:
        if data.get("level") is not None:
            return _("escalated the ticket to level %(level)s") % {"level": data["level"]}
        return _("escalated the ticket")
    if verb in Verb.values:
        return str(Verb(verb).label)
    # Verbs of the workflows that hang off a case (returns, repairs) register their own labels.
    return verb_label(verb) or verb.replace(".", " · ").replace("_", " ")


@register.simple_tag(takes_context=True)
def queue_rows(context, tickets, selectable=False) -> str:
    """The queue's rows, built in Python as Django's admin builds its change list
    (``admin_list.items_for_result``): resolving the row template 50 times a page, and then
    ``format_html`` per cell, was most of the page's server time. Every value from the database
    goes through ``escape``; the cells and mobile labels match the header in
    ``dashboard/queue.html``."""
    now = context.get("now") or timezone.now()
    labels = [
        escape(str(label))
        for label in (
            _("Number"),
            _("Subject"),
            _("Kind"),
            _("Status"),
            _("Next deadline"),
            _("Priority"),
            _("Customer"),
            _("Order"),
            _("Assignee"),
            _("Age"),
        )
    ]
    muted_dash = '<span class="muted">—</span>'
    unassigned = f'<span class="muted">{escape(_("Unassigned"))}</span>'
    # One reverse for the page, not one per row (about 28 us of CPU each): the number is the
    # URL's only part, quoted as reverse quotes it.
    url_of = reverse("dashboard:ticket", args=["0"])[:-2] + "{}/"
    rows = []
    for ticket in tickets:
        url = escape(url_of.format(quote(ticket.number, safe=URL_SAFE)))
        number = escape(ticket.number)
        priority = priority_class(ticket.priority)
        created = timezone.localtime(ticket.created_at)
        cells = (
            f'<a class="ticket-number" href="{url}">{number}</a>',
            f'<a href="{url}">{escape(ticket.subject)}</a>',
            escape(kind_label(ticket.kind)),
            f'<span class="badge badge--{escape(ticket.status)}">{escape(status_label(ticket.status))}</span>',
            countdown_html(ticket.next_deadline_at, ticket.next_warn_at, ticket.escalation_level, now),
            f'<span class="priority priority--{priority}">{escape(priority_label(ticket.priority))}</span>',
            escape(str(ticket.customer)),
            escape(ticket.order.external_number) if ticket.order_id else muted_dash,
            escape(str(ticket.assignee)) if ticket.assignee_id else unassigned,
            (
                f'<time datetime="{created.isoformat()}" '
                f'title="{escape(date_format(created, "SHORT_DATETIME_FORMAT"))}">'
                f"{escape(timesince_filter(ticket.created_at, now))}</time>"
            ),
        )
        tds = "".join(
            f'<td data-label="{label}"{css}>{cell}</td>'
            for label, cell, css in zip(labels, cells, CELL_CLASSES, strict=True)
        )
        if selectable:
            # Ticked for the bulk form (form="queue-bulk"), which sits outside the table.
            tds = (
                f'<td class="queue__pick"><input type="checkbox" name="tickets" value="{number}" form="queue-bulk"'
                f' aria-label="{escape(_("Select %(number)s") % {"number": ticket.number})}"></td>{tds}'
            )
        rows.append(f'<tr class="queue__row queue__row--{priority}">{tds}</tr>')
    return mark_safe("\n".join(rows))  # noqa: S308 -- every value above went through escape


# What ``reverse`` leaves unquoted in a path argument (django.urls.resolvers).
URL_SAFE = "!$&'()*+,;=/~:@"
CELL_CLASSES = ("", ' class="queue__subject"', "", "", ' class="queue__deadline"', "", "", "", "", "")
