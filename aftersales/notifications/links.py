"""Links to a case in the messages a customer gets: signed (Django's signing, with a salt of this
purpose only, so no other signed value of the product opens a case) and expiring
(``PORTAL_CASE_LINK_MAX_AGE_SECONDS``). The link is made when the message is sent, never stored:
the outbox keeps the portal's address, not a key to the case.

The token is short, because it rides in SMS: the case id in base 36, the signing time, and the
first 22 characters (132 bits) of the HMAC-SHA256 — ``1z3k:1xa5N1:0UJ6PzUGwTyA_MmOu7Hm4A``, 34
characters where ``signing.dumps`` makes 53. An English message with its link then fits one
160-character SMS. Links made before the short form (``signing.dumps``) open until they expire."""

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.http import base36_to_int, int_to_base36

CASE_LINK_SALT = "aftersales.portal.case-link"
SIGNATURE_CHARS = 22


class _ShortSigner(signing.TimestampSigner):
    """A timestamped signer whose signature is the HMAC's first ``SIGNATURE_CHARS`` characters:
    ``sign`` and ``unsign`` both go through ``signature``, so both use the short form."""

    def signature(self, value, key=None):
        return super().signature(value, key)[:SIGNATURE_CHARS]


def _signer() -> _ShortSigner:
    return _ShortSigner(salt=CASE_LINK_SALT)


def case_link_token(ticket_id: int) -> str:
    return _signer().sign(int_to_base36(ticket_id))


def case_link_url(merchant_slug: str, ticket_id: int) -> str:
    path = reverse("portal:case_link", kwargs={"merchant_slug": merchant_slug, "token": case_link_token(ticket_id)})
    return settings.SITE_URL + path


def case_link_ticket_id(token: str, *, expired_too: bool = False) -> int:
    """The case a token was made for. Raises ``signing.SignatureExpired`` for a token past its
    age (unless ``expired_too``: to tell which order wants a new code) and ``signing.BadSignature``
    for anything else that was not made by ``case_link_token``."""
    max_age = None if expired_too else settings.PORTAL_CASE_LINK_MAX_AGE_SECONDS
    if token.count(":") == 2 and len(token.rsplit(":", 1)[1]) == SIGNATURE_CHARS:
        value = _signer().unsign(token, max_age=max_age)
        try:
            return base36_to_int(value)
        except ValueError as exc:  # signed by us, so never in practice; a clear refusal all the same
            raise signing.BadSignature("not a case link") from exc
    # A link of the long form, sent before the short one.
    ticket_id = signing.loads(token, salt=CASE_LINK_SALT, max_age=max_age)
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise signing.BadSignature("not a case link")
    return ticket_id
