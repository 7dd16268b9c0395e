from base64 import b64decode
from datetime import datetime
from urllib import parse

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination

from aftersales.instants import instant_in_utc


class InvalidCursor(exceptions.APIException):
    status_code = 400
    default_detail = _("Invalid cursor")
    default_code = "invalid_cursor"


class CreatedCursorPagination(CursorPagination):
    """Keyset pagination, newest first: a page costs the same at row 10 and at row 1,000,000.

    A cursor comes back from the client, so it is checked like any input: one that does not decode,
    or whose position the ordering field cannot hold, is a 400 in the API's error format."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise InvalidCursor from exc
        if cursor is None:
            return None
        if not self._names_only_cursor_keys(request.query_params[self.cursor_query_param]):
            raise InvalidCursor
        if cursor.position is None:
            return cursor
        return cursor._replace(position=self._checked_position(cursor.position))

    @staticmethod
    def _names_only_cursor_keys(encoded: str) -> bool:
        """DRF writes only o, r and p, and a cursor always says something (the first page has none)."""
        try:
            keys = parse.parse_qs(b64decode(encoded.encode("ascii")).decode("ascii"), keep_blank_values=True)
        except (ValueError, UnicodeError):
            return False
        return bool(keys) and set(keys) <= {"o", "r", "p"}

    def _checked_position(self, position: str) -> str:
        field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            value = field.to_python(position)
            if value is None:
                raise InvalidCursor
            field.run_validators(value)
        except (ValidationError, TypeError, ValueError, OverflowError) as exc:
            raise InvalidCursor from exc
        if isinstance(value, datetime):
            value = instant_in_utc(value)
            if value is None:
                raise InvalidCursor
            return value.isoformat()
        if isinstance(value, str) and "\x00" in value:
            raise InvalidCursor
        return str(value)
