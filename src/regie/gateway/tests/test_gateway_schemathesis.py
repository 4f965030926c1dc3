"""schemathesis, generating requests from the committed OpenAPI file of the gateway's OpenID
provider (``docs/openapi/gateway.json``), against a live hub: no request may cause a server error,
and every answer must match the documented status codes and schemas.

Generated requests alone would only ever meet the "who are you?" branches, so part of the cases
get real credentials drawn in: the roster client's and a relying party's client secret (Basic or
in the form body), a fresh authorization code with its PKCE verifier, a valid access token, and
the session cookie of a logged-in pupil for the browser endpoints.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import schemathesis
from django.conf import settings
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from regie.audit.models import AuditEvent
from regie.gateway import openapi as gateway_openapi

from .conftest import Launchable
from .test_oidc_bad_input import Rp, register
from .test_oidc_client import logged_in
from .test_oneroster_rest import Roster, build_roster

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

SCHEMA = schemathesis.openapi.from_path(
    Path(settings.BASE_DIR) / "docs" / "openapi" / "gateway.json"
)
RESULTS = list(SCHEMA.get_all_operations())
OPERATIONS = [result.ok() for result in RESULTS if isinstance(result, Ok)]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# What is drawn into a generated case, per operation (see ``prepare``).
VARIANTS = {
    "token": ["generated", "basic", "post", "client_credentials", "code"],
    "getUserInfo": ["generated", "bearer"],
    "postUserInfo": ["generated", "bearer", "form"],
    "introspect": ["generated", "basic", "valid"],
    "authorize": ["generated", "session", "valid"],
    "getLogout": ["generated", "session"],
    "postLogout": ["generated", "session"],
}


@dataclass
class Hub:
    roster: Roster
    rp: Rp
    session: httpx.Client
    access_token: str

    @property
    def base(self) -> str:
        return self.roster.hub.base

    def cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.session.cookies.items())


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")


@pytest.fixture
def hub(launchable: Launchable, rng: random.Random) -> Hub:
    roster = build_roster(launchable, rng)
    rp = register(launchable, scopes=("openid",))
    session = logged_in(launchable.base, "leerling-a")
    tokens = rp.tokens(session)
    return Hub(roster, rp, session, tokens["access_token"])


def prepare(case: Any, variant: str, hub: Hub) -> None:
    """Draw real credentials into a generated case."""
    operation = case.operation.definition.raw.get("operationId")
    body = dict(case.body) if isinstance(case.body, dict) else {}
    if operation == "token":
        if variant == "basic":
            case.headers["Authorization"] = basic(hub.roster.client.client_id, hub.roster.secret)
        elif variant == "post":
            case.headers.pop("Authorization", None)
            case.body = {**body, "client_id": hub.rp.client_id, "client_secret": hub.rp.secret}
        elif variant == "client_credentials":
            case.headers["Authorization"] = basic(hub.roster.client.client_id, hub.roster.secret)
            case.body = {"grant_type": "client_credentials"}
        elif variant == "code":
            code, verifier = hub.rp.code(hub.session)
            case.headers["Authorization"] = basic(hub.rp.client_id, hub.rp.secret or "")
            case.body = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": hub.rp.redirect_uri,
                "code_verifier": body.get("code_verifier", verifier),
            }
    elif operation in {"getUserInfo", "postUserInfo"}:
        if variant == "bearer":
            case.headers["Authorization"] = f"Bearer {hub.access_token}"
        elif variant == "form":
            case.headers.pop("Authorization", None)
            case.body = {"access_token": hub.access_token}
    elif operation == "introspect":
        if variant in {"basic", "valid"}:
            case.headers["Authorization"] = basic(hub.rp.client_id, hub.rp.secret or "")
        if variant == "valid":
            case.body = {**body, "token": hub.access_token}
    elif operation in {"authorize", "getLogout", "postLogout"}:
        if variant in {"session", "valid"}:
            case.headers["Cookie"] = hub.cookie()
        if variant == "valid":
            case.query = {**(case.query or {}), **hub.rp.authorization_params()}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda item: f"{item.method} {item.path}")
def test_no_generated_request_causes_a_server_error(hub: Hub, operation: Any) -> None:
    strategy = operation.as_strategy()
    variants = VARIANTS.get(operation.definition.raw.get("operationId"), ["generated"])

    @hypothesis_settings(
        max_examples=25,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, variant=st.sampled_from(variants))
    def run(case: Any, variant: str) -> None:
        prepare(case, variant, hub)
        case.call_and_validate(base_url=hub.base, checks=CHECKS)

    run()


def test_the_committed_schema_is_the_generated_one_and_valid_for_every_operation() -> None:
    assert len(OPERATIONS) == len(RESULTS) == 9

    committed = json.loads(
        (Path(settings.BASE_DIR) / "docs" / "openapi" / "gateway.json").read_text("utf-8")
    )
    assert committed == json.loads(json.dumps(gateway_openapi.document()))


def test_the_credentials_drawn_in_reach_the_success_branches(hub: Hub) -> None:
    """The variants above are not decoration: with them the token, userinfo and introspection
    endpoints answer 200, and the authorization endpoint sends a pupil on with a code."""
    token = next(item for item in OPERATIONS if item.definition.raw["operationId"] == "token")
    seen: dict[str, int] = {}
    for variant in ("client_credentials", "code"):
        case = token.Case(
            body={"grant_type": "client_credentials"},
            media_type="application/x-www-form-urlencoded",
        )
        prepare(case, variant, hub)
        seen[variant] = case.call(base_url=hub.base).status_code
    assert seen == {"client_credentials": 200, "code": 200}
    userinfo = next(
        item for item in OPERATIONS if item.definition.raw["operationId"] == "getUserInfo"
    )
    case = userinfo.Case()
    prepare(case, "bearer", hub)
    assert case.call(base_url=hub.base).status_code == 200
    introspect = next(
        item for item in OPERATIONS if item.definition.raw["operationId"] == "introspect"
    )
    case = introspect.Case(body={}, media_type="application/x-www-form-urlencoded")
    prepare(case, "valid", hub)
    answer = case.call(base_url=hub.base)
    assert answer.status_code == 200
    assert answer.json()["active"] is True
    authorize = next(
        item for item in OPERATIONS if item.definition.raw["operationId"] == "authorize"
    )
    case = authorize.Case(query={})
    prepare(case, "valid", hub)
    answer = case.call(base_url=hub.base)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"][0])
    assert f"{location.scheme}://{location.netloc}{location.path}" == hub.rp.redirect_uri
    assert "code" in parse_qs(location.query)


def test_authorization_requests_with_text_authlib_cannot_describe_are_invalid(hub: Hub) -> None:
    """Found by schemathesis: Authlib repeats ``response_type`` and ``redirect_uri`` in an error's
    description and raises ValueError (a 500) when they hold characters RFC 6749 §5.2 does not
    allow there. Now such a request is ``invalid_request``, with the error page and audited."""
    before = AuditEvent.objects.filter(event_type="gateway.request.refused").count()
    for override in (
        {"response_type": "cödé"},
        {"response_type": 'co"de'},
        {"redirect_uri": "https://app.rekenwereld.example/callbäck"},
    ):
        answer = hub.rp.authorize(hub.session, **override)
        assert answer.status_code == 400, (override, answer.text[:200])
        assert "invalid_request" in answer.text
        assert "cödé" not in answer.text
    refused = AuditEvent.objects.filter(event_type="gateway.request.refused")
    assert refused.count() == before + 3
