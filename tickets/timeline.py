"""Appending to a case's timeline. Events are only ever added, never changed or removed."""

from collections.abc import Callable
from typing import Any

from aftersales import bulk
from tickets.models import Ticket, TicketEvent


def event_append(
    ticket: Ticket, verb: str, *, actor_user=None, actor_customer=None, data=None, public=False, message=None
) -> TicketEvent:
    """Add an event in the caller's transaction (gathered into one insert inside the sweep)."""
    return bulk.insert(
        TicketEvent(
            merchant_id=ticket.merchant_id,
            ticket=ticket,
            verb=verb,
            actor_user=actor_user,
            actor_customer=actor_customer,
            data=data or {},
            is_public=public,
            message=message,
        )
    )


# How other apps' event verbs read on the timeline ("return_received" → "received the parcel").
# Each app registers its verbs in its AppConfig.ready, so the case hub never imports them.
_verb_labels: dict[str, object] = {}


def register_verb_labels(labels: dict[str, object]) -> None:
    _verb_labels.update(labels)


def verb_label(verb: str) -> str | None:
    label = _verb_labels.get(verb)
    return str(label) if label is not None else None


# A line under an event that says more than its verb ("automatically, by the rule …"), from the
# event's data; registered per verb by the app that appends it, like the labels above.
_verb_details: dict[str, Callable[[dict[str, Any]], str]] = {}


def register_verb_details(details: dict[str, Callable[[dict[str, Any]], str]]) -> None:
    _verb_details.update(details)


def verb_detail(verb: str, data: dict[str, Any] | None) -> str:
    describe = _verb_details.get(verb)
    return describe(data or {}) if describe is not None else ""
