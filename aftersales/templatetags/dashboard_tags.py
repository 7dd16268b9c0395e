"""Small pieces of the staff dashboard's pages: labels for stored codes, a line per timeline event."""

import functools
import re
from collections.abc import Callable
from datetime import datetime
from html import escape
from operator import attrgetter, methodcaller
from typing import ClassVar
from urllib.parse import quote

from django import forms, template
from django.template.defaultfilters import date as dateformat_filter
from django.template.defaultfilters import filesizeformat, slugify
from django.urls import get_script_prefix, reverse
from django.utils import dateformat, timezone, translation
from django.utils.formats import get_format
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import gettext as _

from tickets.models import TicketChannel, TicketEvent, TicketKind, TicketPriority, TicketStatus
from tickets.templatetags.sla_tags import Countdowns
from tickets.timeline import verb_detail, verb_label

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
def channel_label(value) -> str:
    return _label(TicketChannel, value)


@register.filter
def status_badge(value) -> str:
    """A ticket status as a badge: the status's own class, its label."""
    # mark_safe: both values went through escape.
    return mark_safe(f'<span class="badge badge--{escape(str(value))}">{escape(status_label(value))}</span>')  # noqa: S308


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
    return _summary(event.verb, event.data or {})


def _summary(verb: str, data: dict) -> str:
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
    time_zone = timezone.get_current_timezone()
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
    # Each label once a page, not once a row (a translation lookup each); the date format once.
    kinds, statuses, priorities = _Labels(kind_label), _Labels(status_label), _Labels(priority_label)
    short_datetime = _PageDateFormat(get_format("SHORT_DATETIME_FORMAT"))
    countdown = Countdowns(now)
    select_label = _("Select %(number)s")
    age_words = _CountedTimeStrings()
    # Each cell's opening tag once a page; a row is then one f-string.
    (
        number_td,
        subject_td,
        kind_td,
        status_td,
        deadline_td,
        priority_td,
        customer_td,
        order_td,
        assignee_td,
        age_td,
    ) = (f'<td data-label="{label}"{css}>' for label, css in zip(labels, CELL_CLASSES, strict=True))
    status_badges = _Memo(lambda status: f'<span class="badge badge--{escape(status)}">{statuses[status]}</span>')
    priority_classes = _Memo(priority_class)
    rows = []
    for ticket in tickets:
        url = escape(url_of.format(quote(ticket.number, safe=URL_SAFE)))
        number = escape(ticket.number)
        priority = priority_classes[ticket.priority]
        created = ticket.created_at.astimezone(time_zone)
        pick = (
            # Ticked for the bulk form (form="queue-bulk"), which sits outside the table.
            f'<td class="queue__pick"><input type="checkbox" name="tickets" value="{number}" form="queue-bulk"'
            f' aria-label="{escape(select_label % {"number": ticket.number})}"></td>'
            if selectable
            else ""
        )
        order = escape(ticket.order.external_number) if ticket.order_id else muted_dash
        assignee = escape(str(ticket.assignee)) if ticket.assignee_id else unassigned
        rows.append(
            f'<tr class="queue__row queue__row--{priority}">{pick}'
            f'{number_td}<a class="ticket-number" href="{url}">{number}</a></td>'
            f'{subject_td}<a href="{url}">{escape(ticket.display_subject)}</a></td>'
            f"{kind_td}{kinds[ticket.kind]}</td>"
            f"{status_td}{status_badges[ticket.status]}</td>"
            f"{deadline_td}{countdown(ticket.next_deadline_at, ticket.next_warn_at, ticket.escalation_level)}</td>"
            f'{priority_td}<span class="priority priority--{priority}">{priorities[ticket.priority]}</span></td>'
            f"{customer_td}{escape(str(ticket.customer))}</td>"
            f"{order_td}{order}</td>"
            f"{assignee_td}{assignee}</td>"
            f'{age_td}<time datetime="{created.isoformat()}" title="{escape(short_datetime(created))}">'
            f"{escape(_age(ticket.created_at, now, age_words))}</time></td>"
            "</tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 -- every value above went through escape


def _age(created_at, now, time_strings) -> str:
    """``timesince``, as the ``timesince`` filter writes it ("" for what it refuses)."""
    try:
        return timesince(created_at, now, time_strings=time_strings)
    except (ValueError, TypeError):
        return ""


class _CountedTimeStrings(dict):
    """Django's ``TIME_STRINGS`` for ``timesince``, each count's words translated once a page: a
    page of 50 ages asked the translation catalog for "%(num)d day(s)" a hundred times."""

    def __missing__(self, unit):
        self[unit] = words = _CountedWords(TIME_STRINGS[unit])
        return words


class _CountedWords:
    def __init__(self, words) -> None:
        self.words = words
        self.by_count: dict[int, str] = {}

    def __mod__(self, values: dict[str, int]) -> str:
        count = values["num"]
        text = self.by_count.get(count)
        if text is None:
            text = self.by_count[count] = self.words % values
        return text


class _PageDateFormat:
    """``dateformat.format(value, format_string)`` for the many instants of one page, with the same
    result: the format is split once, not once a row, and what a translated format character
    writes ("p.m.", "noon", a month's or a weekday's name) is translated once per value it
    depends on (a gettext each, two a row for English's "P")."""

    # A format character whose output is a translation -> what of the instant it depends on.
    TRANSLATED: ClassVar[dict[str, Callable[[datetime], object]]] = {
        "a": attrgetter("hour"),
        "A": attrgetter("hour"),
        "P": attrgetter("hour", "minute"),
        "b": attrgetter("month"),
        "E": attrgetter("month"),
        "F": attrgetter("month"),
        "M": attrgetter("month"),
        "N": attrgetter("month"),
        "D": methodcaller("weekday"),
        "l": methodcaller("weekday"),
    }

    def __init__(self, format_string: str) -> None:
        self.pieces: list[tuple[str, str]] = []  # (format character, "") or ("", literal text)
        for index, piece in enumerate(dateformat.re_formatchars.split(str(format_string))):
            if index % 2:
                self.pieces.append((piece, ""))
            elif piece:
                self.pieces.append(("", dateformat.re_escaped.sub(r"\1", piece)))
        self.translated: dict[tuple[str, object], str] = {}

    def __call__(self, value: datetime) -> str:
        formatter = dateformat.DateFormat(value)
        parts = []
        for character, literal in self.pieces:
            if not character:
                parts.append(literal)
                continue
            depends_on = self.TRANSLATED.get(character)
            if depends_on is None:
                parts.append(str(getattr(formatter, character)()))
                continue
            key = (character, depends_on(value))
            text = self.translated.get(key)
            if text is None:
                text = self.translated[key] = str(getattr(formatter, character)())
            parts.append(text)
        return "".join(parts)


@functools.lru_cache(maxsize=16)
def _short_datetime_format(language: str | None) -> _PageDateFormat:
    return _PageDateFormat(get_format("SHORT_DATETIME_FORMAT"))


@register.filter(expects_localtime=True)
def short_datetime(value) -> str:
    """``|date:"SHORT_DATETIME_FORMAT"`` ("" for no value), with the format split once per language
    (``_PageDateFormat``) instead of once per value."""
    if value in (None, ""):
        return ""
    try:
        return _short_datetime_format(translation.get_language())(value)
    except (AttributeError, TypeError, ValueError):
        return dateformat_filter(value, "SHORT_DATETIME_FORMAT")


class _Memo(dict):
    """``function(value)`` for each value, computed once."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def __missing__(self, value):
        self[value] = result = self.function(value)
        return result


class _Labels(dict):
    """The escaped label of each value, looked up once."""

    def __init__(self, label):
        super().__init__()
        self.label = label

    def __missing__(self, value):
        self[value] = text = escape(self.label(value))
        return text


# What ``reverse`` leaves unquoted in a path argument (django.urls.resolvers).
URL_SAFE = "!$&'()*+,;=/~:@"
CELL_CLASSES = ("", ' class="queue__subject"', "", "", ' class="queue__deadline"', "", "", "", "", "")


@register.simple_tag
def timeline_items(events) -> str:
    """The timeline's events as list items, built in Python like the queue's rows: an include
    per event (a conversation of 20 messages is some 40 events) resolved the event template's
    every variable through the template engine, the largest part of the ticket page's time.
    Every value from the database goes through ``escape`` (the body as ``linebreaksbr`` writes it)."""
    # (translated outside the f-strings: makemessages does not read inside them)
    internal = escape(_("Internal"))
    internal_badge = f'<span class="badge badge--internal">{internal}</span>'
    we_called, customer_called = escape(_("We called")), escape(_("Customer called"))
    attachments_label, view_mail = escape(_("Attachments")), escape(_("View the e-mail"))
    attachment_url = _url_of("dashboard:attachment")
    mail_url = _url_of("dashboard:mail_view")
    new_tab = ' target="_blank" rel="noopener"'
    # The format split once a page (``_PageDateFormat``), the time zone read once; ``|date:'c'``
    # is the ISO form.
    short_datetime = _PageDateFormat(get_format("SHORT_DATETIME_FORMAT"))
    time_zone = timezone.get_current_timezone()
    verb_classes: dict[str, str] = {}
    # What does not change from one event to the next is worked out once a page: the summary of
    # a message's verb (a translation each, twenty times in a conversation) and each actor's name.
    summaries = _Memo(_constant_summary)
    actors: dict[tuple[int | None, int | None], str] = {}
    items = []
    for event in events:
        message = event.message if event.message_id else None
        verb_class = verb_classes.get(event.verb)
        if verb_class is None:
            verb_class = verb_classes[event.verb] = slugify(event.verb)
        classes = f"event event--{verb_class}"
        if message is not None:
            kind = message.kind
            classes += " event--message" + (
                " event--internal" if kind == "note" else " event--reply" if kind == "reply" else " event--customer"
            )
        elif not event.is_public:
            classes += " event--internal"
        data = event.data or {}
        created = event.created_at.astimezone(time_zone)
        actor_key = (event.actor_user_id, event.actor_customer_id)
        actor = actors.get(actor_key)
        if actor is None:
            actor = actors[actor_key] = escape(event.actor_display)
        summary = summaries[event.verb] if event.verb in CONSTANT_SUMMARY_VERBS else escape(event_summary(event))
        lines = [
            f'<li class="{escape(classes)}">',
            '  <div class="event__head">',
            f'    <span class="event__actor">{actor}</span>',
            f'    <span class="event__what">{summary}</span>',
            f"    {internal_badge if (message is not None and message.kind == 'note') or not event.is_public else ''}",
            (
                f'    <time class="event__time" datetime="{escape(created.isoformat())}">'
                f"{escape(short_datetime(created))}</time>"
            ),
            "  </div>",
        ]
        note = data.get("note") if event.verb == "status_changed" and isinstance(data, dict) else None
        lines.append(f'  <p class="event__note">{escape(str(note))}</p>' if note else "  ")
        detail = verb_detail(event.verb, data)
        if detail:
            # A line under the event from its data, where the app that wrote it says more than the verb.
            lines.append(f'  <p class="event__note">{escape(str(detail))}</p>')
        if event.verb == "phone_call":
            who = we_called if data.get("direction") == "out" else customer_called
            duration = _("duration %(duration)s") % {"duration": escape(str(data.get("duration", "")))}
            lines.append(f'  <p class="event__note">{who} · {duration}</p>')
        else:
            lines.append("  ")
        if message is not None:
            # ``linebreaksbr`` with autoescape, without its lazy-string wrapper; a note the system
            # wrote is said in the reader's language (``display_body``).
            body = escape(_NEWLINES.sub("\n", message.display_body)).replace("\n", "<br>")
            lines.append(f'  <div class="event__body">{body}</div>')
            attachments = list(message.attachments.all())
            if attachments:
                lines.append(f'  <ul class="attachments" aria-label="{attachments_label}">')
                for attachment in attachments:
                    url = attachment_url.format(attachment.pk)
                    name = escape(attachment.original_name)
                    is_image, is_video = attachment.is_image, attachment.is_video
                    shown = (
                        f'<img src="{url}" alt="{name}" loading="lazy" class="attachments__thumb">'
                        if is_image
                        else ""
                        if is_video
                        else '<span class="attachments__file" aria-hidden="true">📄</span>'
                    )
                    video = (
                        f'      <video class="attachments__video" src="{url}" controls preload="metadata"'
                        f' playsinline aria-label="{name}"></video>'
                        if is_video
                        else ""
                    )
                    mail = (
                        f' <a href="{mail_url.format(attachment.pk)}" class="attachments__view">{view_mail}</a>'
                        if attachment.content_type == "message/rfc822"
                        else ""
                    )
                    lines += [
                        "    <li>",
                        *([video] if video else []),
                        f'      <a href="{url}"{new_tab if is_image else ""}>',
                        f"        {shown}",
                        (
                            f'        <span class="attachments__name">{name} <span class="muted">'
                            f"({escape(filesizeformat(attachment.size))})</span></span>"
                        ),
                        f"      </a>{mail}",
                        "    </li>",
                    ]
                lines.append("  </ul>")
        lines.append("</li>")
        items.append("\n".join(lines))
    return mark_safe("\n".join(items))  # noqa: S308 -- every value above went through escape


# Verbs whose one line never depends on the event's data (``event_summary``).
CONSTANT_SUMMARY_VERBS = frozenset((Verb.CUSTOMER_MESSAGE, Verb.REPLY, Verb.NOTE))
_NEWLINES = re.compile(r"\r\n|\r")  # what ``normalize_newlines`` replaces


def _constant_summary(verb: str) -> str:
    return escape(_summary(verb, {}))


def _url_of(name: str) -> str:
    """The URL of ``name`` for any integer key, with ``{}`` where the key goes."""
    return _url_pattern_of(name, get_script_prefix())


@functools.lru_cache(maxsize=64)
def _url_pattern_of(name: str, script_prefix: str) -> str:
    # One reverse per process and script prefix, not one a page.
    marker = 987654321
    return reverse(name, args=[marker]).replace(str(marker), "{}")


# Rows of unbound forms' constant fields, by form class, field, ids, language and value.
_CONSTANT_ROWS: dict[tuple, str] = {}
_CONSTANT_ROWS_KEPT = 2_000


def _constant_key(field, kind: str) -> tuple | None:
    """The key of a field's markup when it is the same for every unbound instance of its form:
    the form names it in ``constant_fields`` (its label, help, widget and choices never depend on
    what the instance was made with, or only on its ``constant_variant``), so only the language,
    the ids, the variant and the value can change it."""
    form = field.form
    if form.is_bound or field.name not in getattr(form, "constant_fields", ()):
        return None
    return (
        kind,
        type(form),
        field.name,
        form.auto_id,
        form.prefix,
        translation.get_language(),
        getattr(form, "constant_variant", None),
        repr(field.value()),
    )


def _constant(field, kind: str, render: Callable[[], str]) -> str:
    key = _constant_key(field, kind)
    if key is None:
        return render()
    html = _CONSTANT_ROWS.get(key)
    if html is None:
        if len(_CONSTANT_ROWS) >= _CONSTANT_ROWS_KEPT:  # a bound on memory, never reached by the pages
            _CONSTANT_ROWS.clear()
        html = _CONSTANT_ROWS[key] = render()
    return html


def field_widget(field) -> str:
    """``str(field)``: the field's widget, kept like ``field_row`` for a form's constant fields."""
    return _constant(field, "widget", field.__str__)


@register.simple_tag
def field_row(field) -> str:
    """A form field with its label, help and errors (``dashboard/includes/field.html``, which
    calls this): written in Python, as a page has a dozen or more of them. A field of an unbound
    form that its form lists in ``constant_fields`` is rendered once per language, ids and value
    and kept: the ticket page shows a dozen such rows, ~60 us of CPU each."""
    return _constant(field, "row", lambda: _field_row(field))


def _field_row(field) -> str:
    # One box beside its label; a list of boxes (CheckboxSelectMultiple has the same input_type)
    # is a field like any other, its label above the list, or it squeezes into one row.
    checkbox = isinstance(field.field.widget, forms.CheckboxInput)
    # A list of boxes or radios has no one control to label: the group is named by its caption.
    group = not checkbox and getattr(field.field.widget, "use_fieldset", False)
    classes = "field" + (" field--error" if field.errors else "") + (" field--check" if checkbox else "")
    label_for = conditional_escape(field.id_for_label)
    label = conditional_escape(field.label)
    group_attrs = ""
    if checkbox:
        head = f'  {field} <label for="{label_for}">{label}</label>'
    else:
        # The brackets are the translation's: （选填） in Chinese (outside the f-string, for makemessages).
        optional_word = conditional_escape(_("(optional)"))
        optional = "" if field.field.required else f' <span class="muted">{optional_word}</span>'
        if group:
            caption_id = f"{conditional_escape(field.auto_id)}_caption"
            group_attrs = f' role="group" aria-labelledby="{caption_id}"'
            head = f'  \n  <span class="field__caption" id="{caption_id}">{label}{optional}</span>\n  {field}'
        else:
            head = f'  \n  <label for="{label_for}">{label}{optional}</label>\n  {field}'
    help_id = f"{conditional_escape(field.auto_id)}_helptext"
    help_text = (
        f'<p class="field__help" id="{help_id}">{conditional_escape(field.help_text)}</p>' if field.help_text else ""
    )
    errors = f'<div class="field__errors" role="alert">{field.errors}</div>' if field.errors else ""
    # mark_safe: the widget and the errors are Django's safe markup; every other value is escaped.
    return mark_safe(f'<div class="{classes}"{group_attrs}>\n{head}\n  {help_text}\n  {errors}\n</div>')  # noqa: S308
