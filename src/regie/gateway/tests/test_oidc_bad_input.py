"""Bad input and faults at the OpenID provider, sent by hand (httpx) where a client library would
refuse to: each gets the standard error of the spec, nothing is released, and the attempt is
audited. Also the release policy's say at launch: no licence, no agreement, no pupil → no launch.

The helpers here (:class:`Rp`, :func:`register`) drive a relying party by hand; the other
``test_oidc_*`` files use them too.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from regie.agreements import services as register_services
from regie.agreements.models import AgreementStatus, Licence, ProcessingAgreement
from regie.audit.models import AuditEvent
from regie.gateway import events, services
from regie.gateway.models import AccessToken, AuthorizationCode, OAuthClient
from regie.gateway.scopes import ROSTER_CORE_READ
from regie.logins import pass_second_step_over_http
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_staff

from .conftest import Launchable
from .test_oidc_client import logged_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIRECT = "https://app.rekenwereld.example/callback"
OTHER_REDIRECT = "https://app.taalrijk.example/callback"
ATTACKER = "https://attacker.example/steal"


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636 §4.1–4.2."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier, challenge.rstrip(b"=").decode("ascii")


@dataclass
class Rp:
    """A relying party driven by hand, so that it can send what no client library would."""

    base: str
    client: OAuthClient
    secret: str | None
    redirect_uri: str = REDIRECT
    verifier: str = field(default="", repr=False)
    state: str = ""

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def authorization_params(self, **overrides: str | None) -> dict[str, str]:
        self.verifier, challenge = pkce_pair()
        self.state = secrets.token_urlsafe(12)
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid",
            "state": self.state,
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return {key: value for key, value in params.items() if value is not None}

    def authorize(self, session: httpx.Client, **overrides: str | None) -> httpx.Response:
        return session.get("/oidc/authorize", params=self.authorization_params(**overrides))

    def code(self, session: httpx.Client, **overrides: str | None) -> tuple[str, str]:
        """A fresh authorization code and its verifier."""
        response = self.authorize(session, **overrides)
        assert response.status_code == 302, response.text[:500]
        query = redirect_query(response, self.redirect_uri)
        assert query["state"] == self.state
        return query["code"], self.verifier

    def exchange(
        self, code: str, verifier: str | None, *, secret: str | None = None, **extra: str | None
    ) -> httpx.Response:
        data: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
        }
        data.update(extra)
        password = secret if secret is not None else self.secret
        auth = (self.client_id, password) if password is not None else None
        return httpx.post(
            f"{self.base}/oidc/token",
            data={key: value for key, value in data.items() if value is not None},
            auth=auth,
        )

    def tokens(self, session: httpx.Client, **overrides: str | None) -> dict[str, Any]:
        code, verifier = self.code(session, **overrides)
        response = self.exchange(code, verifier)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def userinfo(self, access_token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        return httpx.get(f"{self.base}/oidc/userinfo", headers=headers)

    def logout(self, session: httpx.Client, **params: str) -> httpx.Response:
        return session.get("/oidc/logout", params=params)


def register(
    launchable: Launchable,
    *,
    other: bool = False,
    redirect_uri: str | None = None,
    auth_method: str = "client_secret_basic",
    **kwargs: Any,
) -> Rp:
    """A client of the first supplier of ``launchable`` (or of the other one)."""
    redirect_uri = redirect_uri or (OTHER_REDIRECT if other else REDIRECT)
    client, secret = services.register_client(
        launchable.other_supplier if other else launchable.supplier,
        name="Taalrijk" if other else "Rekenwereld",
        product=launchable.other_product if other else launchable.product,
        redirect_uris=[redirect_uri],
        auth_method=auth_method,
        **kwargs,
    )
    return Rp(launchable.base, client, secret, redirect_uri)


def redirect_query(response: httpx.Response, expected: str) -> dict[str, str]:
    location = response.headers["location"]
    assert location.split("?")[0] == expected, location
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def decode_id_token(base: str, id_token: str) -> dict[str, Any]:
    """The ID token's claims, its signature checked against the provider's published JWKS."""
    published = KeySet.import_key_set(httpx.get(f"{base}/oidc/jwks").json())
    token = jwt.decode(id_token, published, algorithms=["ES256", "RS256"])
    return dict(token.claims)


def refusals(event_type: str = "gateway.request.refused") -> list[dict[str, Any]]:
    return [event.details for event in AuditEvent.objects.filter(event_type=event_type)]


def refused_with(error: str) -> bool:
    return any(details.get("error") == error for details in refusals())


def releases() -> int:
    return AuditEvent.objects.filter(event_type="gateway.release").count()


def assert_nothing_issued() -> None:
    assert releases() == 0
    assert not AccessToken.objects.exists()


# --- the authorization endpoint ------------------------------------------------------------------


def test_it_shows_an_error_page_for_an_unknown_client(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    response = rp.authorize(session, client_id="regie-onbekend")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "invalid_client" in response.text
    assert refused_with("invalid_client")
    assert_nothing_issued()
    assert not AuthorizationCode.objects.exists()


def test_a_nul_in_a_client_id_or_nonce_or_a_too_long_nonce_is_refused_not_a_server_error(
    launchable: Launchable,
) -> None:
    """PostgreSQL cannot look up text with NUL in it: such a value is no client and no nonce."""
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    unknown = rp.authorize(session, client_id=f"{rp.client_id}\x00")
    assert unknown.status_code == 400
    assert "invalid_client" in unknown.text
    for bad_nonce in ("n\x00nce", "n" * 256):  # 255 is what is stored
        nonce = rp.authorize(session, nonce=bad_nonce)
        assert nonce.status_code == 302
        assert redirect_query(nonce, rp.redirect_uri)["error"] == "invalid_request"
    exchange = httpx.post(
        f"{launchable.base}/oidc/token",
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": rp.redirect_uri},
        auth=(f"{rp.client_id}\x00", rp.secret or ""),
    )
    assert exchange.status_code == 401
    assert exchange.json()["error"] == "invalid_client"
    logout = session.get("/oidc/logout", params={"client_id": "\x00"})
    unknown_logout = session.get("/oidc/logout", params={"client_id": "regie-onbekend"})
    assert logout.status_code == unknown_logout.status_code < 500  # as for any unknown client
    assert refused_with("invalid_client")
    assert_nothing_issued()
    assert not AuthorizationCode.objects.exists()


def test_it_never_redirects_to_an_unregistered_redirect_uri(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    response = rp.authorize(session, redirect_uri=ATTACKER)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert 'href="https://attacker.example' not in response.text
    assert 'role="alert"' in response.text
    assert refused_with("invalid_request")
    assert_nothing_issued()
    assert not AuthorizationCode.objects.exists()


def test_it_refuses_the_implicit_flow(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    response = rp.authorize(session, response_type="token")
    assert response.status_code == 302
    query = redirect_query(response, REDIRECT)
    assert query["error"] == "unsupported_response_type"
    assert query["state"] == rp.state
    assert "access_token" not in response.headers["location"]
    assert refused_with("unsupported_response_type")
    assert_nothing_issued()


def test_it_refuses_the_implicit_flow_to_an_unregistered_uri_without_redirect(
    launchable: Launchable,
) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    response = rp.authorize(session, response_type="id_token token", redirect_uri=ATTACKER)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert_nothing_issued()


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
    ],
    ids=["no-pkce", "no-challenge", "plain", "no-method"],
)
def test_it_requires_pkce_with_s256(launchable: Launchable, overrides: dict[str, None]) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    response = rp.authorize(session, **overrides)
    assert response.status_code == 302
    query = redirect_query(response, REDIRECT)
    assert query["error"] == "invalid_request"
    assert query["state"] == rp.state
    assert "code" not in query
    assert refused_with("invalid_request")
    assert not AuthorizationCode.objects.exists()
    assert_nothing_issued()


def test_it_narrows_a_scope_beyond_what_the_client_was_given(launchable: Launchable) -> None:
    """RFC 6749 §3.3: the server MAY issue less than asked, and then MUST say what it issued."""
    rp = register(launchable, scopes=["openid"])
    session = logged_in(launchable.base, launchable.pupil_user.username)
    tokens = rp.tokens(session, scope=f"openid {ROSTER_CORE_READ} naam-van-de-leerling")
    assert tokens["scope"] == "openid"
    assert AuthorizationCode.objects.get().scope == "openid"
    assert AccessToken.objects.get().scope == "openid"
    assert {
        "endpoint": "/oidc/authorize",
        "error": "invalid_scope",
        "scopes_ignored": [str(ROSTER_CORE_READ)],
        "unknown_scopes_ignored": 1,
    } in refusals()


def test_it_refuses_a_code_flow_without_openid_as_invalid_scope(launchable: Launchable) -> None:
    rp = register(launchable, scopes=["openid"])
    session = logged_in(launchable.base, launchable.pupil_user.username)
    response = rp.authorize(session, scope=str(ROSTER_CORE_READ))
    query = redirect_query(response, REDIRECT)
    assert query["error"] == "invalid_scope"
    assert "code" not in query
    assert refused_with("invalid_scope")
    assert_nothing_issued()


# --- the token endpoint --------------------------------------------------------------------------


def test_it_refuses_a_wrong_code_verifier(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    code, _ = rp.code(session)
    other_verifier, _ = pkce_pair()
    response = rp.exchange(code, other_verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert refused_with("invalid_grant")
    assert_nothing_issued()


def test_it_refuses_a_missing_code_verifier(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    code, _ = rp.code(session)
    response = rp.exchange(code, None)
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_request", "invalid_grant"}
    assert refusals()
    assert_nothing_issued()


def test_a_replayed_code_is_refused_and_revokes_its_tokens(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    code, verifier = rp.code(session)
    first = rp.exchange(code, verifier)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert rp.userinfo(access_token).status_code == 200

    second = rp.exchange(code, verifier)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert refused_with("invalid_grant")
    assert refusals("gateway.code.replayed") == [{"tokens_revoked": 1}]
    assert AccessToken.objects.get().revoked

    revoked = rp.userinfo(access_token)
    assert revoked.status_code == 401
    assert "invalid_token" in revoked.headers["www-authenticate"]
    assert AccessToken.objects.count() == 1


def test_two_simultaneous_exchanges_of_one_code_leave_no_usable_token(
    launchable: Launchable,
) -> None:
    """Exactly one exchange spends the code; the other is a replay, and whatever the code gave —
    also a token whose exchange was still under way — is revoked."""
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    for _round in range(3):
        code, verifier = rp.code(session)
        start = threading.Barrier(2)

        def exchange(
            _: int, code: str = code, verifier: str = verifier, start: Any = start
        ) -> httpx.Response:
            start.wait()
            return rp.exchange(code, verifier)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(exchange, range(2)))
        assert sorted(answer.status_code for answer in answers) in ([200, 400], [400, 400])
        for answer in answers:
            if answer.status_code == 200:
                assert rp.userinfo(answer.json()["access_token"]).status_code == 401
            else:
                assert answer.json()["error"] == "invalid_grant"
    assert len(refusals("gateway.code.replayed")) == 3
    assert not AccessToken.objects.filter(revoked=False).exists()


def test_it_refuses_an_expired_code(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    code, verifier = rp.code(session)
    issued = AuthorizationCode.objects.get()
    AuthorizationCode.objects.filter(pk=issued.pk).update(created_at=issued.created_at - 3600)
    response = rp.exchange(code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert refused_with("invalid_grant")
    assert_nothing_issued()


def test_it_refuses_a_code_exchanged_by_another_client(launchable: Launchable) -> None:
    rp = register(launchable)
    thief = register(launchable, other=True, redirect_uri=REDIRECT)  # another supplier's
    session = logged_in(launchable.base, launchable.pupil_user.username)
    code, verifier = rp.code(session)
    response = thief.exchange(code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert refused_with("invalid_grant")
    assert_nothing_issued()


def test_it_refuses_a_wrong_client_secret(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    code, verifier = rp.code(session)
    response = rp.exchange(code, verifier, secret="niet-het-geheim")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "www-authenticate" in response.headers
    assert refused_with("invalid_client")
    assert_nothing_issued()
    # the code was not spent by the failed attempt: the client itself can still use it
    assert rp.exchange(code, verifier).status_code == 200


def test_it_refuses_a_grant_the_client_was_not_given(launchable: Launchable) -> None:
    rp = register(launchable)
    response = httpx.post(
        f"{launchable.base}/oidc/token",
        data={"grant_type": "password", "username": "leerling-a", "password": "x"},
        auth=(rp.client_id, rp.secret or ""),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert refused_with("unsupported_grant_type")
    assert_nothing_issued()


# --- the userinfo endpoint -----------------------------------------------------------------------


def test_userinfo_wants_a_token(launchable: Launchable) -> None:
    rp = register(launchable)
    response = rp.userinfo(None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].lower().startswith("bearer")  # RFC 7235: any case
    assert refusals()
    assert_nothing_issued()


def test_userinfo_refuses_a_garbage_token(launchable: Launchable) -> None:
    rp = register(launchable)
    response = rp.userinfo("garbage-" + secrets.token_urlsafe(20))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert refused_with("invalid_token")
    assert_nothing_issued()


def test_userinfo_refuses_an_expired_token(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    access_token = rp.tokens(session)["access_token"]
    released = releases()
    token = AccessToken.objects.get()
    AccessToken.objects.filter(pk=token.pk).update(issued_at=token.issued_at - 86400)
    response = rp.userinfo(access_token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert refused_with("invalid_token")
    assert releases() == released


# --- the release policy at launch ----------------------------------------------------------------


def refused_page(response: httpx.Response, rp: Rp) -> dict[str, str]:
    """The friendly 403 page; returns the query of its link back to the supplier."""
    assert response.status_code == 403
    assert "location" not in response.headers
    assert 'role="alert"' in response.text
    assert response.text.count("<h1") == 1
    link = re.search(r'<a href="(https://app\.[^"]+)"', response.text)
    assert link is not None, response.text
    back = html.unescape(link[1])
    assert back.split("?")[0] == rp.redirect_uri
    query = {key: values[0] for key, values in parse_qs(urlsplit(back).query).items()}
    assert query["error"] == "access_denied"
    assert query["state"] == rp.state
    assert "code" not in query
    return query


def test_a_pupil_without_licence_cannot_launch(launchable: Launchable) -> None:
    rp = register(launchable)
    for licence in Licence.objects.filter(product=launchable.product):
        register_services.revoke_licence(licence, user=None)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    refused_page(rp.authorize(session), rp)
    (launch,) = refusals("gateway.launch.refused")
    assert launch["reasons"]["supplier_pseudonym"] == "no_licence"
    assert not AuthorizationCode.objects.exists()
    assert_nothing_issued()


def test_a_product_whose_agreement_ended_cannot_be_launched(launchable: Launchable) -> None:
    rp = register(launchable)
    agreement = ProcessingAgreement.objects.get(supplier=launchable.supplier)
    register_services.transition(agreement, AgreementStatus.TERMINATED, user=None)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    refused_page(rp.authorize(session), rp)
    (launch,) = refusals("gateway.launch.refused")
    assert launch["reasons"]["supplier_pseudonym"] == "no_active_agreement"
    assert_nothing_issued()


def test_a_teacher_of_no_licensed_group_cannot_launch(launchable: Launchable) -> None:
    rp = register(launchable)
    make_staff(launchable.school.board, launchable.school, StaffRole.TEACHER, username="mw-a")
    session = logged_in(launchable.base, "mw-a")
    refused_page(rp.authorize(session), rp)
    (launch,) = refusals("gateway.launch.refused")
    assert launch["reasons"] == {"supplier_pseudonym": "no_licence"}
    assert not AuthorizationCode.objects.exists()
    assert_nothing_issued()


def test_a_login_that_is_neither_pupil_nor_teacher_cannot_launch(launchable: Launchable) -> None:
    rp = register(launchable)
    make_staff(launchable.school.board, launchable.school, StaffRole.SCHOOL_ADMIN, username="mw-b")
    session = logged_in(launchable.base, "mw-b")
    pass_second_step_over_http(session, "mw-b")  # a school admin has a second step
    refused_page(rp.authorize(session), rp)
    (launch,) = refusals("gateway.launch.refused")
    assert launch["reasons"] == {"supplier_pseudonym": "no_pupil"}
    assert not AuthorizationCode.objects.exists()
    assert_nothing_issued()


def test_a_licence_revoked_before_the_token_request_releases_nothing(
    launchable: Launchable,
) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    code, verifier = rp.code(session)
    for licence in Licence.objects.filter(product=launchable.product):
        register_services.revoke_licence(licence, user=None)
    response = rp.exchange(code, verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "id_token" not in response.text
    assert releases() == 0
    assert not AccessToken.objects.filter(revoked=False).exists()
    assert refused_with("invalid_grant")


def test_first_name_goes_with_consent_and_stops_when_it_is_withdrawn(
    launchable: Launchable,
) -> None:
    rp = register(launchable)
    pupil, product = launchable.pupil, launchable.product
    guardian = pupil.guardians.first()
    assert guardian is not None
    register_services.set_switch(launchable.school, product, "first_name", True, user=None)
    register_services.record_consent(
        pupil, product, "first_name", True, guardian=guardian, user=None
    )
    session = logged_in(launchable.base, launchable.pupil_user.username)
    tokens = rp.tokens(session)
    expected = pupil.roepnaam or pupil.voornamen
    assert decode_id_token(launchable.base, tokens["id_token"])["given_name"] == expected
    assert rp.userinfo(tokens["access_token"]).json()["given_name"] == expected

    register_services.record_consent(
        pupil, product, "first_name", False, guardian=guardian, user=None
    )
    info = rp.userinfo(tokens["access_token"]).json()
    assert "given_name" not in info
    assert info.keys() == {"sub", "groups"}
    last = AuditEvent.objects.filter(event_type="gateway.release").order_by("pk").last()
    assert last is not None
    assert "first_name" not in last.details["attributes"]
    assert expected not in str(refusals("gateway.release"))


def test_a_licence_revoked_after_the_launch_stops_userinfo(launchable: Launchable) -> None:
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    access_token = rp.tokens(session)["access_token"]
    released = releases()
    for licence in Licence.objects.filter(product=launchable.product):
        register_services.revoke_licence(licence, user=None)
    response = rp.userinfo(access_token)
    assert response.status_code == 401  # RFC 6750 §3.1: invalid "for other reasons"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["error"] == "invalid_token"
    assert releases() == released
    assert refused_with("invalid_token")


@pytest.mark.parametrize("path", ["/oidc/token", "/oidc/introspect"])
def test_plain_http_behind_an_unconfigured_proxy_is_the_protocols_error_not_a_server_error(
    launchable: Launchable, settings: Any, path: str
) -> None:
    """RFC 6749 §3.2: TLS is required. A request that reaches the hub as plain http on a public
    host name (a proxy whose HTTPS header is not set up) is refused as the protocol says."""
    settings.ALLOWED_HOSTS = ["hub.regie.example"]
    client = Client(raise_request_exception=False)
    answer = client.post(
        path,
        {"grant_type": "client_credentials", "token": "x"},
        HTTP_HOST="hub.regie.example",
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "insecure_transport"
    refusals = AuditEvent.objects.filter(event_type=events.REQUEST_REFUSED)
    assert [event.details["error"] for event in refusals] == ["insecure_transport"]
