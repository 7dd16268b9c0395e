"""The session store reads Django's database sessions through one prepared statement."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aftersales.sessions import SessionStore


@pytest.mark.django_db
def test_a_session_written_by_django_is_read_by_its_key_through_one_statement():
    # Given a session Django's own database store wrote, and another one
    ours = DatabaseSessionStore()
    ours["aftersales_portal"] = {"7": {"order_ids": [11]}}
    ours.save()
    other = DatabaseSessionStore()
    other["aftersales_portal"] = {"8": {"order_ids": [12]}}
    other.save()

    # When the configured store reads each by its key
    with CaptureQueriesContext(connection) as reads:
        first = SessionStore(ours.session_key)["aftersales_portal"]
        second = SessionStore(other.session_key)["aftersales_portal"]

    # Then each reads its own data, one statement a read
    assert settings.SESSION_ENGINE == "aftersales.sessions"
    assert (first, second) == ({"7": {"order_ids": [11]}}, {"8": {"order_ids": [12]}})
    assert len(reads.captured_queries) == 2


@pytest.mark.django_db
def test_an_expired_or_unknown_session_reads_as_empty_and_gets_a_new_key():
    # Given a session that has expired
    expired = DatabaseSessionStore()
    expired["aftersales_portal"] = {"7": {"order_ids": [11]}}
    expired.set_expiry(timezone.now() - timedelta(seconds=1))
    expired.save()

    # When it is read, and a key no session has
    stale = SessionStore(expired.session_key)
    unknown = SessionStore("nosuchsessionkey0123456789abcdef")

    # Then neither has data, and neither keeps the key it was given
    assert stale.get("aftersales_portal") is None
    assert stale.session_key is None
    assert unknown.get("aftersales_portal") is None
    assert unknown.session_key is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cookie",
    ["abcdefgh\x00ijklmnop", "x" * 5000, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "ab'cdefgh;--ijkl", "éééééééééé"],
)
def test_a_session_cookie_no_key_of_ours_could_be_is_no_session_and_no_query(client, cookie):
    # Given a cookie a browser would never have from us (a NUL byte, 5,000 characters, other letters)
    client.raise_request_exception = False
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie

    # When pages that read the session are opened with it
    with CaptureQueriesContext(connection) as reads:
        store = SessionStore(cookie)
        data = store.get("aftersales_portal")
    answers = [client.get(url).status_code for url in ("/portal/", "/dashboard/login/", "/dashboard/")]

    # Then it is no session: nothing read, no key kept, and the pages answer as to a new visitor
    assert (data, store.session_key, reads.captured_queries) == (None, None, [])
    assert answers == [200, 200, 302]
