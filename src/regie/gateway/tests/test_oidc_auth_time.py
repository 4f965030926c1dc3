"""``auth_time``, ``max_age`` and ``prompt=login`` (OIDC Core §2, §3.1.2.1) against a live hub.

A pupil who logs in at the hub once and launches two suppliers must not hand both the same value
from the hub's session: ``auth_time`` comes only when ``max_age`` asks for it, and then it is the
time of a login made for that very request, or the session's login coarsened to the hour on a
grid of each supplier's own — never later than the login, and another value at each supplier.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.conf import LazySettings
from django.contrib.sessions.backends.db import SessionStore

from regie.gateway.oidc import AUTH_TIME_GRID, LOGIN_AT, coarse_auth_time

from .conftest import PASSWORD, Launchable
from .test_oidc_bad_input import Rp, decode_id_token, redirect_query, register
from .test_oidc_client import logged_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def logged_in_at(session: httpx.Client, moment: int) -> None:
    """As if the session's login had been at ``moment``."""
    store = SessionStore(session_key=session.cookies["sessionid"])
    store[LOGIN_AT] = moment
    store.save()


def log_in_again(session: httpx.Client, login_page: httpx.Response, username: str) -> str:
    """Follow a redirect to the login page, log in there; where the login sends the browser."""
    assert login_page.status_code == 302
    location = login_page.headers["location"]
    assert urlsplit(location).path == "/inloggen/"
    form = session.get(location)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    nxt = parse_qs(urlsplit(location).query)["next"][0]
    answer = session.post(
        location,
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": token[1],
            "next": nxt,
        },
    )
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["location"]


def exchange(rp: Rp, location: str) -> dict[str, Any]:
    """The ID token for the code in the redirect to the client at ``location``."""
    assert location.split("?")[0] == rp.redirect_uri, location
    code = parse_qs(urlsplit(location).query)["code"][0]
    answer = rp.exchange(code, rp.verifier)
    assert answer.status_code == 200, answer.text
    return decode_id_token(rp.base, answer.json()["id_token"])


def test_an_id_token_has_no_auth_time_unless_max_age_asks_for_it(launchable: Launchable) -> None:
    session = logged_in(launchable.base, launchable.pupil_user.username)
    for other in (False, True):
        tokens = register(launchable, other=other).tokens(session)
        assert "auth_time" not in decode_id_token(launchable.base, tokens["id_token"])


def test_one_login_gives_two_suppliers_two_coarse_auth_times(
    launchable: Launchable, settings: LazySettings
) -> None:
    settings.IDENTIFIER_KEY = "fictieve-sleutel-auth-time"
    first, second = register(launchable), register(launchable, other=True)
    assert coarse_auth_time(0, first.client) != coarse_auth_time(0, second.client)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    login = int(time.time()) - 2 * 3600  # two hours ago
    logged_in_at(session, login)
    times = []
    for rp in (first, second):
        claims = decode_id_token(launchable.base, rp.tokens(session, max_age="86400")["id_token"])
        auth_time = claims["auth_time"]
        assert login - AUTH_TIME_GRID < auth_time <= login  # never later than the login
        assert auth_time == coarse_auth_time(login, rp.client)
        times.append(auth_time)
    assert times[0] != times[1]


def test_a_login_older_than_max_age_is_asked_for_again_and_that_one_counts(
    launchable: Launchable,
) -> None:
    rp = register(launchable)
    username = launchable.pupil_user.username
    session = logged_in(launchable.base, username)
    logged_in_at(session, int(time.time()) - 7200)
    answer = rp.authorize(session, max_age="600")
    assert "code=" not in answer.headers["location"]
    assert session.get("/leermiddelen/").status_code == 302  # logged out of the hub
    before = int(time.time())
    location = log_in_again(session, answer, username)
    followed = session.get(location)
    fresh = exchange(rp, followed.headers["location"])["auth_time"]
    assert before <= fresh <= int(time.time())  # the fresh login, exactly

    again = rp.authorize(session, max_age="600")  # well within max_age now: no new login
    reused = exchange(rp, again.headers["location"])["auth_time"]
    assert reused <= fresh  # never later than the login ...
    assert reused + 600 >= int(time.time())  # ... and recent enough for max_age


def test_prompt_login_asks_for_a_fresh_login_every_time(launchable: Launchable) -> None:
    rp = register(launchable)
    username = launchable.pupil_user.username
    session = logged_in(launchable.base, username)
    for _ in range(2):
        answer = rp.authorize(session, prompt="login")
        assert "code=" not in answer.headers["location"]
        followed = session.get(log_in_again(session, answer, username))
        claims = exchange(rp, followed.headers["location"])
        assert "auth_time" not in claims  # prompt=login alone does not ask for it


def test_a_max_age_that_is_no_number_is_an_invalid_request(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    for bad in ("-1", "soon", "1e3", "9" * 12):
        answer = rp.authorize(session, max_age=bad)
        query = redirect_query(answer, rp.redirect_uri)
        assert query["error"] == "invalid_request"
        assert query["state"] == rp.state


def test_prompt_none_with_a_login_too_old_for_max_age_is_login_required(
    launchable: Launchable,
) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    logged_in_at(session, int(time.time()) - 7200)
    answer = rp.authorize(session, max_age="600", prompt="none")
    query = redirect_query(answer, rp.redirect_uri)
    assert query["error"] == "login_required"
    assert query["state"] == rp.state
    assert session.get("/leermiddelen/").status_code == 200  # still logged in: nothing asked


def test_prompt_none_without_a_session_is_login_required_not_the_login_page(
    launchable: Launchable,
) -> None:
    """OIDC Core §3.1.2.6: with prompt=none the provider shows no page; without a login it
    answers the client with login_required (and its state)."""
    rp = register(launchable)
    with httpx.Client(base_url=launchable.base) as session:
        answer = rp.authorize(session, prompt="none")
        query = redirect_query(answer, rp.redirect_uri)
        assert query["error"] == "login_required"
        assert query["state"] == rp.state
        # Without prompt=none an anonymous visitor still goes to the login page.
        assert urlsplit(rp.authorize(session).headers["location"]).path == "/inloggen/"
        # ... also when prompt=none comes with white space around it.
        query = redirect_query(rp.authorize(session, prompt=" none "), rp.redirect_uri)
        assert (query["error"], query["state"]) == ("login_required", rp.state)
