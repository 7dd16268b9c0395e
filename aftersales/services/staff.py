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
