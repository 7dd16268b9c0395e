"""One return as its staff page shows it: lines with their terms, photos, the customer's history,
why it was flagged, its parcels and clocks, and the summary on its case's page.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    F,
    Q,
    Sum,
)
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.models import Customer, Deadline, Membership
from returns.deadline_kinds import CUSTOMER_FACING_KINDS, RETURN_TIMER_KINDS, TIMER_LABELS
from returns.models import (
    Resolution,
    ReturnLine,
    ReturnLineInspection,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
)
from returns.selectors.visibility import MONEY_FIELD, RETURNS_ORDERING, returns_visible_to, with_line_totals
from returns.variants import list_text
from tickets.models import Attachment, Ticket, TicketKind


@dataclass(frozen=True)
class LineTermsShown:
    """The terms snapshotted for one line when the return was submitted, ready to show."""

    rule: str
    window_days: int
    window_ends_at: datetime | None
    legal_floor_applies: bool
    restocking_fee_percent: Decimal
    allowed_resolutions: list[str]
    photos_required: bool
    auto_approve: bool
    quick_refund: bool


@dataclass(frozen=True)
class ReturnLineShown:
    line: ReturnLine
    terms: LineTermsShown | None  # None: no snapshot for the line (never written that way)

    @property
    def refund_amount(self) -> Decimal:
        return self.line.refund_amount

    @property
    def inspection(self) -> ReturnLineInspection | None:
        # Brought by ``return_by_number``; a line not inspected yet has none.
        try:
            return self.line.inspection
        except ReturnLineInspection.DoesNotExist:
            return None


def _resolution_label(value: str) -> str:
    try:
        return str(Resolution(value).label)
    except ValueError:
        return value


def _terms_shown(snapshot: dict[str, Any] | None) -> LineTermsShown | None:
    if not snapshot:
        return None
    ends_at = snapshot.get("window_ends_at")
    return LineTermsShown(
        rule=snapshot.get("rule") or "",
        window_days=int(snapshot.get("window_days") or 0),
        window_ends_at=datetime.fromisoformat(ends_at) if ends_at else None,
        legal_floor_applies=bool(snapshot.get("legal_floor_applies")),
        restocking_fee_percent=Decimal(snapshot.get("restocking_fee_percent") or "0"),
        allowed_resolutions=[_resolution_label(value) for value in snapshot.get("allowed_resolutions") or []],
        photos_required=bool(snapshot.get("photos_required")),
        auto_approve=bool(snapshot.get("auto_approve")),
        quick_refund=bool(snapshot.get("quick_refund")),
    )


def return_lines_shown(return_request: ReturnRequest) -> list[ReturnLineShown]:
    """The lines (prefetched by ``return_by_number``), each with the terms it was promised."""
    terms = return_request.terms or {}
    return [
        ReturnLineShown(line=line, terms=_terms_shown(terms.get(str(line.order_line_id))))
        for line in return_request.lines.all()
    ]


def return_photos(*, return_request: ReturnRequest) -> list[Attachment]:
    """The images on the return's ticket: the customer's photos and any staff added."""
    return list(
        Attachment.objects.filter(
            merchant_id=return_request.merchant_id,
            ticket_id=return_request.ticket_id,
            content_type__startswith="image/",
        ).order_by("created_at", "id")
    )


# Returns that will pay nothing: left out of a customer's estimated total.
NOTHING_TO_REFUND = (ReturnStatus.REJECTED, ReturnStatus.CANCELLED, ReturnStatus.EXPIRED)


HISTORY_LIMIT = 10


@dataclass(frozen=True)
class CustomerReturnHistory:
    returns: list[ReturnRequest]  # newest first, at most HISTORY_LIMIT, with their line totals
    count: int
    rejected_count: int
    flagged_count: int  # held for review by the policy's risk rules when submitted
    estimated_total: Decimal  # what their returns that may still pay would refund
    flags: list[str] = field(default_factory=list)


def customer_return_history(*, membership: Membership, customer: Customer) -> CustomerReturnHistory:
    """The customer's returns as far as this staff member may open them: a count, a total, flags.

    The total is an estimate from the returns' lines; the refund ledger, once it exists, is the
    record of what was paid.
    """
    returns = returns_visible_to(membership).filter(customer_id=customer.pk)
    # The lines are joined for the total, so each return is counted once by its id.
    summary = returns.aggregate(
        count=Count("pk", distinct=True),
        rejected_count=Count("pk", filter=Q(status=ReturnStatus.REJECTED), distinct=True),
        flagged_count=Count("pk", filter=~Q(review_reasons=[]), distinct=True),
        estimated_total=Sum(
            F("lines__quantity") * F("lines__unit_refund_amount"),
            filter=~Q(status__in=NOTHING_TO_REFUND),
            output_field=MONEY_FIELD,
        ),
    )
    recent = list(with_line_totals(returns.select_related("ticket")).order_by(*RETURNS_ORDERING)[:HISTORY_LIMIT])
    flags = []
    if customer.tier == Customer.Tier.VIP:
        flags.append(_("VIP customer"))
    rejected, flagged = summary["rejected_count"], summary["flagged_count"]
    if rejected:
        flags.append(
            ngettext("%(count)s return rejected", "%(count)s returns rejected", rejected) % {"count": rejected}
        )
    if flagged:
        flags.append(
            ngettext("%(count)s return flagged for review", "%(count)s returns flagged for review", flagged)
            % {"count": flagged}
        )
    return CustomerReturnHistory(
        returns=recent,
        count=summary["count"],
        rejected_count=rejected,
        flagged_count=flagged,
        estimated_total=summary["estimated_total"] or Decimal("0.00"),
        flags=flags,
    )


def review_reasons_shown(return_request: ReturnRequest) -> list[str]:
    """Why the policy's risk rules held this request for a person, in words."""
    shown = []
    for reason in return_request.review_reasons or []:
        code = reason.get("code")
        if code == "return_count":
            shown.append(
                _("%(count)s returns in the policy's look-back; the limit is %(limit)s.")
                % {"count": reason.get("count"), "limit": reason.get("limit")}
            )
        elif code == "return_value":
            shown.append(
                _("Returns worth %(value)s in the policy's look-back; the limit is %(limit)s.")
                % {"value": reason.get("value"), "limit": reason.get("limit")}
            )
        elif code == "repeated_photo":
            shown.append(
                _("A photo already sent with %(tickets)s.") % {"tickets": list_text(reason.get("tickets") or [])}
            )
        else:
            shown.append(str(code))
    return shown


# Only tickets of these kinds are opened by ``return_request_create``.
RETURN_TICKET_KINDS = (TicketKind.RETURN, TicketKind.EXCHANGE, TicketKind.REFUND_ONLY)


def ticket_return_summary(*, ticket: Ticket) -> ReturnRequest | None:
    """The return behind a ticket the page already showed to this staff member, with its line
    totals; no query for a ticket of a kind no return opens."""
    if ticket.kind not in RETURN_TICKET_KINDS:
        return None
    return with_line_totals(ReturnRequest.objects.filter(merchant_id=ticket.merchant_id, ticket_id=ticket.pk)).first()


# Statuses in which the parcel has a record worth showing (the customer chose how it goes back).
SHIPPING_STATUSES = (
    ReturnStatus.AWAITING_SHIPMENT,
    ReturnStatus.IN_TRANSIT,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
    ReturnStatus.SETTLING,
    ReturnStatus.ACTION_REQUIRED,
    ReturnStatus.COMPLETED,
    ReturnStatus.EXPIRED,
    ReturnStatus.CANCELLED,
)


def return_shipments(*, return_request: ReturnRequest) -> list[ReturnShipment]:
    """The parcels of the return, the customer's first; none before the customer picked a way back."""
    if return_request.status not in SHIPPING_STATUSES:
        return []
    return list(
        ReturnShipment.objects.filter(merchant_id=return_request.merchant_id, return_request_id=return_request.pk)
        .select_related("received_by")
        .order_by("direction", "id")
    )


@dataclass(frozen=True)
class ReturnClock:
    deadline: Deadline

    @property
    def label(self) -> str:
        return str(TIMER_LABELS[self.deadline.kind])

    @property
    def customer_facing(self) -> bool:
        return self.deadline.kind in CUSTOMER_FACING_KINDS


def return_clocks(*, ticket: Ticket) -> list[ReturnClock]:
    """Every return timer the ticket has had, oldest first, for its SLA panel (one query)."""
    deadlines = Deadline.objects.filter(
        merchant_id=ticket.merchant_id, ticket_id=ticket.pk, kind__in=RETURN_TIMER_KINDS
    ).order_by("started_at", "id")
    return [ReturnClock(deadline) for deadline in deadlines]
