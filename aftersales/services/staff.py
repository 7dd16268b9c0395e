"""Who may act for a merchant: the one check every service makes of a staff actor."""

from django.utils.translation import gettext as _

from aftersales.exceptions import PermissionRefused
from aftersales.models import Membership, User


def staff_membership_required(*, actor: User, merchant_id: int) -> Membership:
    """The active membership of an active user at the merchant, or a refusal."""
    membership = Membership.objects.filter(user=actor, merchant_id=merchant_id, is_active=True).first()
    if membership is None or not actor.is_active:
        raise PermissionRefused(_("You are not a member of this merchant's staff."))
    return membership


# Event data of a change an operator made in the back office rather than on the dashboard.
VIA_ADMIN = "admin"


def back_office_operator_required(*, actor: User, permission: str) -> None:
    """An active back-office operator (Django's admin) holding ``permission``, or a refusal.

    The admin shows an operator every merchant's rows; what the operator changes there goes through
    the same services as the dashboard, which ask this instead of a membership when ``via`` is
    ``VIA_ADMIN``."""
    if not (actor.is_active and actor.is_staff and actor.has_perm(permission)):
        raise PermissionRefused(_("You may not change this in the back office."))
