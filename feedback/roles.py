"""Which staff roles may do what with feedback's reports and alerts."""

from django.utils.translation import gettext as _

from aftersales.exceptions import PermissionRefused
from aftersales.models import Membership, User

# Who sees the KPI home, the scorecards and the quality alerts, and decides an alert.
REPORT_ROLES = (Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)


def may_see_reports(membership: Membership) -> bool:
    return membership.role in REPORT_ROLES


def require_quality_decider(actor: User, merchant_id: int, owner_id: int | None) -> None:
    """A supervisor or merchant admin of the merchant, or its quality owner."""
    if actor.pk is not None and actor.pk == owner_id:
        return
    if not Membership.objects.filter(
        user=actor, merchant_id=merchant_id, is_active=True, role__in=REPORT_ROLES
    ).exists():
        raise PermissionRefused(_("Only a supervisor, a merchant admin or the quality owner can decide an alert."))
