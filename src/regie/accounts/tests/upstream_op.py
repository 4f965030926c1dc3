"""A school's identity provider for the tests: a small, real OpenID Connect provider over HTTP.

The school's IdP is outside the system under test, so this is a test double at the edge — but a
real one: its own waitress server on its own port, OpenID Connect Discovery, an authorization
endpoint that approves one configured person at once (no login screen), a token endpoint that
authenticates the client (``client_secret_basic`` or ``client_secret_post``), checks the code
(once), the redirect URI and the PKCE verifier (RFC 7636 §4.6), and returns an ID token signed
with its own RSA key (joserfc), whose public half is at its JWKS endpoint.

A test can make it misbehave the way a broken or hostile provider would (:class:`Misbehaviour`):
answer with an error, sign with another key, tamper with the token, name another audience, echo
another nonce. It also remembers what the hub sent, so tests can see PKCE and client
authentication happen.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey

from regie.lib.serving import run_until_stopped, stop_serving

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass
class Misbehaviour:
    """What the provider does wrong (nothing, by default)."""

    error: str = ""  # answer the authorization request with this error code
    foreign_key: bool = False  # sign the ID token with a key that is not in the JWKS
    tamper: bool = False  # change a claim after signing (the signature no longer matches)
    audience: str = ""  # put this in ``aud`` instead of the client's id
    nonce: str = ""  # echo this instead of the hub's nonce
    expired: bool = False  # an ID token that expired an hour ago
    issuer: str = ""  # put this in ``iss`` instead of the provider's issuer


@dataclass
class Received:
    """What the hub sent the provider."""

    authorization_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    client_authentication: list[str] = field(default_factory=list)


@dataclass
class Code:
    client_id: str
    redirect_uri: str
    nonce: str
    code_challenge: str


class IdentityProviderApp:
    """The WSGI application of the provider."""

    def __init__(self, issuer: str, auth_method: str = "client_secret_basic") -> None:
        self.issuer = issuer
        self.auth_method = auth_method
        self.key = RSAKey.generate_key(2048, parameters={"kid": "school-1", "use": "sig"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "school-1", "use": "sig"})
        self.clients: dict[str, tuple[str, str]] = {}  # client_id -> (secret, redirect URI)
        self.person: dict[str, Any] = {}
        self.misbehaviour = Misbehaviour()
        self.received = Received()
        self._codes: dict[str, Code] = {}
        self._lock = threading.Lock()

    def register(self, redirect_uri: str) -> tuple[str, str]:
        """A client of the hub: (client_id, client_secret)."""
        client_id, secret = f"regie-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
        self.clients[client_id] = (secret, redirect_uri)
        return client_id, secret

    # --- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/.well-known/openid-configuration":
            return self._json(start_response, 200, self.metadata())
        if path == "/jwks":
            return self._json(start_response, 200, {"keys": [self.key.as_dict(private=False)]})
        if path == "/authorize" and method == "GET":
            return self._authorize(environ, start_response)
        if path == "/token" and method == "POST":
            return self._token(environ, start_response)
        return self._json(start_response, 404, {"error": "not_found"})

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [self.auth_method],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
        }

    @staticmethod
    def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
        payload = json.dumps(body).encode("utf-8")
        reasons = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized"}
        start_response(
            f"{status} {reasons.get(status, 'Not Found')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    @staticmethod
    def _redirect(start_response: StartResponse, location: str) -> list[bytes]:
        start_response("302 Found", [("Location", location), ("Content-Length", "0")])
        return [b""]

    def _authorize(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        query = {name: values[0] for name, values in parse_qs(environ["QUERY_STRING"]).items()}
        self.received.authorization_requests.append(query)
        client = self.clients.get(query.get("client_id", ""))
        if client is None or query.get("redirect_uri") != client[1]:
            return self._json(start_response, 400, {"error": "invalid_request"})
        state = query.get("state", "")
        if self.misbehaviour.error:
            answer = {"error": self.misbehaviour.error, "state": state}
            return self._redirect(start_response, f"{client[1]}?{urlencode(answer)}")
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            answer = {"error": "invalid_request", "state": state}
            return self._redirect(start_response, f"{client[1]}?{urlencode(answer)}")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = Code(
                query["client_id"], client[1], query.get("nonce", ""), query["code_challenge"]
            )
        return self._redirect(
            start_response, f"{client[1]}?{urlencode({'code': code, 'state': state})}"
        )

    def _client_id(self, environ: dict[str, Any], form: dict[str, str]) -> str | None:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            self.received.client_authentication.append("client_secret_basic")
        elif "client_secret" in form:
            client_id, secret = form.get("client_id", ""), form["client_secret"]
            self.received.client_authentication.append("client_secret_post")
        else:
            return None
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client[0], secret):
            return None
        return client_id

    def _token(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length).decode("utf-8")
        form = {name: values[0] for name, values in parse_qs(raw).items()}
        self.received.token_requests.append(form)
        client_id = self._client_id(environ, form)
        if client_id is None:
            return self._json(start_response, 401, {"error": "invalid_client"})
        with self._lock:
            code = self._codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        if (
            form.get("grant_type") != "authorization_code"
            or code is None
            or code.client_id != client_id
            or form.get("redirect_uri") != code.redirect_uri
            or not verifier
            or create_s256_code_challenge(verifier) != code.code_challenge
        ):
            return self._json(start_response, 400, {"error": "invalid_grant"})
        access_token = secrets.token_urlsafe(24)
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self._id_token(client_id, code.nonce),
        }
        return self._json(start_response, 200, body)

    def _id_token(self, client_id: str, nonce: str) -> str:
        wrong = self.misbehaviour
        now = int(time.time()) - (3600 if wrong.expired else 0)
        claims = {
            "iss": wrong.issuer or self.issuer,
            "aud": wrong.audience or client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": wrong.nonce or nonce,
            **self.person,
        }
        key = self.other_key if wrong.foreign_key else self.key
        token = jwt.encode({"alg": "RS256", "kid": "school-1"}, claims, key)
        if wrong.tamper:
            header, _, signature = token.split(".")
            claims["sub"] = "iemand-anders"
            payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            token = f"{header}.{payload}.{signature}"
        return token


@dataclass
class RunningProvider:
    app: IdentityProviderApp
    url: str


@contextmanager
def serve(auth_method: str = "client_secret_basic") -> Iterator[RunningProvider]:
    """The provider on a free port of 127.0.0.1, in a thread, until the block ends."""
    from waitress.server import create_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    app = IdentityProviderApp(url, auth_method)
    server: Any = create_server(app, host="127.0.0.1", port=port, threads=2, ident="school-idp")
    stopped = threading.Event()
    thread = threading.Thread(
        target=run_until_stopped,
        args=(server, stopped),
        kwargs={"grace_seconds": 2.0},
        name="school-idp",
        daemon=True,
    )
    thread.start()
    try:
        yield RunningProvider(app, url)
    finally:
        stop_serving(server, stopped)
        thread.join(timeout=10)
