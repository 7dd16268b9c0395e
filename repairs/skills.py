"""Technicians' skills in the reader's words.

A skill is stored as a key on the profile and asked for by a repair: a product category
(``electronics``, ``aircon_install``) or a certification (``cert:gas``). The solver, the API and
the database keep the keys; every page and the admin show the label in the active language, and
the profile form reads a label (in either language) back as its key. A key outside this list is
shown as written, its underscores as spaces, so a merchant's own category is still readable.
"""

from typing import Any

from django.utils import translation
from django.utils.translation import gettext, pgettext, pgettext_lazy

CERTIFICATE_PREFIX = "cert:"

SKILL_LABELS = {
    "electronics": pgettext_lazy("skill", "Electronics"),
    "cooking": pgettext_lazy("skill", "Stoves and cookware"),
    "water": pgettext_lazy("skill", "Water filters and bottles"),
    "appliances": pgettext_lazy("skill", "Household appliances"),
    "taps": pgettext_lazy("skill", "Taps"),
    "aircon_install": pgettext_lazy("skill", "Air conditioner installation"),
    "aircon_repair": pgettext_lazy("skill", "Air conditioner repair"),
    "water_heater": pgettext_lazy("skill", "Water heaters"),
}
CERTIFICATE_LABELS = {
    "gas": pgettext_lazy("certification", "gas"),
    "electrical": pgettext_lazy("certification", "electrical work"),
    "refrigerant": pgettext_lazy("certification", "refrigerant handling"),
    "heights": pgettext_lazy("certification", "work at heights"),
}


def skill_label(key: str) -> str:
    """The skill's name in the active language."""
    key = str(key)
    known = SKILL_LABELS.get(key)
    if known is not None:
        return str(known)
    if key.startswith(CERTIFICATE_PREFIX):
        name = key[len(CERTIFICATE_PREFIX) :]
        certificate = CERTIFICATE_LABELS.get(name)
        return gettext("Certified: %(name)s") % {"name": certificate if certificate is not None else _plain(name)}
    return _plain(key)


def skills_display(skills: Any) -> str:
    """A profile's skills as "Electronics (level 2), Taps (level 1)", by label, joined by the
    language's list separator; "—" for none."""
    if not isinstance(skills, dict) or not skills:
        return "—"
    shown = sorted((skill_label(key), level) for key, level in skills.items())
    return pgettext("list separator", ", ").join(
        gettext("%(skill)s (level %(level)s)") % {"skill": label, "level": level} for label, level in shown
    )


def skill_key(written: str) -> str:
    """The key of a skill a manager typed: its label in English or Chinese (any case), or the key."""
    written = " ".join(written.split())
    return _keys_by_label().get(written.casefold(), written)


def known_skill_labels() -> list[str]:
    return [str(label) for label in SKILL_LABELS.values()]


def _plain(key: str) -> str:
    return key.replace("_", " ").strip() or key


def _keys_by_label() -> dict[str, str]:
    keys: dict[str, str] = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for key in (*SKILL_LABELS, *(CERTIFICATE_PREFIX + name for name in CERTIFICATE_LABELS)):
                keys.setdefault(skill_label(key).casefold(), key)
    return keys
