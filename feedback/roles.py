"""Which staff roles may do what with feedback, and the checks the services make of them."""

from django.utils.translation import gettext as _

from aftersales.exceptions import PermissionRefused
from aftersales.models import Membership, User
from aftersales.services.staff import staff_membership_required

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
