"""Which staff roles may do what with repairs, and the checks the services make of them."""

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.exceptions import PermissionRefused
from aftersales.models import Customer, Membership, User
from aftersales.services.staff import staff_membership_required
from repairs.models import RepairOrder, RepairPolicy, Visit

SUPERVISOR_ROLES = (Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)
# Who decides money: goodwill, quotes, replacement and refund of a unit, supplier claims.
DECISION_ROLES = (Membership.Role.AGENT, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)
# Who works the device: diagnosis, lines, parts, QC (a technician, or office staff for them).
WORKSHOP_ROLES = (
    Membership.Role.TECHNICIAN,
    Membership.Role.AGENT,
    Membership.Role.SUPERVISOR,
    Membership.Role.MERCHANT_ADMIN,
    Membership.Role.WAREHOUSE,
)


def require_staff(actor: User, merchant_id: int) -> Membership:
    return staff_membership_required(actor=actor, merchant_id=merchant_id)


def require_role(actor: User, merchant_id: int, roles: tuple[str, ...]) -> Membership:
    membership = staff_membership_required(actor=actor, merchant_id=merchant_id)
    if membership.role not in roles:
        raise PermissionRefused(code="role_not_allowed")
    return membership


def require_decider(actor: User, merchant_id: int) -> Membership:
    return require_role(actor, merchant_id, DECISION_ROLES)


def require_workshop(actor: User, merchant_id: int) -> Membership:
    return require_role(actor, merchant_id, WORKSHOP_ROLES)


def goodwill_limit(membership: Membership | None, policy: RepairPolicy) -> Decimal:
    """What this person may give away on one repair: nothing for a technician or the warehouse."""
    if membership is None:
        return Decimal("0")
    if membership.role in SUPERVISOR_ROLES:
        return policy.goodwill_limit_supervisor
    if membership.role == Membership.Role.AGENT:
        return policy.goodwill_limit_agent
    return Decimal("0")


def require_party(repair_order: RepairOrder, *, customer: Customer | None, actor: User | None) -> Membership | None:
    """The customer the repair belongs to, or a staff member of its merchant; exactly one of them."""
    if (customer is None) == (actor is None):
        raise ValueError("give either the customer or the staff actor")
    if customer is not None:
        if customer.pk != repair_order.customer_id:
            raise PermissionRefused(_("This repair belongs to another customer."))
        return None
    if actor is None:
        raise ValueError("give either the customer or the staff actor")
    return require_staff(actor, repair_order.merchant_id)


# --- dispatch: supervisors dispatch; a technician works only the visits given to them ----------


def staff_membership(user: User, merchant_id: int) -> Membership:
    membership = Membership.objects.filter(user=user, merchant_id=merchant_id, is_active=True).first()
    if membership is None:
        raise PermissionRefused
    return membership


def require_dispatcher(user: User | None, merchant_id: int) -> None:
    """``None`` is the system (the evening plan)."""
    if user is not None and not staff_membership(user, merchant_id).is_supervisor:
        raise PermissionRefused(gettext_lazy("Only supervisors can dispatch technicians."))


def require_visit_worker(user: User, visit: Visit) -> None:
    if staff_membership(user, visit.merchant_id).is_supervisor:
        return
    if visit.technician is None or visit.technician.user_id != user.pk:
        raise PermissionRefused(gettext_lazy("This visit is not yours."))


def require_booking_staff(user: User, merchant_id: int) -> None:
    if staff_membership(user, merchant_id).role == Membership.Role.WAREHOUSE:
        raise PermissionRefused


# Who keeps the stock (receive, transfer, count) and the parts catalogue.
STOCK_ROLES = (Membership.Role.WAREHOUSE, Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)


def require_stock_keeper(actor: User, merchant_id: int) -> Membership:
    return require_role(actor, merchant_id, STOCK_ROLES)


def require_technician_manager(actor: User, merchant_id: int) -> Membership:
    """Technicians' profiles (skills, areas, calendar, capacity, time off) are the supervisors'."""
    return require_role(actor, merchant_id, SUPERVISOR_ROLES)
