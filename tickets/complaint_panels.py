"""What the case hub shows of a complaint: a box on the staff ticket page and one on the
customer's case page, registered with ``tickets.panels`` in ``TicketsConfig.ready`` like a
workflow app's boxes. A ticket of another kind costs no query."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from aftersales.models import Customer
from tickets import compensation_payers
from tickets.forms.complaints import (
    CompensationForm,
    ComplaintClassifyForm,
    ComplaintCloseOutForm,
    ComplaintEscalateForm,
    ComplaintResponsibilityForm,
    PortalEscalateForm,
    RegulatorAcceptForm,
    RegulatorAnswerForm,
    RegulatorCaseForm,
    ThirdPartyAnswerForm,
)
from tickets.models import CompensationKind, CompensationStatus, EscalationTier, Ticket, TicketKind
from tickets.panels import register_portal_box, register_staff_box
from tickets.selectors import complaint_of_ticket

STAFF_BOX_TEMPLATE = "dashboard/complaints/ticket_box.html"
PORTAL_BOX_TEMPLATE = "portal/complaints/box.html"


def _offerable(ticket: Ticket) -> tuple[list[str], list[tuple[str, Decimal]]]:
    """The kinds of compensation that can be paid for this case, and for those paid from a bounded
    ledger (a refund against the order) the most an offer may still be, by kind label."""
    kinds, bounds = [], []
    for kind in compensation_payers.registered_compensation_kinds():
        if compensation_payers.is_bounded(kind):
            available = compensation_payers.compensation_available(kind, ticket) if ticket.order_id else None
            if available is None:
                continue
            bounds.append((str(CompensationKind(kind).label), available))
        kinds.append(kind)
    return kinds, bounds


def staff_complaint_box(*, ticket: Ticket) -> Mapping[str, Any]:
    if ticket.kind != TicketKind.COMPLAINT:
        return {"complaint_box": None}
    complaint = complaint_of_ticket(ticket)
    kinds, refundable = _offerable(ticket)
    initial = {"severity": complaint.severity, "category": complaint.category} if complaint else {}
    return {
        "complaint_box": {
            "complaint": complaint,
            "classify_form": ComplaintClassifyForm(initial=initial),
            "responsibility_form": ComplaintResponsibilityForm(
                initial={"party": complaint.responsible_party} if complaint else {}
            ),
            "third_party_form": ThirdPartyAnswerForm(),
            "escalate_form": ComplaintEscalateForm(),
            "compensation_form": CompensationForm(kinds=kinds),
            "compensation_refundable": refundable,
            "regulator_form": RegulatorCaseForm(),
            "regulator_accept_form": RegulatorAcceptForm(),
            "regulator_answer_form": RegulatorAnswerForm(),
            "close_out_form": ComplaintCloseOutForm(),
            "top_tier": EscalationTier.MANAGER,
        }
    }


def portal_complaint_box(request: HttpRequest, *, ticket: Ticket, customer: Customer | None) -> Mapping[str, Any]:
    """The customer's view: the level the complaint is at, the escalation request (once per
    level), and the offers waiting for an answer."""
    if ticket.kind != TicketKind.COMPLAINT:
        return {"complaint_portal": None}
    complaint = complaint_of_ticket(ticket)
    tier = complaint.tier if complaint else EscalationTier.AGENT
    asked = {e.from_tier for e in complaint.escalations.all() if e.by_customer} if complaint else set()
    offers = (
        [c for c in complaint.compensations.all() if c.status != CompensationStatus.AWAITING_APPROVAL]
        if complaint
        else []
    )
    may_act = customer is not None and ticket.accepts_customer_messages and not (complaint and complaint.closed_out_at)
    return {
        "complaint_portal": {
            "tier_label": EscalationTier(tier).label,
            "may_escalate": may_act and tier < EscalationTier.MANAGER and tier not in asked,
            "escalate_form": PortalEscalateForm(initial={"tier": tier}),
            "offers": offers,
            "may_answer": customer is not None,
        }
    }


def register_complaint_panels() -> None:
    register_staff_box("complaints", template_name=STAFF_BOX_TEMPLATE, context=staff_complaint_box)
    register_portal_box("complaints", template_name=PORTAL_BOX_TEMPLATE, context=portal_complaint_box)
