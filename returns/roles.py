"""Which staff roles may do what with returns, and the checks the services make of them."""

from collections.abc import Sequence

from django.utils.translation import gettext as _

from aftersales.exceptions import PermissionRefused
from aftersales.models import Customer, Membership, User
from aftersales.services.staff import staff_membership_required
from returns.models import ReturnRequest

# Who may grant, pay, confirm and void money: a refund, store credit, a customer's payment of a
# price difference.
REFUND_ROLES = (Membership.Role.AGENT, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)
# Who may say a customer's payment of a dearer exchange arrived: those who may refund.
DIFFERENCE_ROLES = REFUND_ROLES
# Who may declare a parcel lost and decide its claim: those who may refund, since a lost parcel
# is paid for without the goods coming back.
CLAIM_ROLES = REFUND_ROLES
# Who approves or rejects a return: the desk. The warehouse receives and inspects what comes
# back, a technician works repairs; neither decides whether it may come back.
DECIDE_ROLES = (Membership.Role.AGENT, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)
# Who decides an escalated return, and is told of escalations and flagged quick refunds.
SUPERVISOR_ROLES = (Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)


def may_work_returns(membership: Membership) -> bool:
    """Technicians see only the repairs assigned to them, so never a return."""
    return membership.role != Membership.Role.TECHNICIAN


def require_staff(actor: User, merchant_id: int) -> Membership:
    """The actor's active membership at the merchant, in any staff role."""
    return staff_membership_required(actor=actor, merchant_id=merchant_id)


def require_decider(actor: User, merchant_id: int) -> Membership:
    """Staff who may approve or reject a return: an agent, a supervisor or a merchant admin."""
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role not in DECIDE_ROLES:
        raise PermissionRefused(
            _("Your role does not decide returns: an agent or a supervisor approves or rejects them."),
            code="role_cannot_decide",
        )
    return membership


def require_supervisor(actor: User | None, merchant_id: int) -> None:
    """A supervisor or merchant admin of the merchant: who decides an escalated return."""
    if (
        actor is None
        or not Membership.objects.filter(
            user=actor, merchant_id=merchant_id, is_active=True, role__in=SUPERVISOR_ROLES
        ).exists()
    ):
        raise PermissionRefused(_("Only a supervisor decides an escalated return."))


def require_staff_or_system(
    actor: User | None, merchant_id: int, roles: Sequence[str] | None = None
) -> Membership | None:
    """The actor's membership (None for the system), in one of ``roles`` (None: any staff role)."""
    if actor is None:
        return None
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if roles is not None and membership.role not in roles:
        raise PermissionRefused(_("Your role does not allow refunds."), code="role_cannot_refund")
    return membership


def require_difference_role(actor: User, merchant_id: int) -> Membership:
    """Staff who may confirm that a customer paid an exchange's price difference."""
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role not in DIFFERENCE_ROLES:
        raise PermissionRefused(_("Your role does not allow confirming payments."), code="role_cannot_confirm_payment")
    return membership


def require_claim_role(actor: User | None, merchant_id: int) -> Membership:
    """The actor's membership at the merchant, with a role that may work carrier claims."""
    if actor is None:
        raise PermissionRefused(_("You are not a member of this merchant's staff."))
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role not in CLAIM_ROLES:
        raise PermissionRefused(
            _("Your role does not allow lost parcels and carrier claims."), code="role_cannot_claim"
        )
    return membership


def require_party(return_request: ReturnRequest, *, customer: Customer | None, actor: User | None) -> None:
    """The customer the return belongs to, or a staff member of its merchant; exactly one of them."""
    if (customer is None) == (actor is None):
        raise ValueError("give either the customer or the staff actor")
    if customer is not None and customer.pk != return_request.customer_id:
        raise PermissionRefused(_("This request belongs to another customer."))
    if actor is not None:
        require_staff(actor, return_request.merchant_id)
