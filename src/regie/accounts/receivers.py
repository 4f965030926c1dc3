"""Logins and logouts are audit events (DESIGN §1.7: everything that matters is provable).

Django's ``user_logged_in`` and ``user_logged_out`` signals, for every way of logging in (the
hub's and the admin's form, a school's identity provider, a pupil's login); failures are recorded
by :mod:`.throttling`.
"""

from __future__ import annotations

from typing import Any

from regie.audit.services import actor_for, record

from . import events


def logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    backend = str(getattr(user, "backend", "") or "").rsplit(".", 1)[-1]
    actor = actor_for(user)
    record(events.LOGIN_SUCCEEDED, actor, actor, {"backend": backend})


def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and user.pk is not None:
        actor = actor_for(user)
        record(events.LOGGED_OUT, actor, actor)
