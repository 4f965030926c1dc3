"""The session store: Django's database sessions, read with a query compiled once per process.

Every request of a logged-in user reads its session; building and compiling that query each time
cost more than the database takes to answer it (``regie.lib.prepared``). Everything else — saving,
expiry, ending a session at logout — is Django's ``db`` backend, unchanged.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from regie.lib.prepared import Prepared

_SESSION = Prepared(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now).order_by()[:1],
    key=str,
    now=datetime,
)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Session | None:
        key = self.session_key
        found = _SESSION.first(key=key, now=timezone.now()) if key else None
        if found is None:
            self._session_key = None
        return found
