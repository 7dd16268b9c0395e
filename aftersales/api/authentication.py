from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from aftersales.models import ApiKey
from aftersales.selectors import api_key_by_prefix


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key <prefix>.<secret>``. The request then acts for the key's merchant."""

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _sep, key = header.partition(" ")
        if keyword != self.keyword:
            return None
        key = key.strip()
        prefix, dot, _secret = key.partition(".")
        api_key = api_key_by_prefix(prefix) if dot else None
        if api_key is None or not api_key.is_active or api_key.key_hash != ApiKey.hash(key):
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        if not api_key.merchant.is_active:
            raise exceptions.AuthenticationFailed(_("This merchant is not active."))
        now = timezone.now()
        # One write a minute at most, so that a busy integration does not write on every call.
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return (None, api_key)

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "aftersales.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`",
        }
