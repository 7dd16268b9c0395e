"""The collision notice: an agent writing a reply says so, for a few seconds at a time."""

from django.core.cache import cache
from django.utils import timezone

from aftersales.models import User
from tickets.models import Ticket
from tickets.selectors.routing import REPLYING_SECONDS, replying_key


def replying_mark(*, ticket: Ticket, user: User) -> None:
    """The user is writing a reply on the ticket: a short-lived entry in the cache, not the
    database. Two agents marking at the same instant may drop one entry until its next refresh
    (a few seconds): a notice, not a lock."""
    now = timezone.now().timestamp()
    key = replying_key(ticket.pk)
    entries: dict[str, list[object]] = cache.get(key) or {}
    entries = {
        uid: value
        for uid, value in entries.items()
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], (int, float)) and value[1] > now
    }
    entries[str(user.pk)] = [str(user), now + REPLYING_SECONDS]
    cache.set(key, entries, REPLYING_SECONDS)


def replying_clear(*, ticket: Ticket, user: User) -> None:
    key = replying_key(ticket.pk)
    entries: dict[str, list[object]] = cache.get(key) or {}
    if entries.pop(str(user.pk), None) is not None:
        cache.set(key, entries, REPLYING_SECONDS)
