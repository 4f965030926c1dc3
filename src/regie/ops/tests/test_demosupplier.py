"""A demo supplier, served on its own port, signs a pupil in through a live hub as a real relying
party (discovery, code flow with PKCE, private_key_jwt, ID-token validation, userinfo, logout)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from joserfc import jwt

from regie.agreements.models import Product, Supplier
from regie.agreements.tests.register import make_product
from regie.demosupplier import server
from regie.demosupplier.relyingparty import RelyingPartyError
from regie.demosupplier.suppliers import REKENWERELD, TAALRIJK, DemoSupplierSpec
from regie.gateway import keys
from regie.gateway.models import OAuthClient, SupplierPseudonym
from regie.gateway.tests.conftest import PASSWORD, Launchable
from regie.ops import supplier_registration as registration
from regie.roster.models import Student

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def hub_session(base: str, username: str) -> httpx.Client:
    """A browser-like session (one cookie jar for every port) of a pupil logged in at the hub."""
    session = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    form = session.get("/inloggen/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    answer = session.post(
        "/inloggen/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
    )
    assert answer.status_code == 302, answer.text[:300]
    return session


@pytest.fixture
def running() -> Iterator[list[server.Running]]:
    started: list[server.Running] = []
    yield started
    for item in started:
        item.stop()


def serve(
    started: list[server.Running],
    spec: DemoSupplierSpec,
    launchable: Launchable,
    supplier: Supplier,
    product: Product,
) -> server.Running:
    item = server.start(spec, f"{launchable.base}/oidc", port=0)
    started.append(item)
    registration.register_clients(item.app, supplier, {"": product})
    return item


def launch(session: httpx.Client, supplier: server.Running, issuer: str) -> httpx.Response:
    """Third-party-initiated login at the supplier, through the hub, back to the supplier."""
    answer = session.get(f"{supplier.url}/login", params={"iss": issuer})
    assert answer.status_code == 302, answer.text[:300]
    assert answer.headers["location"].startswith(f"{issuer}/authorize?")
    answer = session.get(answer.headers["location"])
    for _ in range(3):
        if answer.status_code not in {302, 303}:
            break
        answer = session.get(answer.headers["location"])
    return answer


def claims_shown(page: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-claim="([^"]+)">.*?<td>(.*?)</td></tr>', page)
    return {name: html.unescape(value) for name, value in rows}


def pseudonym_of(student: Student, supplier: Supplier) -> str:
    return SupplierPseudonym.objects.get(student=student, supplier=supplier).value


def test_it_signs_a_pupil_in_and_shows_the_pseudonym_and_claims_it_received(
    launchable: Launchable, running: list[server.Running]
) -> None:
    issuer = f"{launchable.base}/oidc"
    rekenwereld = serve(running, REKENWERELD, launchable, launchable.supplier, launchable.product)
    start = httpx.get(f"{rekenwereld.url}/")
    assert start.status_code == 200
    assert "Inloggen via je school (regie)" in start.text

    session = hub_session(launchable.base, launchable.pupil_user.username)
    page = launch(session, rekenwereld, issuer)
    assert page.status_code == 200, page.text[:500]
    assert page.url == httpx.URL(f"{rekenwereld.url}/ontvangen")
    assert "Wat Rekenwereld van regie ontving" in page.text
    shown = claims_shown(page.text)
    assert shown == {
        "sub": pseudonym_of(launchable.pupil, launchable.supplier),
        "groups": "Groep 5, Plusklas",  # switched on; the first name has no consent
    }
    client = OAuthClient.objects.get(name=registration.client_name(launchable.product))
    assert client.auth_method == "private_key_jwt"
    assert client.jwks == rekenwereld.app.parties[""].public_jwks()

    # Logout at the supplier ends the hub session too (RP-initiated logout, id_token_hint).
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = session.post(f"{rekenwereld.url}/logout", data={"csrf": token[1]})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{issuer}/logout?id_token_hint=")
    answer = session.get(answer.headers["location"])
    assert answer.status_code == 302, answer.text[:300]
    assert answer.headers["location"] == f"{rekenwereld.url}/"
    assert session.get("/leermiddelen/").status_code == 302  # to the login page: logged out


def test_two_suppliers_get_different_pseudonyms_for_the_same_pupil(
    launchable: Launchable, running: list[server.Running]
) -> None:
    issuer = f"{launchable.base}/oidc"
    rekenwereld = serve(running, REKENWERELD, launchable, launchable.supplier, launchable.product)
    taalrijk = serve(
        running, TAALRIJK, launchable, launchable.other_supplier, launchable.other_product
    )
    session = hub_session(launchable.base, launchable.pupil_user.username)
    at_rekenwereld = claims_shown(launch(session, rekenwereld, issuer).text)
    at_taalrijk = claims_shown(launch(session, taalrijk, issuer).text)
    assert at_rekenwereld["sub"] == pseudonym_of(launchable.pupil, launchable.supplier)
    assert at_taalrijk == {"sub": pseudonym_of(launchable.pupil, launchable.other_supplier)}
    assert at_rekenwereld["sub"] != at_taalrijk["sub"]


def test_it_explains_a_refused_launch_in_friendly_words(
    launchable: Launchable, running: list[server.Running]
) -> None:
    issuer = f"{launchable.base}/oidc"
    unagreed = make_product(launchable.supplier, "Rekenplus")  # no agreement names it
    rekenwereld = serve(running, REKENWERELD, launchable, launchable.supplier, unagreed)
    session = hub_session(launchable.base, launchable.pupil_user.username)
    refused = launch(session, rekenwereld, issuer)
    assert refused.status_code == 403  # the hub's own explanation, with a way back
    back = re.search(r'<a href="([^"]+)">Terug naar de leverancier', refused.text)
    assert back is not None
    answer = session.get(html.unescape(back[1]))
    assert answer.status_code == 403
    assert "De school heeft dit (nog) niet geregeld" in answer.text
    assert 'role="alert"' in answer.text
    assert not SupplierPseudonym.objects.filter(student=launchable.pupil).exists()


def test_it_refuses_a_login_started_by_another_issuer(
    launchable: Launchable, running: list[server.Running]
) -> None:
    rekenwereld = serve(running, REKENWERELD, launchable, launchable.supplier, launchable.product)
    answer = httpx.get(f"{rekenwereld.url}/login", params={"iss": "https://idp.evil.example"})
    assert answer.status_code == 400
    assert "onbekende uitgever" in answer.text


def test_it_rejects_id_tokens_for_another_audience_nonce_or_time(
    launchable: Launchable, running: list[server.Running]
) -> None:
    rekenwereld = serve(running, REKENWERELD, launchable, launchable.supplier, launchable.product)
    party = rekenwereld.app.parties[""]
    signing = keys.signing_key("ES256")
    now = int(time.time())
    good = {
        "iss": f"{launchable.base}/oidc",
        "aud": party.client_id,
        "sub": "https://nv.example/lp/1/abc",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
    }

    def signed(**changes: object) -> str:
        header = {"alg": "ES256", "kid": signing.kid}
        return jwt.encode(header, {**good, **changes}, signing.key, ["ES256"])

    assert party.validate_id_token(signed(), "n-1")["sub"] == good["sub"]
    for token, nonce in [
        (signed(), "another-nonce"),
        (signed(aud="regie-someone-else"), "n-1"),
        (signed(iss="https://idp.evil.example"), "n-1"),
        (signed(exp=now - 600), "n-1"),
        (signed()[:-4] + "AAAA", "n-1"),  # tampered signature
    ]:
        with pytest.raises(RelyingPartyError):
            party.validate_id_token(token, nonce)


def test_registering_again_reuses_the_client_with_the_new_key(
    launchable: Launchable, running: list[server.Running]
) -> None:
    first = serve(running, REKENWERELD, launchable, launchable.supplier, launchable.product)
    second = serve(running, REKENWERELD, launchable, launchable.supplier, launchable.product)
    client = OAuthClient.objects.get(name=registration.client_name(launchable.product))
    assert second.app.parties[""].client_id == first.app.parties[""].client_id
    assert client.jwks == second.app.parties[""].public_jwks()
    assert client.redirect_uris == [f"{second.url}/callback"]
    assert client.initiate_login_uri == f"{second.url}/login"
