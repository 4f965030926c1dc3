"""An independent OpenID Connect client library (pyoidc, ``oic`` — the server uses Authlib)
runs discovery, the code flow with PKCE, ID-token validation and userinfo against a live hub."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from oic import rndstr
from oic.oic import Client
from oic.oic.message import AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

from regie.audit.models import AuditEvent
from regie.gateway import services
from regie.gateway.models import SupplierPseudonym

from .conftest import PASSWORD, Launchable

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIRECT = "https://app.rekenwereld.example/callback"


def logged_in(base: str, username: str) -> httpx.Client:
    """A browser-like session of a pupil logged in at the hub."""
    session = httpx.Client(base_url=base, follow_redirects=False)
    form = session.get("/inloggen/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    answer = session.post(
        "/inloggen/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
    )
    assert answer.status_code == 302, answer.text[:300]
    return session


def relying_party(issuer: str, client_id: str, secret: str) -> Client:
    client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
    client.provider_config(issuer)
    client.store_registration_info(
        RegistrationResponse(
            client_id=client_id,
            client_secret=secret,
            redirect_uris=[REDIRECT],
            token_endpoint_auth_method="client_secret_basic",
            id_token_signed_response_alg="ES256",
        )
    )
    return client


def launch(client: Client, session: httpx.Client) -> tuple[str, dict[str, str]]:
    """The authorization request, as the RP builds it; returns (state, the redirect's query)."""
    state, nonce = rndstr(), rndstr()
    challenge, verifier = client.add_code_challenge()
    request = client.construct_AuthorizationRequest(
        request_args={
            "response_type": "code",
            "scope": ["openid"],
            "state": state,
            "nonce": nonce,
            "redirect_uri": REDIRECT,
            **challenge,
        }
    )
    answer = session.get(request.request(client.authorization_endpoint))
    assert answer.status_code == 302, answer.text[:500]
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)
    client.verifier = verifier  # type: ignore[attr-defined]
    return state, {"query": urlsplit(location).query}


def test_an_independent_client_signs_a_pupil_in_with_pkce(launchable: Launchable) -> None:
    issuer = f"{launchable.base}/oidc"
    client_record, secret = services.register_client(
        launchable.supplier,
        name="Rekenwereld",
        product=launchable.product,
        redirect_uris=[REDIRECT],
        auth_method="client_secret_basic",
    )
    assert secret is not None
    rp = relying_party(issuer, client_record.client_id, secret)
    assert rp.provider_info["issuer"] == issuer
    assert rp.provider_info["code_challenge_methods_supported"] == ["S256"]
    assert "implicit" not in str(rp.provider_info["grant_types_supported"])

    session = logged_in(launchable.base, launchable.pupil_user.username)
    state, redirected = launch(rp, session)
    authorization = rp.parse_response(
        AuthorizationResponse, info=redirected["query"], sformat="urlencoded"
    )
    assert authorization["state"] == state

    tokens = rp.do_access_token_request(
        state=state,
        request_args={
            "code": authorization["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": rp.verifier,  # type: ignore[attr-defined]
        },
        authn_method="client_secret_basic",
    )
    id_token = tokens["id_token"]  # verified by oic: ES256 signature (JWKS), iss, aud, nonce
    assert id_token["iss"] == issuer
    assert id_token["aud"] == [client_record.client_id]
    pseudonym = SupplierPseudonym.objects.get(
        student=launchable.pupil, supplier=launchable.supplier
    ).value
    assert id_token["sub"] == pseudonym
    assert "/lp/" in pseudonym
    assert id_token["groups"] == ["Groep 5", "Plusklas"]  # switched on; first name: no consent
    assert "given_name" not in id_token.to_dict()

    info = rp.do_user_info_request(state=state, method="GET")  # token in the header
    assert info["sub"] == pseudonym
    assert info.to_dict().keys() == {"sub", "groups"}
    posted = rp.do_user_info_request(state=state)  # oic's default: POST, token in the body
    assert posted.to_dict() == info.to_dict()
    releases = AuditEvent.objects.filter(event_type="gateway.release")
    assert [event.details["channel"] for event in releases.order_by("pk")] == [
        "id_token",
        "userinfo",
        "userinfo",
    ]
    assert pseudonym not in str([event.details for event in AuditEvent.objects.all()])
