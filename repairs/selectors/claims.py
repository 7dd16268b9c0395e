"""The supplier claims the API may read: the API key's merchant's, or a session member's who
decides money (technicians and warehouse staff see none)."""

from django.db.models import QuerySet

from aftersales.models import Membership, Merchant
from repairs.models import SupplierClaim
from repairs.roles import DECISION_ROLES


def supplier_claims_for_api(*, merchant: Merchant | None, membership: Membership | None) -> QuerySet[SupplierClaim]:
    if merchant is None or (membership is not None and membership.role not in DECISION_ROLES):
        return SupplierClaim.objects.none()
    return SupplierClaim.objects.filter(merchant=merchant).select_related("repair_order__ticket")


def supplier_claim_for_api(
    *, merchant: Merchant | None, membership: Membership | None, claim_id: int
) -> SupplierClaim | None:
    return supplier_claims_for_api(merchant=merchant, membership=membership).filter(pk=claim_id).first()
