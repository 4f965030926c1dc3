"""Client authentication with ``private_key_jwt`` (OIDC Core §9, RFC 7523 §3) against a live hub:
a client registered with the JWKS of its own EC P-256 key. A correct assertion gets tokens; a
tampered, misaddressed, expired, replayed or foreign-signed one is ``invalid_client`` — nothing
issued, the attempt audited. And a client that asked for RS256 gets RS256-signed ID tokens."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwk import ECKey, KeySet

from regie.gateway.models import AccessToken

from .conftest import Launchable
from .test_oidc_bad_input import Rp, assert_nothing_issued, decode_id_token, refusals, register
from .test_oidc_client import logged_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def ec_key(kid: str = "rekenwereld-1") -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig"}, private=True)


def assertion(rp: Rp, key: ECKey, **changes: Any) -> str:
    """A client assertion as RFC 7523 §3 wants it; ``changes`` overrides (None drops) claims."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": rp.client_id,
        "sub": rp.client_id,
        "aud": f"{rp.base}/oidc/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
    }
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def exchange(rp: Rp, session: httpx.Client, signed: str) -> httpx.Response:
    code, verifier = rp.code(session)
    return rp.exchange(
        code, verifier, client_assertion_type=ASSERTION_TYPE, client_assertion=signed
    )


@pytest.fixture
def key() -> ECKey:
    return ec_key()


@pytest.fixture
def rp(launchable: Launchable, key: ECKey) -> Rp:
    public = KeySet([key]).as_dict(private=False)
    registered = register(launchable, auth_method="private_key_jwt", jwks=public)
    assert registered.secret is None
    assert "d" not in registered.client.jwks["keys"][0]
    return registered


@pytest.fixture
def session(launchable: Launchable) -> httpx.Client:
    return logged_in(launchable.base, launchable.pupil_user.username)


def assert_invalid_client(response: httpx.Response) -> None:
    assert response.status_code in {400, 401}, response.text
    assert response.json()["error"] == "invalid_client"
    assert any(details.get("error") == "invalid_client" for details in refusals())
    assert_nothing_issued()


def test_a_correct_assertion_gets_tokens(
    launchable: Launchable, rp: Rp, key: ECKey, session: httpx.Client
) -> None:
    response = exchange(rp, session, assertion(rp, key))
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert decode_id_token(launchable.base, tokens["id_token"])["aud"] == rp.client_id
    assert rp.userinfo(tokens["access_token"]).status_code == 200


def test_the_issuer_is_also_an_accepted_audience(rp: Rp, key: ECKey, session: httpx.Client) -> None:
    response = exchange(rp, session, assertion(rp, key, aud=f"{rp.base}/oidc"))
    assert response.status_code == 200, response.text


def test_a_tampered_assertion_is_refused(rp: Rp, key: ECKey, session: httpx.Client) -> None:
    header, payload, signature = assertion(rp, key).split(".")
    flipped = ("A" if signature[5] != "A" else "B").join((signature[:5], signature[6:]))
    assert_invalid_client(exchange(rp, session, f"{header}.{payload}.{flipped}"))


def test_an_assertion_with_a_swapped_payload_is_refused(
    rp: Rp, key: ECKey, session: httpx.Client
) -> None:
    header, _, signature = assertion(rp, key).split(".")
    _, payload, _ = assertion(rp, key, exp=int(time.time()) + 86400).split(".")
    assert_invalid_client(exchange(rp, session, f"{header}.{payload}.{signature}"))


def test_an_assertion_for_another_audience_is_refused(
    rp: Rp, key: ECKey, session: httpx.Client
) -> None:
    signed = assertion(rp, key, aud="https://idp.andere-leverancier.example/token")
    assert_invalid_client(exchange(rp, session, signed))


def test_an_expired_assertion_is_refused(rp: Rp, key: ECKey, session: httpx.Client) -> None:
    long_ago = int(time.time()) - 3600
    assert_invalid_client(exchange(rp, session, assertion(rp, key, iat=long_ago, exp=long_ago)))


def test_an_assertion_without_exp_is_refused(rp: Rp, key: ECKey, session: httpx.Client) -> None:
    assert_invalid_client(exchange(rp, session, assertion(rp, key, exp=None)))


def test_an_assertion_without_jti_is_refused(rp: Rp, key: ECKey, session: httpx.Client) -> None:
    assert_invalid_client(exchange(rp, session, assertion(rp, key, jti=None)))


def test_an_assertion_is_used_once(rp: Rp, key: ECKey, session: httpx.Client) -> None:
    signed = assertion(rp, key)
    assert exchange(rp, session, signed).status_code == 200
    replayed = exchange(rp, session, signed)
    assert replayed.status_code in {400, 401}
    assert replayed.json()["error"] == "invalid_client"
    assert AccessToken.objects.count() == 1


def test_an_assertion_signed_by_another_key_is_refused(rp: Rp, session: httpx.Client) -> None:
    impostor = ec_key("rekenwereld-1")  # the same kid, another key
    assert_invalid_client(exchange(rp, session, assertion(rp, impostor)))


def test_an_assertion_signed_by_an_unknown_kid_is_refused(rp: Rp, session: httpx.Client) -> None:
    assert_invalid_client(exchange(rp, session, assertion(rp, ec_key("onbekend"))))


def test_an_assertion_naming_another_client_is_refused(
    launchable: Launchable, rp: Rp, key: ECKey, session: httpx.Client
) -> None:
    other = register(launchable, other=True, auth_method="private_key_jwt", jwks=rp.client.jwks)
    # signed with rp's key, which the other client also registered, but iss/sub disagree
    signed = assertion(rp, key, sub=other.client_id)
    assert_invalid_client(exchange(rp, session, signed))


def test_a_secret_is_no_way_in_for_a_private_key_jwt_client(rp: Rp, session: httpx.Client) -> None:
    code, verifier = rp.code(session)
    response = rp.exchange(code, verifier, secret="geraden-geheim")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert_nothing_issued()


def test_a_client_that_asked_for_rs256_gets_rs256_id_tokens(
    launchable: Launchable, session: httpx.Client
) -> None:
    rp = register(launchable, signing_alg="RS256")
    id_token = rp.tokens(session)["id_token"]
    published = httpx.get(f"{launchable.base}/oidc/jwks").json()
    verified = jwt.decode(id_token, KeySet.import_key_set(published), algorithms=["RS256"])
    assert verified.header["alg"] == "RS256"
    by_kid = {key["kid"]: key for key in published["keys"]}
    assert by_kid[verified.header["kid"]]["kty"] == "RSA"
    assert verified.claims["aud"] == rp.client_id
    assert verified.claims["iss"] == f"{launchable.base}/oidc"
    assert verified.claims["sub"] == decode_id_token(launchable.base, id_token)["sub"]
    with pytest.raises(UnsupportedAlgorithmError):  # not an ES256 token in disguise
        jwt.decode(id_token, KeySet.import_key_set(published), algorithms=["ES256"])


def test_es256_stays_the_default(launchable: Launchable, session: httpx.Client) -> None:
    rp = register(launchable)
    id_token = rp.tokens(session)["id_token"]
    published = KeySet.import_key_set(httpx.get(f"{launchable.base}/oidc/jwks").json())
    assert jwt.decode(id_token, published, algorithms=["ES256"]).header["alg"] == "ES256"
