"""Which staff roles may do what with feedback (surveys, follow-ups, recovery, reports and quality
alerts), and the checks the services make of them."""

from django.utils.translation import gettext as _

from aftersales.exceptions import PermissionRefused
from aftersales.models import Membership, User
from aftersales.services.staff import staff_membership_required

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


SUPERVISOR_ROLES = (Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)


# Who makes follow-up calls: everyone who talks to customers.
CALLER_ROLES = (Membership.Role.AGENT, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)


def may_see_feedback(membership: Membership) -> bool:
    """Responses, scores and queues: the people who work cases, not technicians or the warehouse."""
    return membership.role in CALLER_ROLES


def may_manage_surveys(membership: Membership) -> bool:
    return membership.role in SUPERVISOR_ROLES


def require_caller(actor: User, merchant_id: int) -> Membership:
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role not in CALLER_ROLES:
        raise PermissionRefused(_("Your role does not make follow-up calls."), code="role_cannot_call")
    return membership


def require_supervisor(actor: User, merchant_id: int) -> Membership:
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role not in SUPERVISOR_ROLES:
        raise PermissionRefused(_("Only a supervisor or merchant admin may do this."), code="role_not_supervisor")
    return membership
