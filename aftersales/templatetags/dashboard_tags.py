"""Small pieces of the staff dashboard's pages: labels for stored codes, a line per timeline event."""

from django import template
from django.utils.translation import gettext as _

from tickets.models import TicketChannel, TicketEvent, TicketPriority, TicketStatus

register = template.Library()

Verb = TicketEvent.Verb


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@register.filter
def status_label(value) -> str:
    return _label(TicketStatus, value)


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
    # Verbs of the return and repair workflows ("return.approved"): readable without a table here.
    return verb.replace(".", " · ").replace("_", " ")
