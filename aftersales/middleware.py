"""Who the request is for: the merchant, its language and its time zone.

Staff get the merchant of their membership (picked with the switcher when they have several);
the portal gets the merchant named in its URL. Every page and API query starts from
``request.merchant``; there is no unscoped path from a request to data.
"""

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject

from aftersales.selectors import membership_for_request, merchant_active_by_slug

SUPPORTED_LANGUAGES = {code for code, _name in settings.LANGUAGES}


class MerchantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: membership_for_request(request))
        request.merchant = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("merchant_slug")
        if slug is not None:
            request.merchant = merchant_active_by_slug(slug)
        elif request.user.is_authenticated and request.membership:
            request.merchant = request.membership.merchant
        return


def _language_from_request(request, merchant) -> str:
    """The switcher's cookie, then the browser, then the merchant's default."""
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in SUPPORTED_LANGUAGES:
        return cookie
    if request.headers.get("Accept-Language"):
        from_browser = translation.get_language_from_request(request)
        if from_browser in SUPPORTED_LANGUAGES:
            return from_browser
    if merchant is not None:
        return merchant.default_language
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(_language_from_request(request, None))
        response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", translation.get_language())
        translation.deactivate()
        timezone.deactivate()
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        merchant = getattr(request, "merchant", None)
        language = _language_from_request(request, merchant)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        if merchant is not None:
            try:
                timezone.activate(zoneinfo.ZoneInfo(merchant.timezone))
            except zoneinfo.ZoneInfoNotFoundError:
                timezone.deactivate()
        return
