"""How a repair's steps read on a case's timeline: every event verb repairs appends (the repair's
own, and dispatch's visits), registered with the hub's timeline by ``RepairsConfig.ready()``, so
the hub never imports repairs."""

from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from repairs.warranty import AUTO_TRIAGE_RULE, auto_triage_hold_labels
from tickets.system_texts import SystemText


class RepairVerb(models.TextChoices):
    REQUESTED = "repair_requested", _("requested a repair")
    TRIAGED = "repair_triaged", _("checked the warranty")
    AUTO_TRIAGE_HELD = "repair_auto_triage_held", _("left the warranty check to staff")
    REJECTED = "repair_rejected", _("declined the repair request")
    CANCELLED = "repair_cancelled", _("cancelled the repair")
    QUOTE_SENT = "repair_quote_sent", _("sent a quote")
    QUOTE_APPROVED = "repair_quote_approved", _("approved the quote")
    QUOTE_DECLINED = "repair_quote_declined", _("declined the quote")
    QUOTE_EXPIRED = "repair_quote_expired", _("the quote expired")
    AWAITING_DEVICE = "repair_awaiting_device", _("asked for the device to be sent or brought in")
    DEVICE_RECEIVED = "repair_device_received", _("received the device")
    DIAGNOSING = "repair_diagnosing", _("started the diagnosis")
    DIAGNOSED = "repair_diagnosed", _("recorded the diagnosis")
    LINE_ADDED = "repair_line_added", _("added a repair line")
    WAITING_PARTS = "repair_waiting_parts", _("is waiting for parts")
    IN_REPAIR = "repair_in_repair", _("started the repair")
    PARTS_RESERVED = "repair_parts_reserved", _("reserved parts")
    PARTS_USED = "repair_parts_used", _("used parts")
    PARTS_RELEASED = "repair_parts_released", _("put parts back into stock")
    QC_PASSED = "repair_qc_passed", _("passed the quality check")
    QC_FAILED = "repair_qc_failed", _("failed the quality check")
    SHIPPED_BACK = "repair_shipped_back", _("sent the device back")
    COLLECTED = "repair_collected", _("handed the device back")
    CONFIRMED = "repair_confirmed", _("confirmed the repair")
    AUTO_CLOSED = "repair_auto_closed", _("the repair closed: no answer in time")
    REPLACED = "repair_replaced", _("replaced the unit")
    REFUNDED = "repair_refunded", _("refunded the unit")
    REPEAT_FLAGGED = "repair_repeat_flagged", _("flagged the repair as a repeat of an earlier one")
    CLAIM_OPENED = "repair_claim_opened", _("opened a supplier claim")
    CLAIM_SENT = "repair_claim_sent", _("sent the supplier claim")
    CLAIM_PAID = "repair_claim_paid", _("recorded the supplier's payment")
    CLAIM_REJECTED = "repair_claim_rejected", _("recorded that the supplier rejected the claim")


def repair_verb_labels() -> dict[str, object]:
    """Each verb's label, for ``tickets.timeline.register_verb_labels``."""
    return {verb.value: verb.label for verb in RepairVerb}


# The merchant's rules the system acts by, as the repair policy names them.
RULE_LABELS: dict[str, Any] = {AUTO_TRIAGE_RULE: _("triage covered requests automatically")}


def _rule_label(data: dict[str, Any]) -> str:
    rule = str(data.get("rule", ""))
    return str(RULE_LABELS.get(rule, rule))


def _triaged_detail(data: dict[str, Any]) -> str:
    if not data.get("automatic"):
        return ""
    return gettext("Automatically, by the merchant's rule “%(rule)s”.") % {"rule": _rule_label(data)}


def _held_detail(data: dict[str, Any]) -> str:
    return gettext("Not automatic (rule “%(rule)s”): %(reasons)s.") % {
        "rule": _rule_label(data),
        "reasons": "; ".join(auto_triage_hold_labels(data.get("reasons", []))),
    }


def repair_verb_details() -> dict[str, Callable[[dict[str, Any]], str]]:
    """What the timeline shows under an automatic triage, and why one was left to staff."""
    return {RepairVerb.TRIAGED.value: _triaged_detail, RepairVerb.AUTO_TRIAGE_HELD.value: _held_detail}


class DispatchVerb(models.TextChoices):
    VISIT_BOOKED = "visit_booked", _("booked a technician's visit")
    VISIT_RESCHEDULED = "visit_rescheduled", _("moved the technician's visit to another time")
    VISIT_CANCELLED = "visit_cancelled", _("cancelled the technician's visit")
    VISIT_ASSIGNED = "visit_assigned", _("assigned the visit to a technician")
    VISIT_PLANNED = "visit_planned", _("planned the visit into a technician's day")
    VISIT_REMINDED = "visit_reminded", _("reminded the customer of tomorrow's visit")
    VISIT_ON_THE_WAY = "visit_on_the_way", _("is on the way")
    VISIT_CHECKED_IN = "visit_checked_in", _("arrived at the customer's address")
    VISIT_CHECKED_OUT = "visit_checked_out", _("finished the visit")
    VISIT_NO_SHOW = "visit_no_show", _("recorded that someone was not there for the visit")


def dispatch_verb_labels() -> dict[str, object]:
    return {verb.value: verb.label for verb in DispatchVerb}


# The subject repairs gives a repair's case, kept as a key (tickets.system_texts): each reader
# reads "维修：…" or "Repair: …" whatever language the request came in.
REPAIR_SUBJECT = "repairs.repair_subject"


def repair_system_texts() -> dict[str, "SystemText | Promise"]:
    return {REPAIR_SUBJECT: _("Repair: %(product)s")}
