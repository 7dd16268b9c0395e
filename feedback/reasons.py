"""The reasons a customer may pick with a rating, by the kind of case: pure data."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tickets.models import TicketKind

COMMON_REASONS: dict[str, Promise] = {
    "fast": _("Quick to help"),
    "friendly": _("Friendly and polite"),
    "solved": _("My problem was solved"),
    "slow": _("Too slow"),
    "unhelpful": _("Did not understand my problem"),
    "not_solved": _("My problem is not solved"),
}
KIND_REASONS: dict[str, dict[str, Promise]] = {
    TicketKind.RETURN: {"refund_slow": _("The refund took too long"), "pickup": _("Sending the item back was hard")},
    TicketKind.EXCHANGE: {"replacement_slow": _("The replacement took too long")},
    TicketKind.REFUND_ONLY: {"refund_slow": _("The refund took too long")},
    TicketKind.REPAIR: {
        "technician_late": _("The technician was late"),
        "repair_again": _("The fault came back"),
    },
    TicketKind.COMPLAINT: {"not_taken_seriously": _("I was not taken seriously")},
}


def reasons_for(kind: str) -> dict[str, Promise]:
    """The reasons offered for a case of this kind, in the order they are shown."""
    return {**COMMON_REASONS, **KIND_REASONS.get(kind, {})}


# NPS: promoters score 9–10, detractors 0–6 (the rollups count them alike).
PROMOTER_FROM = 9
DETRACTOR_TO = 6


def nps_category(score: int) -> str:
    """Promoter (9–10), passive (7–8) or detractor (0–6), as NPS counts them."""
    if score >= PROMOTER_FROM:
        return "promoter"
    if score > DETRACTOR_TO:
        return "passive"
    return "detractor"


def reason_labels(kind: str, codes: list[str] | None) -> list[str]:
    """The picked reasons in words, as the case's kind offers them (a code no longer offered is
    shown as it was stored)."""
    labels = reasons_for(kind)
    return [str(labels.get(code, code)) for code in codes or ()]
