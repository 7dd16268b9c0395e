"""A repair's warranty answer in the reader's words: each coverage by its label (never its code)
and its message said again in the active language and time zone from the snapshot's reason and
end, so a Chinese page does not repeat the English of whoever triaged the repair."""

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext

from repairs.models import Part, TechnicianProfile
from repairs.skills import skill_label, skills_display
from repairs.warranty import coverage_message, coverage_name

register = template.Library()


def _field(coverage: Any, name: str) -> Any:
    return coverage.get(name) if isinstance(coverage, dict) else getattr(coverage, name, None)


@register.filter
def coverage_label(coverage: Any) -> str:
    return coverage_name(kind=_field(coverage, "kind") or "", component=_field(coverage, "component") or "")


@register.filter
def coverage_text(coverage: Any) -> str:
    reason = _field(coverage, "reason")
    ends_at = _field(coverage, "ends_at")
    if isinstance(ends_at, str):
        ends_at = datetime.fromisoformat(ends_at)
    if reason not in ("in_warranty", "expired", "not_started") or (reason != "not_started" and ends_at is None):
        return _field(coverage, "message") or ""  # "excluded" names exclusions the snapshot does not keep per coverage
    return coverage_message(reason=reason, ends_at=ends_at, zone=timezone.get_current_timezone())


@register.filter(name="skills_display")
def skills_display_filter(skills: Any) -> str:
    return skills_display(skills)


@register.filter(name="skill_label")
def skill_label_filter(key: Any) -> str:
    return skill_label(str(key))


@register.filter
def changed_fields(change: Any) -> list[str]:
    """What a profile change touched, by each field's name in the reader's language (the stored
    keys, "daily_capacity" or "home_latitude", showed as written)."""
    model = Part if getattr(change, "part_id", None) else TechnicianProfile
    names = {field.name: str(field.verbose_name) for field in model._meta.fields}
    names["time_off"] = gettext("time off")
    keys = change.changes if isinstance(getattr(change, "changes", None), dict) else {}
    return [names.get(key, key.replace("_", " ")) for key in keys]
