"""Links to a case in the messages a customer gets: signed (Django's signing, with a salt of this
purpose only, so no other signed value of the product opens a case) and expiring
(``PORTAL_CASE_LINK_MAX_AGE_SECONDS``). The link is made when the message is sent, never stored:
the outbox keeps the portal's address, not a key to the case."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

CASE_LINK_SALT = "aftersales.portal.case-link"


def case_link_token(ticket_id: int) -> str:
    return signing.dumps(ticket_id, salt=CASE_LINK_SALT)


def case_link_url(merchant_slug: str, ticket_id: int) -> str:
    path = reverse("portal:case_link", kwargs={"merchant_slug": merchant_slug, "token": case_link_token(ticket_id)})
    return settings.SITE_URL + path


def case_link_ticket_id(token: str, *, expired_too: bool = False) -> int:
    """The case a token was made for. Raises ``signing.SignatureExpired`` for a token past its
    age (unless ``expired_too``: to tell which order wants a new code) and ``signing.BadSignature``
    for anything else that was not made by ``case_link_token``."""
    max_age = None if expired_too else settings.PORTAL_CASE_LINK_MAX_AGE_SECONDS
    ticket_id = signing.loads(token, salt=CASE_LINK_SALT, max_age=max_age)
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        raise signing.BadSignature("not a case link")
    return ticket_id
