"""Reads of the staff dashboard's returns pages. Each starts from the request's membership.

A staff member sees the returns whose tickets ``tickets_visible_to`` lets them see, so the returns
pages and the ticket pages never disagree: a technician sees none, the warehouse the returns and
exchanges, agents, supervisors and merchant admins all of them.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from aftersales.models import Customer, Membership
from aftersales.phones import try_normalize_phone
from returns.models import (
    CarrierClaim,
    ClaimState,
    Refund,
    RefundExecution,
    RefundLine,
    RefundState,
    ReplacementShipment,
    ReplacementState,
    Resolution,
    Responsibility,
    ReturnLine,
    ReturnLineInspection,
    ReturnRequest,
    ReturnShipment,
    ReturnStatus,
    ShipmentDirection,
)
from returns.services.refunds import ExchangeSurplus, exchange_surplus_of, settleable_units
from returns.variants import difference_totals, paid_per_unit, variant_label
from tickets.models import Attachment, Ticket, TicketKind
from tickets.selectors import tickets_visible_to

RETURNS_PAGE_SIZE = 50
# The newest first. ``returnrequest_queue`` (merchant, status, -submitted_at) serves a status filter.
RETURNS_ORDERING = ("-submitted_at", "-id")

# The queue's default: the returns whose next move is the merchant's.
STAFF_STATUSES = (
    ReturnStatus.SUBMITTED,
    ReturnStatus.NEEDS_REVIEW,
    ReturnStatus.ESCALATED,
    ReturnStatus.RECEIVED,
    ReturnStatus.ACTION_REQUIRED,
)
# The queue's filter for returns whose rejected units still wait for their parcel back.
TO_SEND_BACK = "to_send_back"
# Returns that will pay nothing: left out of a customer's estimated total.
NOTHING_TO_REFUND = (ReturnStatus.REJECTED, ReturnStatus.CANCELLED, ReturnStatus.EXPIRED)
# Only tickets of these kinds are opened by ``return_request_create``.
RETURN_TICKET_KINDS = (TicketKind.RETURN, TicketKind.EXCHANGE, TicketKind.REFUND_ONLY)

HISTORY_LIMIT = 10

_MONEY = DecimalField(max_digits=14, decimal_places=2)


def may_work_returns(membership: Membership) -> bool:
    """Technicians see only the repairs assigned to them, so never a return."""
    return membership.role != Membership.Role.TECHNICIAN


def returns_visible_to(membership: Membership) -> QuerySet[ReturnRequest]:
    visible_tickets = tickets_visible_to(membership).values("pk")
    return ReturnRequest.objects.filter(merchant_id=membership.merchant_id, ticket__in=visible_tickets)


def _with_line_totals(returns: QuerySet[ReturnRequest]) -> QuerySet[ReturnRequest]:
    """Each return's units and estimated refund (what its lines would pay), in the same query."""
    return returns.annotate(
        item_count=Coalesce(Sum("lines__quantity"), 0),
        estimated_refund=Coalesce(
            Sum(F("lines__quantity") * F("lines__unit_refund_amount"), output_field=_MONEY),
            Value(Decimal("0.00")),
            output_field=_MONEY,
        ),
    )


# --- the returns queue, one keyset page at a time ------------------------------------------------


@dataclass(frozen=True)
class ReturnFilters:
    # "" means the statuses waiting on staff; "all" means every status; TO_SEND_BACK, the returns
    # whose rejected units are still to be sent back, whatever their status
    status: str = ""
    resolution: str = ""
    q: str = ""


@dataclass(frozen=True)
class ReturnKey:
    """Where a return stands in the queue's order; a page starts strictly after or before one."""

    submitted_at: datetime
    id: int

    @classmethod
    def of(cls, return_request: ReturnRequest) -> "ReturnKey":
        return cls(submitted_at=return_request.submitted_at, id=return_request.pk)


@dataclass(frozen=True)
class ReturnPage:
    returns: list[ReturnRequest]
    next_key: ReturnKey | None  # set when a later page exists
    previous_key: ReturnKey | None  # set when an earlier page exists


def _search(membership: Membership, q: str) -> Q:
    """A ticket number, an order number, or a customer's e-mail or phone."""
    phones = {q}
    normalized = try_normalize_phone(q)
    if normalized:
        phones.add(normalized)
    customer_ids = (
        Customer.objects.filter(merchant_id=membership.merchant_id)
        .filter(Q(email=q.lower()) | Q(phone__in=phones))
        .values("pk")[:200]
    )
    return Q(ticket__number=q.upper()) | Q(order__external_number=q) | Q(customer_id__in=customer_ids)


def rejected_units_unsent() -> Exists:
    """For a query of returns: units inspection rejected still wait for their parcel back."""
    return Exists(
        ReturnShipment.objects.filter(
            return_request_id=OuterRef("pk"), direction=ShipmentDirection.TO_CUSTOMER, shipped_at__isnull=True
        )
    )


def return_queue(*, membership: Membership, filters: ReturnFilters) -> QuerySet[ReturnRequest]:
    """The queue's rows, each with ``to_send_back``: units inspection rejected wait for their
    parcel back to the customer."""
    returns = (
        returns_visible_to(membership)
        .select_related("ticket", "customer", "order")
        .annotate(to_send_back=rejected_units_unsent())
    )
    if filters.status == "all":
        pass
    elif filters.status == TO_SEND_BACK:
        returns = returns.filter(to_send_back=True)
    elif filters.status:
        returns = returns.filter(status=filters.status)
    else:
        returns = returns.filter(status__in=STAFF_STATUSES)
    if filters.resolution:
        returns = returns.filter(resolution=filters.resolution)
    q = filters.q.strip()
    if q:
        returns = returns.filter(_search(membership, q))
    return _with_line_totals(returns).order_by(*RETURNS_ORDERING)


def _after(key: ReturnKey) -> Q:
    # RETURNS_ORDERING is (-submitted_at, -id): "after" is older, or the same instant and a lower id.
    return Q(submitted_at__lt=key.submitted_at) | Q(submitted_at=key.submitted_at, id__lt=key.id)


def _before(key: ReturnKey) -> Q:
    return Q(submitted_at__gt=key.submitted_at) | Q(submitted_at=key.submitted_at, id__gt=key.id)


def return_queue_page(
    *,
    membership: Membership,
    filters: ReturnFilters,
    after: ReturnKey | None = None,
    before: ReturnKey | None = None,
    size: int = RETURNS_PAGE_SIZE,
) -> ReturnPage:
    """A page of the returns queue by keyset, never OFFSET; one row more is read to learn whether
    another page follows."""
    returns = return_queue(membership=membership, filters=filters)
    if before is not None:
        # Walk backwards in the reversed order, then turn the rows round again.
        rows = list(returns.filter(_before(before)).order_by("submitted_at", "id")[: size + 1])
        has_earlier = len(rows) > size
        rows = rows[:size][::-1]
        return ReturnPage(
            returns=rows,
            next_key=ReturnKey.of(rows[-1]) if rows else None,
            previous_key=ReturnKey.of(rows[0]) if rows and has_earlier else None,
        )
    if after is not None:
        returns = returns.filter(_after(after))
    rows = list(returns[: size + 1])
    has_later = len(rows) > size
    rows = rows[:size]
    return ReturnPage(
        returns=rows,
        next_key=ReturnKey.of(rows[-1]) if has_later else None,
        previous_key=ReturnKey.of(rows[0]) if rows and after is not None else None,
    )


# --- one return -----------------------------------------------------------------------------------


def return_by_number(*, membership: Membership, number: str) -> ReturnRequest | None:
    """The return of the ticket numbered ``number``, with its lines, or None if this staff member
    may not see it (another merchant's, a technician, no such number)."""
    lines = ReturnLine.objects.select_related("order_line__product", "inspection", "exchange_product").order_by("id")
    return (
        returns_visible_to(membership)
        .select_related("ticket", "customer", "order", "order__store", "reason")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .filter(ticket__number=number.strip().upper())
        .first()
    )


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


def _terms_shown(snapshot: dict | None) -> LineTermsShown | None:
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
            output_field=_MONEY,
        ),
    )
    recent = list(_with_line_totals(returns.select_related("ticket")).order_by(*RETURNS_ORDERING)[:HISTORY_LIMIT])
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
                _("A photo already sent with %(tickets)s.") % {"tickets": ", ".join(reason.get("tickets") or [])}
            )
        else:
            shown.append(str(code))
    return shown


# --- the "Return" box on a ticket page ----------------------------------------------------------------


def ticket_return_summary(*, ticket: Ticket) -> ReturnRequest | None:
    """The return behind a ticket the page already showed to this staff member, with its line
    totals; no query for a ticket of a kind no return opens."""
    if ticket.kind not in RETURN_TICKET_KINDS:
        return None
    return _with_line_totals(ReturnRequest.objects.filter(merchant_id=ticket.merchant_id, ticket_id=ticket.pk)).first()


# --- the later steps: parcels, the refund ledger, what is left to settle ----------------------------

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
# Statuses in which a refund, a credit or a replacement may exist (a quick refund is paid in transit).
LEDGER_STATUSES = (
    ReturnStatus.AWAITING_SHIPMENT,
    ReturnStatus.IN_TRANSIT,
    ReturnStatus.RECEIVED,
    ReturnStatus.INSPECTED,
    ReturnStatus.SETTLING,
    ReturnStatus.ACTION_REQUIRED,
    ReturnStatus.COMPLETED,
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
class ReturnLedger:
    refunds: list[Refund]  # each with its lines and its execution (None for store credit)
    replacements: list[ReplacementShipment]

    def settled_units(self) -> dict[int, int]:
        """Units of each return line already refunded or replaced, as ``_settled_units`` counts them."""
        settled: dict[int, int] = {}
        for refund in self.refunds:
            if refund.state == RefundState.VOIDED:
                continue
            for line in refund.lines.all():
                settled[line.return_line_id] = settled.get(line.return_line_id, 0) + line.quantity
        for replacement in self.replacements:
            if replacement.state != ReplacementState.LOST:
                settled[replacement.return_line_id] = settled.get(replacement.return_line_id, 0) + replacement.quantity
        return settled


def _execution_or_none(refund: Refund) -> RefundExecution | None:
    try:
        return refund.execution
    except RefundExecution.DoesNotExist:
        return None


def return_ledger(*, return_request: ReturnRequest) -> ReturnLedger:
    """The return's refunds (decision, allocations, payment call) and replacement parcels."""
    if (
        return_request.status not in LEDGER_STATUSES
        and return_request.quick_refund_at is None
        # An exchange paid for and then expired has the refund of that payment.
        and return_request.exchange_difference_paid_at is None
    ):
        return ReturnLedger(refunds=[], replacements=[])
    refunds = list(
        Refund.objects.filter(merchant_id=return_request.merchant_id, return_request_id=return_request.pk)
        .select_related("execution", "granted_by", "voided_by")
        .prefetch_related(Prefetch("lines", queryset=RefundLine.objects.order_by("order_line_id")))
        .order_by("id")
    )
    for refund in refunds:
        refund.execution_shown = _execution_or_none(refund)
    replacements = list(
        ReplacementShipment.objects.filter(
            merchant_id=return_request.merchant_id, return_request_id=return_request.pk
        ).order_by("id")
    )
    return ReturnLedger(refunds=refunds, replacements=replacements)


@dataclass(frozen=True)
class SettleLineDefault:
    """What settling one line would pay by default: the units it still holds at its refund per unit."""

    line: ReturnLine
    units: int
    amount: Decimal
    restocking_fee_percent: Decimal


@dataclass(frozen=True)
class SettleDefaults:
    lines: list[SettleLineDefault]
    shipping_refundable: Decimal  # the order's shipping not yet refunded on any of its returns
    shipping_default: Decimal  # refunded by policy: the merchant's fault refunds the shipping too

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00")) + self.shipping_default

    @property
    def units(self) -> int:
        return sum(line.units for line in self.lines)


def settle_defaults(
    *, return_request: ReturnRequest, lines: list[ReturnLineShown], ledger: ReturnLedger
) -> SettleDefaults:
    """The amounts the settle form starts from, as ``return_request_settle`` would compute them."""
    settled = ledger.settled_units()
    shown = []
    for line_shown in lines:
        line = line_shown.line
        units = max(settleable_units(line) - settled.get(line.pk, 0), 0)
        fee = line_shown.terms.restocking_fee_percent if line_shown.terms else Decimal("0")
        shown.append(
            SettleLineDefault(
                line=line, units=units, amount=line.unit_refund_amount * units, restocking_fee_percent=fee
            )
        )
    order = return_request.order
    shipping_left = Decimal("0.00")
    if order.shipping_amount > 0:
        refunded = Refund.objects.filter(merchant_id=order.merchant_id, return_request__order_id=order.pk).exclude(
            state=RefundState.VOIDED
        ).aggregate(total=Sum("shipping_amount"))["total"] or Decimal("0.00")
        shipping_left = max(order.shipping_amount - refunded, Decimal("0.00"))
    merchants_fault = return_request.reason.responsibility == Responsibility.MERCHANT
    return SettleDefaults(
        lines=shown,
        shipping_refundable=shipping_left,
        shipping_default=shipping_left if merchants_fault else Decimal("0.00"),
    )


@dataclass(frozen=True)
class ExchangeLineShown:
    """What the customer asked to receive for one line, and its price difference."""

    line: ReturnLine
    variant_label: str  # "" for the same item again
    paid_per_unit: Decimal

    @property
    def difference(self) -> Decimal:
        return self.line.price_difference


@dataclass(frozen=True)
class ExchangeShown:
    lines: list[ExchangeLineShown]
    due: Decimal  # owed by the customer for dearer variants, paid before the replacement ships
    refunded: Decimal  # what cheaper variants give back, refunded as their replacements ship
    paid_at: datetime | None
    reference: str
    # What was paid for dearer variants whose replacements are not sent, refunded once known.
    surplus: ExchangeSurplus | None = None

    @property
    def unpaid(self) -> bool:
        return self.due > 0 and self.paid_at is None


def exchange_shown(
    *, return_request: ReturnRequest, lines: list[ReturnLineShown], ledger: ReturnLedger | None = None
) -> ExchangeShown | None:
    """The exchange's wishes (lines prefetched with their variant by ``return_by_number``), or None
    for a return that is not an exchange; with the ``ledger``, the surplus of its paid difference."""
    if return_request.resolution != Resolution.EXCHANGE:
        return None
    shown = [
        ExchangeLineShown(
            line=item.line,
            variant_label=variant_label(item.line.exchange_product) if item.line.exchange_product else "",
            paid_per_unit=paid_per_unit(item.line.order_line),
        )
        for item in lines
    ]
    _due, refunded = difference_totals(item.difference for item in shown)
    return ExchangeShown(
        lines=shown,
        due=return_request.exchange_difference_due,
        refunded=refunded,
        paid_at=return_request.exchange_difference_paid_at,
        reference=return_request.exchange_difference_reference,
        surplus=exchange_surplus_of(return_request, [item.line for item in lines], ledger.refunds)
        if ledger is not None
        else None,
    )


def returns_numbered(*, membership: Membership, ids: list[int]) -> dict[int, str]:
    """The ticket numbers of the returns among ``ids`` this staff member may see, by return id."""
    return dict(returns_visible_to(membership).filter(pk__in=ids).values_list("pk", "ticket__number"))


# --- carrier claims: a lost parcel's claim, and the merchant's list of them ------------------------

CLAIMS_PAGE_SIZE = 50


def return_carrier_claims(*, return_request: ReturnRequest) -> list[CarrierClaim]:
    """The claims on the carrier for this return's parcel, newest first, with who opened and decided."""
    return list(
        CarrierClaim.objects.filter(merchant_id=return_request.merchant_id, return_request_id=return_request.pk)
        .select_related("opened_by", "decided_by")
        .order_by("-opened_at", "-id")
    )


def carrier_claim_of_return(*, return_request: ReturnRequest, claim_id: int) -> CarrierClaim | None:
    """One claim of a return the page already showed to this staff member, or None."""
    return CarrierClaim.objects.filter(
        merchant_id=return_request.merchant_id, return_request_id=return_request.pk, pk=claim_id
    ).first()


def carrier_claims_visible_to(membership: Membership) -> QuerySet[CarrierClaim]:
    """The claims of the returns this staff member may see (``returns_visible_to``)."""
    return CarrierClaim.objects.filter(
        merchant_id=membership.merchant_id, return_request__in=returns_visible_to(membership).values("pk")
    )


@dataclass(frozen=True)
class ClaimKey:
    """Where a claim stands in the list's order: open ones first, then the newest first."""

    rank: int  # 0 open, 1 decided
    opened_at: datetime
    id: int


@dataclass(frozen=True)
class ClaimTotals:
    currency: str
    claims: int
    claimed: Decimal
    recovered: Decimal


@dataclass(frozen=True)
class ClaimPage:
    claims: list[CarrierClaim]
    next_key: ClaimKey | None
    totals: list[ClaimTotals]  # over every claim the filter matches, per currency


def _claims_filtered(membership: Membership, state: str) -> QuerySet[CarrierClaim]:
    claims = carrier_claims_visible_to(membership)
    return claims.filter(state=state) if state else claims


def carrier_claims_page(
    *, membership: Membership, state: str = "", after: ClaimKey | None = None, size: int | None = None
) -> ClaimPage:
    """A page of the merchant's carrier claims by keyset (open first, newest first), with the totals
    claimed and recovered over every claim the filter matches."""
    size = size or CLAIMS_PAGE_SIZE
    claims = _claims_filtered(membership, state)
    totals = [
        ClaimTotals(currency=row["currency"], claims=row["claims"], claimed=row["claimed"], recovered=row["recovered"])
        for row in claims.values("currency")
        .annotate(claims=Count("pk"), claimed=Sum("amount_claimed"), recovered=Sum("amount_recovered"))
        .order_by("currency")
    ]
    ranked = claims.annotate(
        rank=Case(When(state=ClaimState.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).select_related("return_request__ticket", "return_request__customer", "opened_by", "decided_by")
    if after is not None:
        ranked = ranked.filter(
            Q(rank__gt=after.rank)
            | Q(rank=after.rank, opened_at__lt=after.opened_at)
            | Q(rank=after.rank, opened_at=after.opened_at, id__lt=after.id)
        )
    rows = list(ranked.order_by("rank", "-opened_at", "-id")[: size + 1])
    has_later = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if rows else None
    return ClaimPage(
        claims=rows,
        next_key=ClaimKey(rank=last.rank, opened_at=last.opened_at, id=last.pk) if has_later and last else None,
        totals=totals,
    )
