"""Warranty arithmetic, pure: when each coverage of a unit ends, and whether it covers a repair now.

Coverage is counted like the 7-day return floor, in the merchant's time zone from the day after the
start (delivery, or installation with proof): a 12-month coverage of a unit delivered on 15 January
covers until the end of 15 January a year later. A named component has its own duration; an
extended warranty adds its months to the coverage of the same kind, after it.
"""

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from repairs.models import CoverageKind, Exclusion, LineKind, Remedy
from repairs.sanbao import SanbaoRule

ONE_SECOND = timedelta(seconds=1)


def add_months(day: date, months: int) -> date:
    """``day`` ``months`` later, the day clamped to the month's end (31 January + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def coverage_ends_at(starts_at: datetime, months: int, zone: ZoneInfo) -> datetime:
    """The first instant no longer covered: local midnight after the last covered day."""
    start_day = starts_at.astimezone(zone).date()
    return datetime.combine(add_months(start_day, months) + timedelta(days=1), time(0), tzinfo=zone)


@dataclass(frozen=True)
class CoverageSpec:
    kind: str
    months: int
    component: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.component}" if self.component else self.kind


@dataclass(frozen=True)
class CoverageAnswer:
    """One coverage's answer with its reason: covered until when, or out since when, or why not."""

    kind: str
    component: str
    covered: bool
    reason: str
    message: str
    ends_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.component}" if self.component else self.kind

    @property
    def last_covered_at(self) -> datetime | None:
        return self.ends_at - ONE_SECOND if self.ends_at else None

    def snapshot(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "component": self.component,
            "covered": self.covered,
            "reason": self.reason,
            "message": self.message,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
        }


@dataclass(frozen=True)
class Eligibility:
    """The warranty's answer for a unit at one instant, coverage by coverage."""

    at: datetime
    answers: tuple[CoverageAnswer, ...]
    exclusions: tuple[str, ...] = ()
    goodwill_limit: Any = None
    notes: tuple[str, ...] = field(default=())

    def answer(self, kind: str, component: str = "") -> CoverageAnswer | None:
        """The component's own answer if it has one, else the coverage of its kind."""
        if component:
            for answer in self.answers:
                if answer.kind == CoverageKind.COMPONENT and answer.component == component:
                    return answer
        for answer in self.answers:
            if answer.kind == kind and not answer.component:
                return answer
        return None

    def covers(self, kind: str, component: str = "") -> bool:
        answer = self.answer(kind, component)
        return answer is not None and answer.covered

    @property
    def any_covered(self) -> bool:
        return any(answer.covered for answer in self.answers)

    def snapshot(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "coverages": [answer.snapshot() for answer in self.answers],
            "exclusions": list(self.exclusions),
            "goodwill_limit": str(self.goodwill_limit) if self.goodwill_limit is not None else None,
            "notes": list(self.notes),
        }


def merge_extensions(base: Sequence[CoverageSpec], extensions: Iterable[CoverageSpec]) -> list[CoverageSpec]:
    """The base coverages with each extension's months added to the coverage of its kind (a new
    coverage if the base had none of that kind)."""
    months = {spec.key: spec for spec in base}
    for extension in extensions:
        current = months.get(extension.key)
        months[extension.key] = CoverageSpec(
            kind=extension.kind,
            component=extension.component,
            months=(current.months if current else 0) + extension.months,
        )
    return list(months.values())


def _date_label(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%Y-%m-%d}"


def coverage_message(*, reason: str, ends_at: datetime | None, zone: ZoneInfo, exclusions: Sequence[str] = ()) -> str:
    """One coverage's answer in words, in the active language. A repair keeps the reason and the
    end of each coverage in its snapshot, so a page says it in the reader's language, not in the
    language of whoever triaged the repair."""
    if reason == "excluded":
        labels = ", ".join(str(Exclusion(code).label) for code in exclusions)
        return _("Not covered: %(exclusions)s.") % {"exclusions": labels}
    if reason == "not_started" or ends_at is None:
        return _("The warranty has not started: no delivery or installation date yet.")
    if reason == "in_warranty":
        return _("In warranty until the end of %(date)s.") % {"date": _date_label(ends_at - ONE_SECOND, zone)}
    return _("Out of warranty since %(date)s.") % {"date": _date_label(ends_at, zone)}


# Components merchants commonly cover on their own terms, by the key the term stores, named in
# the reader's language ("igniter" showed as written on a Chinese page); any other component
# shows as the merchant wrote it.
COMPONENT_LABELS = {
    "battery": pgettext_lazy("warranty component", "Battery"),
    "igniter": pgettext_lazy("warranty component", "Igniter"),
    "compressor": pgettext_lazy("warranty component", "Compressor"),
    "motor": pgettext_lazy("warranty component", "Motor"),
    "screen": pgettext_lazy("warranty component", "Screen"),
    "cartridge": pgettext_lazy("warranty component", "Cartridge"),
}


def coverage_name(*, kind: str, component: str) -> str:
    """What a coverage is called: the component the merchant named, else its kind's label."""
    if component:
        known = COMPONENT_LABELS.get(component.strip().lower())
        return str(known) if known is not None else component
    try:
        return str(CoverageKind(kind).label)
    except ValueError:
        return kind


def eligibility(
    *,
    starts_at: datetime | None,
    zone: ZoneInfo,
    coverages: Sequence[CoverageSpec],
    term_exclusions: Sequence[str],
    exclusions_found: Sequence[str] = (),
    at: datetime,
) -> Eligibility:
    """Each coverage's answer at ``at``. An exclusion of the term that applies takes every coverage
    away (the reason names it); no start date (not delivered, no proof yet) covers nothing."""
    applied = tuple(code for code in exclusions_found if code in term_exclusions)
    answers = []
    for spec in coverages:
        if applied:
            answers.append(
                CoverageAnswer(
                    kind=spec.kind,
                    component=spec.component,
                    covered=False,
                    reason="excluded",
                    message=coverage_message(reason="excluded", ends_at=None, zone=zone, exclusions=applied),
                )
            )
            continue
        if starts_at is None:
            answers.append(
                CoverageAnswer(
                    kind=spec.kind,
                    component=spec.component,
                    covered=False,
                    reason="not_started",
                    message=coverage_message(reason="not_started", ends_at=None, zone=zone),
                )
            )
            continue
        ends_at = coverage_ends_at(starts_at, spec.months, zone)
        if spec.months and at < ends_at:
            answers.append(
                CoverageAnswer(
                    kind=spec.kind,
                    component=spec.component,
                    covered=True,
                    reason="in_warranty",
                    message=coverage_message(reason="in_warranty", ends_at=ends_at, zone=zone),
                    ends_at=ends_at,
                )
            )
        else:
            answers.append(
                CoverageAnswer(
                    kind=spec.kind,
                    component=spec.component,
                    covered=False,
                    reason="expired",
                    message=coverage_message(reason="expired", ends_at=ends_at, zone=zone),
                    ends_at=ends_at,
                )
            )
    return Eligibility(at=at, answers=tuple(answers), exclusions=applied)


# Which coverage pays for a line of each kind.
COVERAGE_OF_KIND: dict[str, str] = {
    LineKind.PART: CoverageKind.PARTS,
    LineKind.LABOUR: CoverageKind.LABOUR,
    LineKind.TRAVEL: CoverageKind.TRAVEL,
}


def warranty_covers(eligibility: dict[str, Any], legal_floor: dict[str, Any], kind: str, component: str = "") -> bool:
    """Whether the warranty snapshotted on a repair pays for a line of this kind (or this named
    component): never once a diagnosis voided it; always for a free repeat or a free 三包 repair."""
    if eligibility.get("voided_by_diagnosis"):
        return False
    if eligibility.get("free_as_repeat") or legal_floor.get("free_repair"):
        return True
    coverages = eligibility.get("coverages", [])
    if component:
        for coverage in coverages:
            if coverage["kind"] == CoverageKind.COMPONENT and coverage["component"] == component:
                return bool(coverage["covered"])
    wanted = COVERAGE_OF_KIND.get(kind)
    return any(c["kind"] == wanted and not c["component"] and c["covered"] for c in coverages)


# The merchant's rule that lets the system triage a request (``RepairPolicy.auto_triage``): named
# on the events it writes, so a reader of the timeline knows which rule acted.
AUTO_TRIAGE_RULE = "auto_triage"


class AutoTriageHold(models.TextChoices):
    """Why a new request was left for staff to triage although the merchant's rule is on."""

    REMEDY_NOT_REPAIR = "remedy_not_repair", gettext_lazy("the customer asks for something other than a repair")
    NOT_COVERED = "not_covered", gettext_lazy("the warranty does not plainly cover the repair free of charge")
    EXCLUSION = "exclusion", gettext_lazy("an exclusion of the warranty applies to this unit")
    PROOF_NOT_CHECKED = "proof_not_checked", gettext_lazy("the proof of purchase is not accepted yet")
    REPEAT_FAILURE = (
        "repeat_failure",
        gettext_lazy("三包: repairs of this unit failed twice; the customer may choose another remedy"),
    )
    OPEN_REPAIR = "open_repair", gettext_lazy("another repair of this serial number is still open")


def auto_triage_holds(
    *,
    remedy: str,
    covered: bool,
    exclusions: Sequence[str],
    proof_accepted: bool,
    floor_rule: str,
    other_open_repairs: int,
) -> list[str]:
    """What keeps a new request from being triaged by the system, in the order staff read them;
    empty when the answer is plain: a repair asked for, covered free of charge, nothing to judge."""
    holds: list[str] = []
    if remedy != Remedy.REPAIR:
        holds.append(AutoTriageHold.REMEDY_NOT_REPAIR)
    if exclusions:
        holds.append(AutoTriageHold.EXCLUSION)
    elif not covered:
        holds.append(AutoTriageHold.NOT_COVERED)
    if not proof_accepted:
        holds.append(AutoTriageHold.PROOF_NOT_CHECKED)
    if floor_rule == SanbaoRule.REPEAT_FAILURE:
        holds.append(AutoTriageHold.REPEAT_FAILURE)
    if other_open_repairs:
        holds.append(AutoTriageHold.OPEN_REPAIR)
    return holds


def auto_triage_hold_labels(codes: Sequence[str]) -> list[str]:
    """The reasons as the reader's language says them (stored as codes on the event)."""
    return [str(AutoTriageHold(code).label) if code in AutoTriageHold.values else code for code in codes]
