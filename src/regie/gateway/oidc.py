"""The hub's OpenID Connect provider (OIDC Core 1.0, OAuth 2.0 RFC 6749, PKCE RFC 7636, client
authentication with JWTs RFC 7523, RP-initiated logout), built on Authlib's server.

Authlib does the protocol; this module adapts it to regie:

- the authorization-code flow only (no implicit or hybrid flow), PKCE with S256 **required** for
  every client (:class:`RequiredCodeChallenge`), codes and tokens stored as hashes, a code used
  twice refused and its tokens revoked;
- client authentication by ``private_key_jwt`` (the supplier's JWKS, each ``jti`` once) or a
  secret stored hashed;
- ID tokens signed with the provider's current key for the client's algorithm (ES256 by
  default), ``sub`` the supplier pseudonym, and claims exactly what the release policy allows
  (:mod:`.claims`), worked out again at every token and userinfo request;
- ``max_age`` and ``prompt=login`` (OIDC Core §3.1.2.1) honoured (:func:`authentication`), and
  ``auth_time`` only when ``max_age`` asks for it, so that no value from the hub's session goes
  to two suppliers (docs/architecture.md, "What a supplier receives"): the time of a login made
  for this very request, or the session's login coarsened to the hour on a grid of the
  supplier's own;
- a ``sid`` for clients with a back-channel logout URI: random per (hub login session, client),
  so that the hub can tell that client when the session ends (:mod:`.backchannel`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.django_oauth2 import AuthorizationServer, ResourceProtector
from authlib.integrations.django_oauth2.resource_protector import BearerTokenValidator
from authlib.oauth2.rfc6749 import (
    InsecureTransportError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core.errors import LoginRequiredError
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.grants.util import create_half_hash
from authlib.oidc.rpinitiated import EndSessionEndpoint
from django.conf import settings
from django.contrib.auth import logout
from django.db import connection
from django.db.models import Model
from django.http import HttpRequest
from joserfc import jwt
from joserfc.jwk import KeySet

from regie.accounts.services import PUPIL_ACCOUNT_PATH, read_with_account
from regie.audit.services import SYSTEM, client_actor, record
from regie.lib.prepared import Insert, Prepared

from . import backchannel, claims, events, identifiers, keys
from .models import AccessToken, AuthorizationCode, OAuthClient, SeenAssertion, digest
from .scopes import SCOPES

TOKEN_PATH = "/token"  # noqa: S105 (a URL path, not a secret)
NONCE_MAX_LENGTH = AuthorizationCode._meta.get_field("nonce").max_length or 255

# The questions every launch asks, compiled once per process (regie.lib.prepared): building and
# compiling them cost the ORM far more than the database takes to answer.
_CLIENT = Prepared(
    lambda client_id: (
        OAuthClient.objects.filter(client_id=client_id, is_active=True)
        .select_related("supplier", "product")
        .order_by("pk")[:1]
    ),
    client_id=str,
)
_NONCE_USED = Prepared(
    lambda client, nonce: (
        AuthorizationCode.objects.filter(client_id=client, nonce=nonce)
        .order_by()
        .values_list("pk")[:1]
    ),
    client=int,
    nonce=str,
)
_CODE = Prepared(
    lambda code_hash, client: (
        AuthorizationCode.objects.select_related("user", f"user__{PUPIL_ACCOUNT_PATH}")
        .filter(code_hash=code_hash, client_id=client)
        .order_by("pk")[:1]
    ),
    code_hash=str,
    client=int,
)
_ACCESS_TOKEN = Prepared(
    lambda token_hash: (
        AccessToken.objects.select_related(
            "client__supplier", "client__product", "user", f"user__{PUPIL_ACCOUNT_PATH}"
        )
        .filter(token_hash=token_hash)
        .order_by("pk")[:1]
    ),
    token_hash=str,
)
_INSERT_CODE = Insert(AuthorizationCode)
_INSERT_TOKEN = Insert(AccessToken)


def _update(model: type[Model], assignments: str, condition: str, params: list[Any]) -> int:
    """``UPDATE`` rows of ``model`` (column names as written, no ORM): the rows changed."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE {condition}", params)  # noqa: S608 (names from the model, values as parameters)
        return int(cursor.rowcount)


# Authlib validates an authorization request twice (for the consent decision, then again when it
# answers): within one request, the client and the nonce check are looked up once.
_request_cache: ContextVar[dict[tuple[str, str], Any] | None] = ContextVar(
    "regie_oidc_request_cache", default=None
)


@contextmanager
def request_scope() -> Iterator[None]:
    """Remember client and nonce lookups until the block ends (one HTTP request)."""
    token = _request_cache.set({})
    try:
        yield
    finally:
        _request_cache.reset(token)


# --- the login behind a launch: max_age, prompt=login, auth_time ---------------------------------

LOGIN_AT = "gateway.login_at"  # session: when its user logged in (epoch seconds)
LOGIN_ASKED_AT = "gateway.login_asked_at"  # session: when a launch asked for a fresh login
AUTH_TIME_GRID = 3600  # seconds: a reused login's auth_time is coarsened to this


def remember_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in``: note the moment in the session (``auth_time`` is made from it)."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT] = int(time.time())


@dataclass(frozen=True)
class Authentication:
    """What a launch needs of the login: a fresh one first, or the ``auth_time`` to issue."""

    needs_login: bool
    auth_time: int | None = None


def coarse_auth_time(login_at: int, client: OAuthClient) -> int:
    """``login_at`` rounded down to the hour on a grid of the supplier's own (a keyed offset):
    never later than the login, and not the value another supplier gets."""
    offset = int(identifiers.digest(client.supplier, "oidc.auth_time", b"grid"), 16)
    return login_at - (login_at - offset % AUTH_TIME_GRID) % AUTH_TIME_GRID


def _max_age(grant: Any) -> int | None:
    text = grant.request.payload.data.get("max_age")
    if text is None or text == "":
        return None
    if not text.isdigit() or len(text) > 9:
        raise InvalidRequestError(
            "'max_age' is a whole number of seconds.",
            state=grant.request.payload.state,
            redirect_uri=grant.redirect_uri,
        )
    return int(text)


def _fresh_login(grant: Any) -> Authentication:
    """A fresh login is needed; with ``prompt=none`` that is ``login_required`` (§3.1.2.6)."""
    if "none" in (grant.request.payload.data.get("prompt") or "").split():
        raise LoginRequiredError(state=grant.request.payload.state, redirect_uri=grant.redirect_uri)
    return Authentication(True)


def authentication(request: HttpRequest, grant: Any) -> Authentication:
    """OIDC Core §3.1.2.1 for a validated authorization request of a logged-in user.

    ``prompt=login``, or a ``max_age`` the session's login is too old for, needs a fresh login
    first (unless this request asked for one and got it). ``auth_time`` only with ``max_age``:
    the login made for this request (the supplier's own event, and only its), or else the
    session's login coarsened (:func:`coarse_auth_time`) but not earlier than ``max_age`` allows
    (then it is this request's moment less ``max_age``: the supplier's own knowledge) — never
    later than the login itself."""
    max_age = _max_age(grant)
    login_at = request.session.get(LOGIN_AT)
    asked_at = request.session.get(LOGIN_ASKED_AT)
    if isinstance(login_at, int) and isinstance(asked_at, int) and login_at >= asked_at:
        return Authentication(False, login_at if max_age is not None else None)
    if "login" in (grant.request.payload.data.get("prompt") or "").split():
        return Authentication(True)
    if max_age is None:
        return Authentication(False)
    # The supplier checks auth_time + max_age against its own clock when it gets the ID token,
    # up to a code's lifetime later: the login must be at least that recent.
    oldest = int(time.time()) - max_age + settings.OIDC_CODE_TTL_SECONDS
    if not isinstance(login_at, int) or login_at < oldest:
        return _fresh_login(grant)
    return Authentication(False, max(coarse_auth_time(login_at, grant.client), oldest))


def ask_for_login(request: HttpRequest) -> None:
    """End the session and note that the next login is the fresh one a launch asked for."""
    logout(request)
    request.session[LOGIN_ASKED_AT] = int(time.time())


def login_used(request: HttpRequest) -> None:
    """A fresh login served its launch: the next launch that asks for one gets another."""
    request.session.pop(LOGIN_ASKED_AT, None)


_auth_time: ContextVar[int | None] = ContextVar("regie_oidc_auth_time", default=None)
_hub_session: ContextVar[str] = ContextVar("regie_oidc_hub_session", default="")


@contextmanager
def issuing(authenticated: Authentication, *, hub_session: str = "") -> Iterator[None]:
    """Codes issued in this block carry ``authenticated.auth_time`` (None: no ``auth_time``)
    and the hub login session they were issued in (:func:`.backchannel.hub_session`)."""
    token = _auth_time.set(authenticated.auth_time)
    session_token = _hub_session.set(hub_session)
    try:
        yield
    finally:
        _hub_session.reset(session_token)
        _auth_time.reset(token)


def _cached(kind: str, key: str, lookup: Any) -> Any:
    found = _request_cache.get()
    if found is None:
        return lookup()
    if (kind, key) not in found:
        found[(kind, key)] = lookup()
    return found[(kind, key)]


def new_secret() -> str:
    """A code or an access token: 48 URL-safe characters, 288 random bits (``secrets``; Authlib's
    own draws each character separately, which costs a launch more than the rest of its
    randomness)."""
    return secrets.token_urlsafe(36)


def storable(text: str) -> bool:
    """Whether a database can hold or look up ``text``: PostgreSQL refuses NUL in text."""
    return "\x00" not in text


def token_endpoint() -> str:
    return settings.OIDC_ISSUER.rstrip("/") + TOKEN_PATH


class RequiredCodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only (RFC 7636; OAuth 2.0 Security BCP, RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post"]

    def generate_authorization_code(self) -> str:
        return new_secret()

    def validate_authorization_request(self) -> str:
        """Authlib's checks, then: what is granted of the scope must include ``openid``."""
        redirect_uri: str = super().validate_authorization_request()
        if "openid" not in scope_to_list(self.request.scope or ""):
            raise InvalidScopeError(
                "This provider serves OpenID Connect: the granted scope must include 'openid'.",
                redirect_uri=redirect_uri,
            )
        return redirect_uri

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        # RFC 6749 §3.3: the code carries the scope as *granted* (the client's allowed scopes,
        # request.scope), never as asked (request.payload.scope); what was ignored is audited.
        asked = scope_to_list(request.payload.scope or "")
        ignored = set(asked) - set(scope_to_list(request.scope or ""))
        if ignored:  # only our own scope names go into the audit log, not the client's text
            record(
                events.REQUEST_REFUSED,
                client_actor(request.client),
                f"client:{request.client.pk}",
                {
                    "endpoint": _endpoint_path(request),
                    "error": "invalid_scope",
                    "scopes_ignored": sorted(ignored & set(SCOPES)),
                    "unknown_scopes_ignored": len(ignored - set(SCOPES)),
                },
            )
        _INSERT_CODE(
            code_hash=digest(code),
            client=request.client,
            user=request.user,
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope or "",
            nonce=data.get("nonce") or "",
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method") or "S256",
            auth_time=_auth_time.get(),
            hub_session=_hub_session.get(),
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        """The client's unexpired code, spent by this call. Spending is one conditional
        ``UPDATE`` (atomic in both databases): a second exchange, at once or later, is a replay
        that marks the code and revokes its tokens; a token whose exchange was still under way
        then is refused in :meth:`Server.save_token`."""
        found = _CODE.first(code_hash=digest(code), client=client.pk)
        if found is None or found.is_expired():
            return None
        now = time.time()
        spent = _update(
            AuthorizationCode, "used_at = %s", "id = %s AND used_at IS NULL", [now, found.pk]
        )
        if not spent:
            AuthorizationCode.objects.filter(pk=found.pk).update(replayed_at=now)
            revoked = AccessToken.objects.filter(code=found).update(revoked=True)
            record(
                events.CODE_REPLAYED,
                client_actor(client),
                f"client:{client.pk}",
                {"tokens_revoked": revoked},
            )
            raise InvalidGrantError("The authorization code was used already.")
        found.used_at = now
        read_with_account(found.user)
        return found

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        pass  # kept (hashed, marked used) until it expires, to recognise a replay

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Any:
        return authorization_code.user


class IdToken(OpenIDCode):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(require_nonce=False)

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        if not storable(nonce):
            raise InvalidRequestError("'nonce' holds a character that cannot be stored (NUL).")
        if len(nonce) > NONCE_MAX_LENGTH:
            raise InvalidRequestError(f"'nonce' may be at most {NONCE_MAX_LENGTH} characters.")
        return bool(
            _cached(
                "nonce",
                f"{request.client.pk}:{nonce}",
                lambda: _NONCE_USED.rows(client=request.client.pk, nonce=nonce),
            )
        )

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        client: OAuthClient = request.client
        signing = keys.signing_key(client.signing_alg)
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": settings.OIDC_ISSUER,
            "aud": client.client_id,
            "iat": now,
            "exp": now + settings.OIDC_TOKEN_TTL_SECONDS,
        }
        payload.update(self.get_authorization_code_claims(request.authorization_code))
        at_hash = create_half_hash(token["access_token"], client.signing_alg)
        if at_hash is not None:
            payload["at_hash"] = at_hash.decode("ascii")
        try:
            payload.update(claims.for_client(client, request.user, channel="id_token"))
        except claims.ReleaseRefused:  # e.g. the licence ended since the launch
            AccessToken.objects.filter(token_hash=digest(token["access_token"])).update(
                revoked=True
            )
            raise InvalidGrantError("The release policy no longer allows this launch.") from None
        code: AuthorizationCode = request.authorization_code
        sid = backchannel.issued(client, request.user, code.hub_session, str(payload["sub"]))
        if sid is not None:
            payload["sid"] = sid
        header = {"alg": client.signing_alg, "kid": signing.kid, "typ": "JWT"}
        return jwt.encode(header, payload, signing.key, [client.signing_alg])


class PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self) -> list[str]:
        return [token_endpoint(), settings.OIDC_ISSUER]

    def validate_jti(self, claims_: Any, jti: str) -> bool:
        if not (storable(str(jti)) and storable(str(claims_["sub"]))):
            return False
        client = OAuthClient.objects.filter(client_id=claims_["sub"]).first()
        if client is None:
            return False
        _, created = SeenAssertion.objects.get_or_create(client=client, jti=jti)
        return created

    def resolve_client_public_key(self, client: OAuthClient) -> KeySet:
        jwks: Any = client.jwks or {"keys": []}
        return KeySet.import_key_set(jwks)


class EndSession(EndSessionEndpoint):  # type: ignore[misc]
    """RP-initiated logout: the ID-token hint must be one of ours; the view logs out."""

    def get_server_jwks(self) -> dict[str, Any]:
        return keys.public_jwks()

    def get_algorithms(self) -> list[str]:
        return list(keys.ALGORITHMS)

    def end_session(self, end_session_request: Any) -> None:
        pass


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662 token introspection, for the supplier's own tokens only; ``sub`` is pairwise."""

    CLIENT_AUTH_METHODS = CodeGrant.TOKEN_ENDPOINT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> AccessToken | None:
        return access_token(token_string)

    def check_permission(self, token: AccessToken, client: OAuthClient, request: Any) -> bool:
        return bool(token.client.supplier_id == client.supplier_id)

    def introspect_token(self, token: AccessToken) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "active": True,
            "client_id": token.client.client_id,
            "scope": token.scope,
            "token_type": "Bearer",
            "iss": settings.OIDC_ISSUER,
            "iat": int(token.issued_at),
            "exp": int(token.issued_at + token.expires_in),
        }
        if token.user_id is not None:
            try:
                payload["sub"] = claims.subject_for(
                    token.client, token.user, channel="introspection"
                )
            except claims.ReleaseRefused:
                return {"active": False}
        return payload


class Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(OAuthClient, AccessToken)

    def query_client(self, client_id: str) -> OAuthClient | None:
        if not storable(client_id):  # no client has it, and PostgreSQL would refuse to look
            return None
        found: OAuthClient | None = _cached(
            "client", client_id, lambda: _CLIENT.first(client_id=client_id)
        )
        return found

    def create_bearer_token_generator(self) -> BearerTokenGenerator:
        def expires_in(client: Any, grant_type: str) -> int:
            return int(settings.OIDC_TOKEN_TTL_SECONDS)

        return BearerTokenGenerator(
            access_token_generator=lambda *args, **kwargs: new_secret(),
            refresh_token_generator=None,
            expires_generator=expires_in,
        )

    def save_token(self, token: dict[str, Any], request: Any) -> AccessToken:
        code: AuthorizationCode | None = getattr(request, "authorization_code", None)
        saved = _INSERT_TOKEN(
            token_hash=digest(token["access_token"]),
            client=request.client,
            user=request.user or None,
            code=code,
            scope=token.get("scope", ""),
            expires_in=int(token["expires_in"]),
        )
        # A replay refused after this exchange spent the code, but before the token was saved,
        # could not revoke it: look now (RFC 6749 §4.1.2: deny, and revoke what the code gave).
        code_table = connection.ops.quote_name(AuthorizationCode._meta.db_table)
        if code is not None and _update(
            AccessToken,
            "revoked = %s",
            f"id = %s AND EXISTS (SELECT 1 FROM {code_table} WHERE id = %s "  # noqa: S608 (a table name)
            "AND replayed_at IS NOT NULL)",
            [True, saved.pk, code.pk],
        ):
            raise InvalidGrantError("The authorization code was used already.")
        return saved

    # RFC 6749 §3.1, §3.2: the endpoints need TLS. Authlib checks it while it reads the request,
    # before its own error handling: a plain-http request (a proxy whose HTTPS header is not
    # configured, REGIE_PROXY_SSL_HEADER) gets the protocol's error answer, not a server error.
    def create_token_response(self, request: Any = None) -> Any:
        try:
            return super().create_token_response(request)
        except InsecureTransportError as error:
            return self.handle_error_response(request, error)

    def create_endpoint_response(self, name: str, request: Any = None) -> Any:
        try:
            return super().create_endpoint_response(name, request)
        except InsecureTransportError as error:
            return self.handle_error_response(request, error)

    def handle_error_response(self, request: Any, error: Any) -> Any:
        record(
            events.REQUEST_REFUSED,
            SYSTEM,
            "",
            {
                "endpoint": _endpoint_path(request),
                "error": error.error,
            },
        )
        return super().handle_error_response(request, error)


def _endpoint_path(request: Any) -> str:
    """The path of the endpoint, for audit details (never the query: it may carry a token)."""
    path = getattr(request, "path", None) or str(getattr(request, "uri", "") or "")
    return urlsplit(str(path)).path[-80:]


def access_token(token_string: str) -> AccessToken | None:
    """The stored token for a bearer value, with its client and its user (a pupil's account too)."""
    found = _ACCESS_TOKEN.first(token_hash=digest(token_string))
    if found is not None:
        read_with_account(found.user)
    return found


class HashedBearerTokens(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> AccessToken | None:
        return access_token(token_string)


@cache
def server() -> Server:
    instance = Server()
    instance.register_grant(CodeGrant, [RequiredCodeChallenge(required=True), IdToken()])
    from .oneroster.grant import RosterClientCredentials  # OneRoster: client credentials

    instance.register_grant(RosterClientCredentials)
    instance.register_client_auth_method(PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt())
    instance.register_endpoint(EndSession())
    instance.register_endpoint(Introspection())
    return instance


@cache
def protector() -> ResourceProtector:
    instance = ResourceProtector()
    instance.register_token_validator(HashedBearerTokens(AccessToken))
    return instance
