"""Request bodies, parsed with limits an outside client cannot push past."""

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No operation of the API takes more than a few levels; a document deeper than this is an attack.
MAX_JSON_DEPTH = 32


def _depth_exceeds(document, limit: int) -> bool:
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's parser, refusing documents nested deeper than ``MAX_JSON_DEPTH`` with a 400 (the
    standard library's parser would raise ``RecursionError`` on a 2 KB body of ``[``)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            document = super().parse(stream, media_type, parser_context)
        except RecursionError:
            document = None
            too_deep = True
        else:
            too_deep = _depth_exceeds(document, MAX_JSON_DEPTH)
        if too_deep:
            raise ParseError(_("The JSON is nested too deeply: at most %(depth)s levels.") % {"depth": MAX_JSON_DEPTH})
        return document


DEFAULT_PARSERS = [JSONParser, parsers.FormParser, parsers.MultiPartParser]
