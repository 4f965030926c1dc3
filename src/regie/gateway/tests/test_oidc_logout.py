"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) against a live hub: with a valid
ID-token hint at once and back to a registered URI; otherwise no redirect, and without a hint only
after the pupil confirms. An ID token's ``aud`` is its client: it is no hint for another client."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from .conftest import Launchable
from .test_oidc_bad_input import ATTACKER, Rp, refusals, register
from .test_oidc_client import logged_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AFTER_LOGOUT = "https://app.rekenwereld.example/uitgelogd"
OTHER_AFTER_LOGOUT = "https://app.taalrijk.example/uitgelogd"


def is_logged_in(session: httpx.Client) -> bool:
    """The authorization endpoint sends an anonymous visitor to the login page first."""
    response = session.get("/oidc/authorize")
    return not (response.status_code == 302 and "/inloggen/" in response.headers["location"])


def rp_with_logout(launchable: Launchable, *, other: bool = False) -> Rp:
    return register(
        launchable,
        other=other,
        post_logout_redirect_uris=[OTHER_AFTER_LOGOUT if other else AFTER_LOGOUT],
    )


def signed_in(launchable: Launchable, rp: Rp) -> tuple[httpx.Client, str]:
    session = logged_in(launchable.base, launchable.pupil_user.username)
    return session, rp.tokens(session)["id_token"]


def test_a_valid_hint_logs_out_and_returns_to_the_registered_uri(launchable: Launchable) -> None:
    rp = rp_with_logout(launchable)
    session, id_token = signed_in(launchable, rp)
    assert is_logged_in(session)
    response = rp.logout(
        session,
        id_token_hint=id_token,
        post_logout_redirect_uri=AFTER_LOGOUT,
        state="terug-42",
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.split("?")[0] == AFTER_LOGOUT
    assert parse_qs(urlsplit(location).query) == {"state": ["terug-42"]}
    assert not is_logged_in(session)


def test_a_valid_hint_with_its_client_id_is_accepted(launchable: Launchable) -> None:
    rp = rp_with_logout(launchable)
    session, id_token = signed_in(launchable, rp)
    response = rp.logout(
        session,
        id_token_hint=id_token,
        client_id=rp.client_id,
        post_logout_redirect_uri=AFTER_LOGOUT,
    )
    assert response.status_code == 302
    assert response.headers["location"] == AFTER_LOGOUT
    assert not is_logged_in(session)


def test_it_never_redirects_to_an_unregistered_uri(launchable: Launchable) -> None:
    rp = rp_with_logout(launchable)
    session, id_token = signed_in(launchable, rp)
    response = rp.logout(session, id_token_hint=id_token, post_logout_redirect_uri=ATTACKER)
    assert response.status_code == 200
    assert "location" not in response.headers
    assert 'href="https://attacker.example' not in response.text
    assert 'role="status"' in response.text
    assert not is_logged_in(session)


def test_without_a_hint_it_asks_first_and_logs_out_after_the_post(launchable: Launchable) -> None:
    rp = rp_with_logout(launchable)
    session, _ = signed_in(launchable, rp)
    page = rp.logout(session, client_id=rp.client_id, post_logout_redirect_uri=AFTER_LOGOUT)
    assert page.status_code == 200
    assert "<form" in page.text
    assert page.text.count("<h1") == 1
    assert is_logged_in(session)  # a GET alone logs nobody out (a link on any page could)

    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    assert "csrfmiddlewaretoken" in fields
    confirmed = session.post("/oidc/logout", data=fields)
    assert not is_logged_in(session)
    # without a hint the OP has no proof the request came from the RP: no redirection (§3)
    assert confirmed.status_code == 200
    assert "location" not in confirmed.headers


def test_a_hint_for_one_client_is_no_hint_for_another(launchable: Launchable) -> None:
    first = rp_with_logout(launchable)
    second = rp_with_logout(launchable, other=True)
    session, id_token = signed_in(launchable, first)  # aud = the first client
    response = second.logout(
        session,
        id_token_hint=id_token,
        client_id=second.client_id,
        post_logout_redirect_uri=OTHER_AFTER_LOGOUT,
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert is_logged_in(session)
    assert any(
        details == {"endpoint": "/oidc/logout", "error": "invalid_request"}
        for details in refusals()
    )

    # without client_id the hint names its own client, whose URIs do not include the other's
    response = second.logout(
        session, id_token_hint=id_token, post_logout_redirect_uri=OTHER_AFTER_LOGOUT
    )
    assert "location" not in response.headers


def test_a_tampered_hint_is_refused(launchable: Launchable) -> None:
    rp = rp_with_logout(launchable)
    session, id_token = signed_in(launchable, rp)
    header, payload, signature = id_token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    response = rp.logout(session, id_token_hint=tampered, post_logout_redirect_uri=AFTER_LOGOUT)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert is_logged_in(session)
    assert refusals()
