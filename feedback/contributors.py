"""Who served a case, beyond its assignee and team: a registry other apps fill.

repairs registers a contributor that names the technician of a repair's on-site visit; feedback
snapshots what the contributors say when the case resolves. A contributor returns a mapping of
role to staff user (only ``technician`` is read today), or an empty one."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aftersales.models import User
from tickets.models import Team, Ticket

Contributor = Callable[[Ticket], Mapping[str, User | None]]

_contributors: dict[str, Contributor] = {}


def register_contributor(name: str, contributor: Contributor) -> None:
    _contributors[name] = contributor


def unregister_contributor(name: str) -> None:
    _contributors.pop(name, None)


@dataclass(frozen=True)
class ServedBy:
    agent: User | None
    team: Team | None
    technician: User | None


def served_by(ticket: Ticket) -> ServedBy:
    """The assignee and team of the ticket as it stands, and the technician the contributors name
    (the first that names one, in the order they were registered)."""
    technician: User | None = None
    for contributor in _contributors.values():
        named = contributor(ticket).get("technician")
        if named is not None and named.memberships.filter(merchant_id=ticket.merchant_id, is_active=True).exists():
            technician = named
            break
    return ServedBy(agent=ticket.assignee, team=ticket.team, technician=technician)


# Cases that get no survey, as other apps know them (support-routing: a case merged into
# another). Each returns a short reason the survey row keeps, or None.
SurveyExclusion = Callable[[Ticket], str | None]

_exclusions: dict[str, SurveyExclusion] = {}


def register_survey_exclusion(name: str, exclusion: SurveyExclusion) -> None:
    _exclusions[name] = exclusion


def unregister_survey_exclusion(name: str) -> None:
    _exclusions.pop(name, None)


def survey_excluded(ticket: Ticket) -> str | None:
    """The reason the first registered exclusion gives for the ticket, or None."""
    for exclusion in _exclusions.values():
        reason = exclusion(ticket)
        if reason:
            return reason[:40]
    return None
