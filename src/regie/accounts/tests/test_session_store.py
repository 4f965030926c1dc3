"""The session store (``regie.accounts.sessions``) reads sessions with a prepared query: it must
give what Django's database backend gives — the data of a live session, nothing of an expired or
unknown one (and then a fresh key, never the one asked for)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from regie.accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_it_reads_a_live_session_as_djangos_store_does() -> None:
    made = SessionStore()
    made["gateway.login_at"] = 1_796_640_000
    made["note"] = "fictief"
    made.save()
    assert made.session_key is not None
    ours, djangos = SessionStore(made.session_key), DjangoStore(made.session_key)
    assert ours.load() == djangos.load() == {"gateway.login_at": 1_796_640_000, "note": "fictief"}
    assert ours.session_key == made.session_key


def test_it_reads_nothing_of_an_expired_session() -> None:
    made = SessionStore()
    made["note"] = "fictief"
    made.save()
    Session.objects.filter(session_key=made.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    ours = SessionStore(made.session_key)
    assert ours.load() == {}
    assert ours.session_key is None  # a new session gets a new key, never the stale one


def test_it_reads_nothing_of_an_unknown_key() -> None:
    ours = SessionStore("unknownsessionkey0123456789abcd")
    assert ours.load() == {}
    assert ours.session_key is None
    assert not ours.exists("unknownsessionkey0123456789abcd")
