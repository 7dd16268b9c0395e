"""Warranty cost per claim and the supplier claim that recovers it (open, sent, paid, rejected)."""

from decimal import Decimal

import pytest

from aftersales.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from repairs.models import LineCoverage, RepairLine, RepairStatus, SupplierClaim, SupplierClaimStatus
from repairs.selectors import warranty_cost
from repairs.services import supplier_claim_move, supplier_claim_open
from repairs.tests.factories import PartFactory, RepairOrderFactory


@pytest.fixture
def repaired(world):
    repair = RepairOrderFactory(merchant=world.merchant, status=RepairStatus.RETURNED)
    part = PartFactory(merchant=world.merchant, cost=Decimal("30.00"), price=Decimal("80.00"))
    for kind, price, cost, coverage, extra in (
        ("part", "80.00", "30.00", LineCoverage.WARRANTY, {"part": part, "quantity": 2}),
        ("labour", "60.00", "0", LineCoverage.WARRANTY, {}),
        ("travel", "25.00", "0", LineCoverage.WARRANTY, {}),
        ("labour", "99.00", "0", LineCoverage.CUSTOMER, {}),
        ("labour", "10.00", "0", LineCoverage.GOODWILL, {}),
    ):
        RepairLine.objects.create(
            merchant=world.merchant,
            repair_order=repair,
            kind=kind,
            description=kind,
            unit_price=Decimal(price),
            unit_cost=Decimal(cost),
            coverage=coverage,
            **extra,
        )
    return repair


def test_the_warranty_cost_is_parts_at_cost_plus_labour_and_travel_of_warranty_lines(repaired):
    assert warranty_cost(repaired) == Decimal("145.00")  # 2 × 30.00 + 60.00 + 25.00


def test_a_supplier_claim_recovers_the_warranty_cost_from_open_to_paid(world, repaired):
    claim = supplier_claim_open(repair_order=repaired, actor=world.agent, supplier="Tap Works Ltd")
    supplier_claim_move(claim=claim, actor=world.agent, status=SupplierClaimStatus.SENT, reference="TW-881")
    supplier_claim_move(claim=claim, actor=world.agent, status=SupplierClaimStatus.PAID, amount_paid=Decimal("120.00"))

    claim.refresh_from_db()
    assert (claim.amount, claim.amount_paid, claim.status, claim.reference) == (
        Decimal("145.00"),
        Decimal("120.00"),
        SupplierClaimStatus.PAID,
        "TW-881",
    )


def test_a_claim_above_the_cost_a_second_claim_and_a_paid_claim_rejected_are_refused(world, repaired):
    with pytest.raises(InvalidInput):
        supplier_claim_open(repair_order=repaired, actor=world.agent, supplier="Tap Works", amount=Decimal("145.01"))
    claim = supplier_claim_open(repair_order=repaired, actor=world.agent, supplier="Tap Works")
    with pytest.raises(Conflict):
        supplier_claim_open(repair_order=repaired, actor=world.agent, supplier="Tap Works")
    supplier_claim_move(claim=claim, actor=world.agent, status=SupplierClaimStatus.SENT)
    supplier_claim_move(claim=claim, actor=world.agent, status=SupplierClaimStatus.PAID)

    with pytest.raises(TransitionNotAllowed):
        supplier_claim_move(claim=claim, actor=world.agent, status=SupplierClaimStatus.REJECTED)

    assert SupplierClaim.objects.get().status == SupplierClaimStatus.PAID
