from rest_framework.permissions import BasePermission

from aftersales.models import ApiKey, User
from aftersales.services.api_keys import api_key_actor


def request_merchant(request):
    """The merchant every API query starts from: the API key's, or the staff member's."""
    if isinstance(request.auth, ApiKey):
        return request.auth.merchant
    membership = getattr(request._request, "membership", None) if hasattr(request, "_request") else None
    return membership.merchant if membership else None


def request_actor(request) -> User:
    """The user a write is recorded under: the staff member, or the API key's integration user."""
    if isinstance(request.auth, ApiKey):
        return api_key_actor(api_key=request.auth)
    return request.user


def request_membership(request):
    if isinstance(request.auth, ApiKey):
        return None
    return getattr(request._request, "membership", None) or None


class IsMerchantMember(BasePermission):
    """An API key of an active merchant, or a logged-in staff member of one."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey):
            return True
        user = request.user
        return bool(user and user.is_authenticated and request_membership(request))
