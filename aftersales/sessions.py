"""Sessions in the database, as ``django.contrib.sessions.backends.db`` keeps them, read by one
statement compiled once a process and prepared once a database session.

Every portal request reads its session (the orders it verified): built by the ORM each time, that
read cost ~0.4 ms of CPU, a tenth of a light page. The rows, the cookie, the writes and the
expiry are Django's own; only the read is the compiled statement of the same queryset.
"""

import re
from datetime import datetime

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from aftersales.compiled import CompiledRead

_SESSION = CompiledRead(
    lambda *, shape, session_key, now: Session.objects.filter(session_key=session_key, expire_date__gt=now),
    params={"session_key": str, "now": datetime},
    prepared=True,
)


# What Django's keys are made of (``get_random_string(32, VALID_KEY_CHARS)``), at most the column's
# length: any other cookie value (a NUL byte, 5,000 characters) is no session, not a query.
_KEY = re.compile(r"[a-z0-9]{8,40}")


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        return key is not None and _KEY.fullmatch(key) is not None

    def _get_session_from_db(self) -> Session | None:
        key = self.session_key
        found = _SESSION.first(shape=None, session_key=str(key), now=timezone.now()) if key else None
        if found is None:
            self._session_key = None
        return found
