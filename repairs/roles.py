"""Which roles may do what in dispatch, and the require_* checks the services call.

Supervisors and merchant admins dispatch (assign, pin, plan, drop a technician out); a technician
works only the visits given to them (a supervisor may act for them); warehouse staff book nothing.
"""

from django.utils.translation import gettext_lazy as _

from aftersales.exceptions import PermissionRefused
from aftersales.models import Membership, User
from repairs.models import Visit


def staff_membership(user: User, merchant_id: int) -> Membership:
    membership = Membership.objects.filter(user=user, merchant_id=merchant_id, is_active=True).first()
    if membership is None:
        raise PermissionRefused
    return membership


def require_dispatcher(user: User | None, merchant_id: int) -> None:
    """``None`` is the system (the evening plan)."""
    if user is not None and not staff_membership(user, merchant_id).is_supervisor:
        raise PermissionRefused(_("Only supervisors can dispatch technicians."))


def require_visit_worker(user: User, visit: Visit) -> None:
    if staff_membership(user, visit.merchant_id).is_supervisor:
        return
    if visit.technician is None or visit.technician.user_id != user.pk:
        raise PermissionRefused(_("This visit is not yours."))


def require_booking_staff(user: User, merchant_id: int) -> None:
    if staff_membership(user, merchant_id).role == Membership.Role.WAREHOUSE:
        raise PermissionRefused
