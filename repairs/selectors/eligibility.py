"""Eligibility, read: which warranty applies to a unit, and what it and the 三包 floor answer now."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q

from aftersales.models import Membership, OrderLine, Product
from repairs.models import (
    FINAL_STATUSES,
    CoverageKind,
    ExtendedWarranty,
    RegistrationStatus,
    RepairOrder,
    RepairPolicy,
    RepairStatus,
    StartBasis,
    WarrantyRegistration,
    WarrantyTerm,
)
from repairs.roles import goodwill_limit
from repairs.sanbao import SanbaoFloor, sanbao_floor
from repairs.warranty import CoverageSpec, Eligibility, auto_triage_holds, eligibility, merge_extensions


def repair_policy_for(merchant_id: int) -> RepairPolicy:
    """The merchant's repair policy, or the defaults (unsaved) when it has none yet."""
    return RepairPolicy.objects.filter(merchant_id=merchant_id).first() or RepairPolicy(merchant_id=merchant_id)


def base_term_for(product: Product) -> WarrantyTerm | None:
    """The product's own base term, else its category's."""
    terms = WarrantyTerm.objects.filter(merchant_id=product.merchant_id, is_extended=False, is_active=True).filter(
        Q(product=product) | Q(product__isnull=True, category=product.category)
    )
    found = sorted(terms.prefetch_related("coverages"), key=lambda term: term.product_id is None)
    return found[0] if found else None


def _fallback_coverages(product: Product) -> list[CoverageSpec]:
    """A product with no term: its ``warranty_months`` for parts, labour and travel alike."""
    months = product.warranty_months
    return [
        CoverageSpec(kind=kind, months=months)
        for kind in (CoverageKind.PARTS, CoverageKind.LABOUR, CoverageKind.TRAVEL)
    ]


@dataclass(frozen=True)
class UnitEligibility:
    """Everything triage needs about one unit: the warranty's answer, the floor, the goodwill limit."""

    eligibility: Eligibility
    floor: SanbaoFloor
    term_name: str
    starts_at: datetime | None
    goodwill_limit: Decimal
    failed_repairs: int

    def snapshot(self) -> dict[str, Any]:
        return {
            **self.eligibility.snapshot(),
            "term": self.term_name,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "goodwill_limit": str(self.goodwill_limit),
            "failed_repairs": self.failed_repairs,
        }

    @property
    def in_warranty(self) -> bool:
        """Parts and labour both covered: the repair is free (travel and components answer alone)."""
        return self.eligibility.covers(CoverageKind.PARTS) and self.eligibility.covers(CoverageKind.LABOUR)


def coverage_start(
    *, registration: WarrantyRegistration | None, order_line: OrderLine | None, term: WarrantyTerm | None
) -> datetime | None:
    basis = term.start_basis if term else StartBasis.DELIVERY
    if registration is not None:
        if registration.coverage_starts_at is not None:
            return registration.coverage_starts_at
        if basis == StartBasis.INSTALLATION and registration.installed_at and registration.installation_proof:
            return registration.installed_at
        return registration.delivered_at
    if order_line is not None:
        return order_line.order.delivered_at
    return None


def failed_repairs_of(merchant_id: int, serial_number: str, *, exclude_id: int | None = None) -> int:
    """Earlier repairs of the serial whose fault came back (the 三包 repeat rule counts them)."""
    if not serial_number:
        return 0
    repairs = RepairOrder.objects.filter(merchant_id=merchant_id, serial_number=serial_number, repair_failed=True)
    if exclude_id is not None:
        repairs = repairs.exclude(pk=exclude_id)
    return repairs.count()


def unit_eligibility(
    *,
    product: Product,
    registration: WarrantyRegistration | None = None,
    order_line: OrderLine | None = None,
    at: datetime,
    exclusions_found: tuple[str, ...] = (),
    membership: Membership | None = None,
    policy: RepairPolicy | None = None,
    serial_number: str = "",
    exclude_repair_id: int | None = None,
) -> UnitEligibility:
    """The warranty's answer per coverage for a unit at ``at``, with the 三包 floor in force."""
    policy = policy or repair_policy_for(product.merchant_id)
    zone = ZoneInfo(product.merchant.timezone)
    term = base_term_for(product)
    coverages = (
        [CoverageSpec(kind=c.kind, component=c.component, months=c.months) for c in term.coverages.all()]
        if term
        else _fallback_coverages(product)
    )
    line = order_line or (registration.order_line if registration else None)
    if line is not None:
        extensions = [
            CoverageSpec(kind=c.kind, component=c.component, months=c.months)
            for purchase in ExtendedWarranty.objects.filter(order_line=line).select_related("term")
            for c in purchase.term.coverages.all()
        ]
        coverages = merge_extensions(coverages, extensions)
    starts_at = coverage_start(registration=registration, order_line=order_line, term=term)
    answer = eligibility(
        starts_at=starts_at,
        zone=zone,
        coverages=coverages,
        term_exclusions=list(term.exclusions) if term else [],
        exclusions_found=exclusions_found,
        at=at,
    )
    serial = serial_number or (registration.serial_number if registration else "")
    failed = failed_repairs_of(product.merchant_id, serial, exclude_id=exclude_repair_id)
    delivered_at = (registration.delivered_at if registration is not None and registration.delivered_at else None) or (
        line.order.delivered_at if line is not None else None
    )
    floor = sanbao_floor(
        category_marked=bool(product.category) and product.category in (policy.sanbao_categories or []),
        delivered_at=delivered_at,
        at=at,
        zone=zone,
        in_warranty=answer.covers(CoverageKind.PARTS),
        failed_repairs_of_fault=failed,
    )
    return UnitEligibility(
        eligibility=answer,
        floor=floor,
        term_name=term.name if term else "",
        starts_at=starts_at,
        goodwill_limit=goodwill_limit(membership, policy),
        failed_repairs=failed,
    )


# Statuses after which the device was worked on and handed back: what a repeat comes back from.
REPEAT_FROM_STATUSES = (RepairStatus.RETURNED, RepairStatus.CLOSED)


def earlier_repair_within_window(
    merchant_id: int, serial_number: str, window_days: int, at: datetime
) -> RepairOrder | None:
    """The repair of this serial handed back within the merchant's revisit window, if any: a new
    request for it is a free repeat."""
    if not serial_number or not window_days:
        return None
    return (
        RepairOrder.objects.filter(
            merchant_id=merchant_id,
            serial_number=serial_number,
            status__in=REPEAT_FROM_STATUSES,
            returned_at__gte=at - timedelta(days=window_days),
        )
        .order_by("-returned_at", "-pk")
        .first()
    )


def open_repairs_of_serial(merchant_id: int, serial_number: str) -> int:
    return (
        RepairOrder.objects.filter(merchant_id=merchant_id, serial_number=serial_number)
        .exclude(status__in=FINAL_STATUSES)
        .count()
    )


def auto_triage_holds_of(
    *,
    merchant_id: int,
    answer: UnitEligibility,
    remedy: str,
    registration: WarrantyRegistration | None,
    serial_number: str,
    free_as_repeat: bool,
) -> list[str]:
    """Why a new request for this unit would wait for staff under the merchant's automatic triage
    (empty: the system may triage it). Read before the request exists: the portal's preview and
    ``repair_request_create`` ask the same question."""
    exclusions = list(answer.eligibility.exclusions)
    # A diagnosis that voided this unit's warranty before (user damage, liquid, …) is a person's
    # call the next time too.
    if serial_number and (
        RepairOrder.objects.filter(merchant_id=merchant_id, serial_number=serial_number)
        .filter(eligibility__has_key="voided_by_diagnosis")
        .exists()
    ):
        exclusions.append("voided_by_diagnosis")
    return auto_triage_holds(
        remedy=remedy,
        covered=answer.in_warranty or answer.floor.free_repair or free_as_repeat,
        exclusions=exclusions,
        proof_accepted=registration is None
        or registration.status not in (RegistrationStatus.PENDING_PROOF, RegistrationStatus.REJECTED),
        floor_rule=answer.floor.rule,
        other_open_repairs=open_repairs_of_serial(merchant_id, serial_number) if serial_number else 0,
    )
