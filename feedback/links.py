"""The survey link: a signed token that names one survey and its nonce.

Signed with Django's signing under a salt of its own purpose, so no other signed value of the
project (a portal link, a session) can stand in for it. The survey row keeps the expiry the
merchant set when it was sent; the signature's own age limit is only an outer bound."""

from datetime import timedelta

from django.core import signing

SURVEY_LINK_SALT = "feedback.survey.link"
# No survey link is ever valid longer than this, whatever a merchant sets.
MAX_LINK_AGE = timedelta(days=366)


class SurveyLinkInvalid(Exception):
    """Tampered, truncated or not a survey link."""


def survey_token(*, survey_id: int, nonce: str) -> str:
    return signing.TimestampSigner(salt=SURVEY_LINK_SALT).sign_object({"s": survey_id, "n": nonce}, compress=True)


def survey_token_read(token: str) -> tuple[int, str]:
    """The survey id and nonce a token names; raises ``SurveyLinkInvalid`` for any other string."""
    try:
        value = signing.TimestampSigner(salt=SURVEY_LINK_SALT).unsign_object(token, max_age=MAX_LINK_AGE)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise SurveyLinkInvalid from exc
    if not isinstance(value, dict) or not isinstance(value.get("s"), int) or not isinstance(value.get("n"), str):
        raise SurveyLinkInvalid
    return value["s"], value["n"]
