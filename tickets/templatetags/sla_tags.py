"""How SLA clocks read on the dashboard: countdowns ("in 42 min", "3 h 5 min overdue") and
business durations ("1 h 30 min").

``static/js/countdown.js`` ticks the countdowns on in the browser with the same words, which it
reads from ``countdown_formats`` so that both speak the page's language.
"""

import functools
from datetime import datetime
from html import escape
from typing import Any

from django import template
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets.sla_selectors import ClockState, clock_state

register = template.Library()

MINUTES_PER_DAY = 24 * 60


def _unit_formats() -> dict[str, str]:
    return dict(_words(translation.get_language())["units"])


def _state_labels() -> dict[str, str]:
    return dict(_words(translation.get_language())["states"])


@functools.lru_cache(maxsize=8)
def _words(language: str | None) -> dict[str, Any]:
    """The words of countdowns in ``language``, translated once per process (a catalog is read
    once per process too): the queue writes one countdown per row, eight translations each."""
    with translation.override(language):
        return {
            "units": {"days": _("%(n)s d"), "hours": _("%(n)s h"), "minutes": _("%(n)s min")},
            "states": {
                ClockState.NORMAL: _("On track"),
                ClockState.WARNING: _("Due soon"),
                ClockState.BREACHED: _("Breached"),
            },
            "in": _("in %(duration)s"),
            "overdue": _("%(duration)s overdue"),
            "due": _("Due %(due)s"),
        }


def duration_text(minutes: int, *, with_days: bool = True) -> str:
    """A duration such as "2 d 3 h", "3 h 5 min" or "42 min". Business durations pass
    ``with_days=False``: a business day is not 24 hours."""
    return _duration_text(minutes, _words(translation.get_language())["units"], with_days=with_days)


def _duration_text(minutes: int, units: dict[str, str], *, with_days: bool = True) -> str:
    minutes = max(int(minutes), 0)
    days, rest = divmod(minutes, MINUTES_PER_DAY) if with_days else (0, minutes)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [units["days"] % {"n": days}] + ([units["hours"] % {"n": hours}] if hours else [])
    elif hours:
        parts = [units["hours"] % {"n": hours}] + ([units["minutes"] % {"n": minutes}] if minutes else [])
    else:
        parts = [units["minutes"] % {"n": minutes}]
    return " ".join(parts)


def calendar_duration_text(minutes: int) -> str:
    """A wall-clock duration as a person reads it: "5 days 12 h" rather than "132 h 21 min";
    under a day, "3 h 5 min" or "42 min"."""
    minutes = max(int(minutes), 0)
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    if not days:
        return duration_text(minutes)
    hours = rest // 60
    text = ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    return f"{text} {_unit_formats()['hours'] % {'n': hours}}" if hours else text


def countdown_text(due_at: datetime, now: datetime) -> str:
    return _countdown_text(due_at, now, _words(translation.get_language()))


def _countdown_text(due_at: datetime, now: datetime, words: dict[str, Any]) -> str:
    seconds = (due_at - now).total_seconds()
    if seconds > 0:
        return words["in"] % {"duration": _duration_text(int(seconds // 60), words["units"])}
    return words["overdue"] % {"duration": _duration_text(int(-seconds // 60), words["units"])}


@register.filter
def business_duration(minutes) -> str:
    if minutes is None or minutes == "":
        return "—"
    return duration_text(int(minutes), with_days=False)


@register.filter
def calendar_duration(minutes) -> str:
    """Minutes of the clock on the wall (not business minutes), in days and hours past a day."""
    if minutes is None or minutes == "":
        return "—"
    return calendar_duration_text(int(minutes))


def countdown_html(due_at: datetime | None, warn_at: datetime | None, escalation_level: int, now: datetime):
    """A deadline's countdown with its state badge: on track, due soon (past the warning time) or
    breached (past due, or the ticket already escalated for a breach). Plain string building with
    ``escape``: the queue renders one per row (through ``Countdowns``)."""
    return Countdowns(now)(due_at, warn_at, escalation_level)


class Countdowns:
    """``countdown_html`` for the rows of one page: the page's words and time zone are looked up
    once, not three times a row (each lookup reads the request's thread-local state)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.words = _words(translation.get_language())
        self.time_zone = timezone.get_current_timezone()
        self.badges = {state: escape(label) for state, label in self.words["states"].items()}

    def __call__(self, due_at: datetime | None, warn_at: datetime | None, escalation_level: int) -> SafeString:
        now = self.now
        state = clock_state(due_at=due_at, warn_at=warn_at, escalation_level=escalation_level or 0, now=now)
        if state == "none":
            return mark_safe('<span class="muted">—</span>')
        escalated = ' data-escalated="1"' if escalation_level else ""
        badge = f'<span class="countdown__badge">{self.badges.get(state, "")}</span>'
        if due_at is None:
            # mark_safe: the badge's label is escaped, the state and the attribute are fixed words.
            return mark_safe(f'<span class="countdown countdown--{state}"{escalated}>{badge}</span>')  # noqa: S308
        local_due = due_at.astimezone(self.time_zone)
        due_iso = local_due.isoformat()
        warn = f' data-warn="{warn_at.astimezone(self.time_zone).isoformat()}"' if warn_at else ""
        title = escape(self.words["due"] % {"due": local_due.strftime("%Y-%m-%d %H:%M")})
        # mark_safe: the labels are escaped; the rest are ISO times and fixed words.
        return mark_safe(  # noqa: S308
            f'<span class="countdown countdown--{state}" data-due="{due_iso}"{warn}{escalated}>{badge} '
            f'<time class="countdown__text" datetime="{due_iso}" title="{title}">'
            f"{escape(_countdown_text(due_at, now, self.words))}</time></span>"
        )


@register.simple_tag(takes_context=True)
def countdown(context, due_at: datetime | None, warn_at: datetime | None = None, escalation_level: int = 0):
    return countdown_html(due_at, warn_at, escalation_level, context.get("now") or timezone.now())


@register.simple_tag
def countdown_formats() -> dict:
    """The words countdown.js needs, in the page's language; render with ``json_script``."""
    return {
        "in": _("in %(duration)s"),
        "overdue": _("%(duration)s overdue"),
        "units": _unit_formats(),
        "states": _state_labels(),
    }
