"""What the case hub shows of repairs: the repair box on the staff ticket page (coverage, the 三包
rule, lines and who pays them, quotes, costs, and the actions of the repair's status) and on the
customer's case page. Registered with ``tickets.panels`` in ``RepairsConfig.ready``."""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.models import Customer
from repairs.forms.dashboard import (
    DiagnoseForm,
    LineForm,
    PartsWaitForm,
    QcForm,
    QuoteForm,
    ReasonForm,
    SettleForm,
    ShipBackForm,
    TriageForm,
)
from repairs.forms.portal import QuoteAnswerForm
from repairs.models import REPAIR_TRANSITIONS, QuoteStatus, RepairMode, RepairStatus
from repairs.sanbao import SanbaoRule
from repairs.selectors import customer_pays, customer_total, diagnosis_codes_for, repair_of_ticket, warranty_cost
from tickets.models import Ticket, TicketKind
from tickets.panels import register_portal_box, register_staff_box

STAFF_BOX_TEMPLATE = "dashboard/repairs/ticket_repair_box.html"
PORTAL_BOX_TEMPLATE = "portal/repairs/_repair_box.html"
S = RepairStatus
ACTION_LABELS = {
    "triage": _("Decide the warranty"),
    "reject": _("Decline the request"),
    "quote": _("Send a quote"),
    "device_received": _("Device received"),
    "diagnosis_start": _("Start the diagnosis"),
    "diagnose": _("Record the diagnosis"),
    "line": _("Add a line"),
    "waiting_parts": _("Wait for parts"),
    "start": _("Start the repair"),
    "qc": _("Quality check"),
    "ship_back": _("Send the device back"),
    "collected": _("Collected by the customer"),
    "settle": _("Replace or refund"),
    "cancel": _("Cancel the repair"),
}


def staff_actions(status: str, mode: str) -> list[str]:
    """The actions the box offers in a status (the services still decide)."""
    can = REPAIR_TRANSITIONS[status]
    actions = []
    if status == S.REQUESTED:
        actions += ["triage", "reject"]
    if S.QUOTED in can:
        actions.append("quote")
    if S.DEVICE_RECEIVED in can and mode != RepairMode.ON_SITE:
        actions.append("device_received")
    if S.DIAGNOSING in can:
        actions.append("diagnosis_start")
    if status == S.DIAGNOSING:
        actions.append("diagnose")
    if status in (S.ON_SITE, S.DIAGNOSING, S.WAITING_PARTS, S.IN_REPAIR, S.QC):
        actions.append("line")
    if S.WAITING_PARTS in can:
        actions.append("waiting_parts")
    if S.IN_REPAIR in can and status != S.QC:
        actions.append("start")
    if status in (S.IN_REPAIR, S.QC):
        actions.append("qc")
    if status == S.READY:
        actions += ["ship_back", "collected"]
    if S.REPLACED in can:
        actions.append("settle")
    if S.CANCELLED in can:
        actions.append("cancel")
    return actions


def _action_form(name: str, repair: Any) -> Any:
    forms = {
        "triage": TriageForm,
        "reject": ReasonForm,
        "cancel": ReasonForm,
        "quote": QuoteForm,
        "line": LineForm,
        "waiting_parts": PartsWaitForm,
        "qc": QcForm,
        "ship_back": ShipBackForm,
        "settle": SettleForm,
    }
    if name == "diagnose":
        return DiagnoseForm(codes=diagnosis_codes_for(repair), auto_id=f"id_{name}_%s")
    if name == "quote":
        return QuoteForm(
            auto_id=f"id_{name}_%s",
            search_url=reverse("dashboard:repair_quote_parts", args=[repair.ticket.number]),
        )
    form_class = forms.get(name)
    return form_class(auto_id=f"id_{name}_%s") if form_class else None


def staff_repair_box(*, ticket: Ticket) -> Mapping[str, Any]:
    if ticket.kind != TicketKind.REPAIR:
        return {"repair_box": None}
    repair = repair_of_ticket(merchant_id=ticket.merchant_id, ticket_id=ticket.pk)
    if repair is None:
        return {"repair_box": None}
    return {
        "repair_box": {
            "repair": repair,
            "coverages": (repair.eligibility or {}).get("coverages", []),
            "floor_label": SanbaoRule((repair.legal_floor or {}).get("rule", SanbaoRule.NOT_APPLICABLE)).label,
            "lines": list(repair.lines.all()),
            "quotes": list(repair.quotes.all()),
            "reservations": list(repair.part_reservations.all()),
            "visits": list(repair.visits.all()),
            "warranty_cost": warranty_cost(repair),
            "customer_total": customer_total(repair),
            "customer_pays": customer_pays(repair),
            "actions": [
                {"name": name, "label": ACTION_LABELS[name], "form": _action_form(name, repair)}
                for name in staff_actions(repair.status, repair.mode)
            ],
        }
    }


def portal_repair_box(request: HttpRequest, *, ticket: Ticket, customer: Customer | None) -> Mapping[str, Any]:
    if ticket.kind != TicketKind.REPAIR:
        return {"repair_box": None}
    repair = repair_of_ticket(merchant_id=ticket.merchant_id, ticket_id=ticket.pk)
    if repair is None:
        return {"repair_box": None}
    owner = customer is not None and customer.pk == repair.customer_id
    open_quote = next((q for q in repair.quotes.all() if q.status == QuoteStatus.SENT), None)
    return {
        "repair_box": {
            "repair": repair,
            "owner": owner,
            "coverages": (repair.eligibility or {}).get("coverages", []),
            "floor_label": SanbaoRule((repair.legal_floor or {}).get("rule", SanbaoRule.NOT_APPLICABLE)).label,
            "lines": [line for line in repair.lines.all() if line.coverage == "customer"],
            "customer_total": customer_total(repair),
            "customer_pays": customer_pays(repair),
            "open_quote": open_quote,
            "quote_lines": [line for line in repair.lines.all() if open_quote and line.quote_id == open_quote.pk],
            "answer_form": QuoteAnswerForm(),
            "can_confirm": owner and repair.status == S.RETURNED,
            "can_cancel": owner and S.CANCELLED in REPAIR_TRANSITIONS[repair.status],
            # On-site repairs wait here for a visit; dispatch fills the slot picking in.
            "to_schedule": repair.mode == RepairMode.ON_SITE
            and repair.status in (S.IN_WARRANTY, S.GOODWILL, S.QUOTE_APPROVED),
        }
    }


def register_panels() -> None:
    register_staff_box("repairs", template_name=STAFF_BOX_TEMPLATE, context=staff_repair_box)
    register_portal_box("repairs", template_name=PORTAL_BOX_TEMPLATE, context=portal_repair_box)
