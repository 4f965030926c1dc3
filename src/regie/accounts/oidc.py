"""The hub as an OpenID Connect relying party of a school's own identity provider.

Built on Authlib's client side (its RFC 6749 request builders, RFC 7636 code challenge and the
client authentication of RFC 6749 §2.3.1) and joserfc for the ID token, over httpx:

- OpenID Connect Discovery 1.0 §4: the provider's metadata from ``{issuer}/.well-known/
  openid-configuration``; the ``issuer`` in it must be exactly the configured one (§4.3). The
  metadata and the provider's JWKS are cached briefly (:data:`METADATA_TTL_SECONDS`); an ID token
  signed with a key that is not in the cached JWKS makes the hub read the JWKS once more;
- OIDC Core 1.0 §3.1.2.1: the authorization request (``response_type=code``) with ``state``,
  ``nonce`` and PKCE S256 (RFC 7636 §4.2);
- §3.1.3.1: the token request, authenticated with ``client_secret_basic`` or
  ``client_secret_post`` (whichever the metadata's ``token_endpoint_auth_methods_supported``
  offers; basic when it says nothing, §3 of Discovery);
- §3.1.3.7: ID-token validation: signature by a key of the provider's JWKS with an asymmetric
  algorithm (never ``none`` or a shared-secret HMAC), ``iss``, ``aud`` (and ``azp`` with several
  audiences), ``exp``, ``iat`` and ``nonce``.

Errors are exception classes named after what failed; their messages never hold a token, a code
or a claim value.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

TIMEOUT_SECONDS = 10.0
METADATA_TTL_SECONDS = 300
LEEWAY_SECONDS = 60
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class RelyingPartyError(Exception):
    """The login through the identity provider did not complete. ``reason`` is a stable code."""

    reason = "failed"


class ProviderUnavailable(RelyingPartyError):
    """The provider did not answer, or not with what the protocol says (HTTP, JSON)."""

    reason = "upstream_unavailable"


class InvalidMetadata(RelyingPartyError):
    """The discovery document is unusable (other issuer, missing endpoint, no usable method)."""

    reason = "invalid_metadata"


class TokenRefused(RelyingPartyError):
    """The token endpoint refused the code; ``error`` is its OAuth error code."""

    reason = "token_refused"

    def __init__(self, error: str) -> None:
        super().__init__(f"the token endpoint answered {error}")
        self.error = error


class InvalidIdToken(RelyingPartyError):
    """The ID token failed a check of OIDC Core §3.1.3.7; ``check`` names which one."""

    reason = "invalid_id_token"

    def __init__(self, check: str) -> None:
        super().__init__(f"the ID token failed the {check} check")
        self.check = check


@dataclass(frozen=True)
class Metadata:
    """What the hub uses of a provider's discovery document (Discovery 1.0 §3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    auth_method: str
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class Client:
    """The hub's registration at the provider."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    redirect_uri: str


@dataclass(frozen=True)
class Pending:
    """A started login, kept in the visitor's session until the provider sends them back."""

    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def new(cls) -> Pending:
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(48),  # 64 characters (RFC 7636 §4.1: 43–128)
        )


def _cache_key(kind: str, url: str) -> str:
    return f"accounts.oidc.{kind}.{hashlib.sha256(url.encode('utf-8')).hexdigest()}"


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"})
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError):
        raise ProviderUnavailable("the identity provider did not answer") from None
    if not isinstance(body, dict):
        raise ProviderUnavailable("the identity provider answered with something else than JSON")
    return body


def _metadata_from(document: dict[str, Any], issuer: str) -> Metadata:
    if document.get("issuer") != issuer:
        raise InvalidMetadata("the discovery document names another issuer")
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value.startswith(("https://", "http://127.0.0.1")):
            raise InvalidMetadata(f"the discovery document has no usable {name}")
        endpoints[name] = value
    offered = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    auth_method = next((method for method in AUTH_METHODS if method in offered), None)
    if auth_method is None:
        raise InvalidMetadata("the provider offers no client_secret_basic or client_secret_post")
    published = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(alg for alg in ALGORITHMS if alg in published)
    if not algorithms:
        raise InvalidMetadata("the provider signs ID tokens with no algorithm the hub accepts")
    methods = document.get("code_challenge_methods_supported")
    if methods is not None and "S256" not in methods:
        raise InvalidMetadata("the provider does not support PKCE with S256")
    return Metadata(issuer=issuer, auth_method=auth_method, algorithms=algorithms, **endpoints)


def discover(issuer: str) -> Metadata:
    """The provider's metadata (Discovery 1.0 §4), cached for :data:`METADATA_TTL_SECONDS`."""
    key = _cache_key("metadata", issuer)
    document = cache.get(key)
    if document is None:
        document = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        metadata = _metadata_from(document, issuer)  # a bad document is not cached
        cache.set(key, document, METADATA_TTL_SECONDS)
        return metadata
    return _metadata_from(document, issuer)


def known_authorization_endpoint(issuer: str) -> str | None:
    """The provider's authorization endpoint when its metadata is cached (never fetches)."""
    document = cache.get(_cache_key("metadata", issuer))
    endpoint = document.get("authorization_endpoint") if isinstance(document, dict) else None
    return endpoint if isinstance(endpoint, str) else None


def _key_set(metadata: Metadata, *, refresh: bool = False) -> KeySet:
    key = _cache_key("jwks", metadata.jwks_uri)
    document = None if refresh else cache.get(key)
    if document is None:
        document = _get_json(metadata.jwks_uri)
        cache.set(key, document, METADATA_TTL_SECONDS)
    try:
        return KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError):
        raise InvalidMetadata("the provider's JWKS cannot be read") from None


def authorization_url(client: Client, metadata: Metadata, pending: Pending) -> str:
    """Where to send the visitor (OIDC Core §3.1.2.1, PKCE S256)."""
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        client.client_id,
        "code",
        redirect_uri=client.redirect_uri,
        scope=client.scopes,
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.code_verifier),
        code_challenge_method="S256",
    )
    return str(url)


def exchange_code(client: Client, metadata: Metadata, pending: Pending, code: str) -> str:
    """The ID token for ``code`` (OIDC Core §3.1.3.1), with the PKCE verifier."""
    body = prepare_token_request(
        "authorization_code",
        code=code,
        redirect_uri=client.redirect_uri,
        code_verifier=pending.code_verifier,
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    authentication = ClientAuth(client.client_id, client.client_secret, metadata.auth_method)
    url, headers, body = authentication.prepare("POST", metadata.token_endpoint, headers, body)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
        answer = response.json()
    except (httpx.HTTPError, ValueError):
        raise ProviderUnavailable("the token endpoint did not answer") from None
    if not isinstance(answer, dict):
        raise ProviderUnavailable("the token endpoint answered with something else than JSON")
    if response.status_code != 200:
        error = answer.get("error")
        raise TokenRefused(error if isinstance(error, str) and error.isascii() else "invalid_grant")
    id_token = answer.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise InvalidIdToken("presence")
    return id_token


def _check(error: JoseError) -> str:
    """Which check failed, by name (a claim name, never a claim value)."""
    if isinstance(error, BadSignatureError):
        return "signature"
    if isinstance(error, ClaimError):
        return error.claim if error.claim.isidentifier() else "claims"
    return "format"


def _decode(metadata: Metadata, id_token: str) -> jwt.Token:
    algorithms = list(metadata.algorithms)
    try:
        return jwt.decode(id_token, _key_set(metadata), algorithms=algorithms)
    except InvalidKeyIdError:
        # Perhaps signed with a key the provider rotated in since: read its JWKS again.
        return jwt.decode(id_token, _key_set(metadata, refresh=True), algorithms=algorithms)


def validate_id_token(
    client: Client, metadata: Metadata, id_token: str, nonce: str
) -> dict[str, Any]:
    """The ID token's claims once every check of OIDC Core §3.1.3.7 has passed."""
    try:
        decoded = _decode(metadata, id_token)
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": metadata.issuer},
            aud={"essential": True, "value": client.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(decoded.claims)
    except JoseError as error:
        raise InvalidIdToken(_check(error)) from None
    except (ValueError, TypeError):
        raise InvalidIdToken("format") from None
    audience = decoded.claims["aud"]
    several = isinstance(audience, list) and len(audience) > 1
    if (several or "azp" in decoded.claims) and decoded.claims.get("azp") != client.client_id:
        raise InvalidIdToken("azp")
    return dict(decoded.claims)
