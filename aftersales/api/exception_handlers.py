"""Domain refusals become stable JSON errors: ``{"error": {"code", "message", "details"}}``."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aftersales import exceptions as domain

STATUS_BY_ERROR = {
    domain.InvalidInput: status.HTTP_400_BAD_REQUEST,
    domain.TransitionNotAllowed: status.HTTP_409_CONFLICT,
    domain.Conflict: status.HTTP_409_CONFLICT,
    domain.PermissionRefused: status.HTTP_403_FORBIDDEN,
    domain.RateLimited: status.HTTP_429_TOO_MANY_REQUESTS,
}


def _status_for(exc: domain.ApplicationError) -> int:
    for error_class in type(exc).__mro__:
        if error_class in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[error_class]
    return status.HTTP_400_BAD_REQUEST


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request is larger than the server accepts.")
    default_code = "request_too_large"


def exception_handler(exc, context):
    # Django's own limits (DATA_UPLOAD_MAX_*) would otherwise become its HTML 400 page.
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        exc = RequestTooLarge()
    if isinstance(exc, domain.ApplicationError):
        body = {"error": {"code": exc.code, "message": str(exc.message), "details": exc.extra}}
        return Response(body, status=_status_for(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code, message, details = "invalid", _("Invalid input."), response.data
    else:
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
        message = response.data.get("detail", "") if isinstance(response.data, dict) else str(response.data)
        details = {}
    response.data = {"error": {"code": code, "message": str(message), "details": details}}
    return response
