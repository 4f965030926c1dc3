"""The demo supplier as an OpenID Connect relying party of the hub, on Authlib's client side
(its RFC 6749 request builders, RFC 7636 code challenge and RFC 7523 client assertion) and
joserfc for the ID token, over httpx.

- OpenID Connect Discovery 1.0 §4: the provider's metadata, read from the hub's issuer (and the
  ``issuer`` in it must be exactly that issuer, §4.3);
- OIDC Core 1.0 §3.1 (authorization-code flow) with PKCE S256 (RFC 7636), ``state`` and ``nonce``;
- client authentication at the token endpoint with ``private_key_jwt`` (OIDC Core §9, RFC 7523),
  signed with the relying party's own EC key, whose public half is the JWKS registered at the hub;
- ID-token validation (OIDC Core §3.1.3.7): signature against the hub's JWKS, ``iss``, ``aud``,
  ``exp``, ``iat``, ``nonce`` and ``at_hash``; userinfo (§5.3) with its ``sub`` checked against the
  ID token's (§5.3.2);
- RP-initiated logout 1.0 §2: the end-session URL with ``id_token_hint``;
- Back-Channel Logout 1.0 §2.6: a Logout Token's validation (signature against the hub's JWKS,
  ``typ``, ``iss``, ``aud``, ``iat``, ``exp``, ``events``, ``sub`` or ``sid``, no ``nonce``, each
  ``jti`` once).

No Django here: the demo supplier is a separate application that only talks HTTP to the hub.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from authlib.oauth2.rfc7523.client import ASSERTION_TYPE
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

# Claims about the token itself rather than about the pupil (OIDC Core §2, §3.1.3.6).
PROTOCOL_CLAIMS = frozenset(
    {"iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "acr", "amr", "sid"}
)
ALGORITHMS = ["ES256", "RS256"]
TIMEOUT_SECONDS = 10.0
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
SEEN_JTIS = 10_000  # Logout Token ids remembered (replays refused)


class RelyingPartyError(Exception):
    """The sign-in did not complete; ``error`` is an OAuth/OIDC error code (never a token)."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Provider:
    """The hub's metadata (OpenID Connect Discovery 1.0 §3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str


@dataclass(frozen=True)
class Pending:
    """A started sign-in, kept in the supplier's session until the hub sends the pupil back."""

    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Received:
    """What the supplier got from the hub for one sign-in."""

    sub: str
    userinfo: dict[str, Any]
    id_token_claims: dict[str, Any]
    id_token: str = field(repr=False)

    @property
    def about_the_pupil(self) -> dict[str, Any]:
        """Every claim about the pupil, from the ID token and userinfo together."""
        merged = {
            name: value
            for name, value in self.id_token_claims.items()
            if name not in PROTOCOL_CLAIMS
        }
        merged.update(self.userinfo)
        return merged


def new_signing_key() -> ECKey:
    """The relying party's own key for ``private_key_jwt`` (P-256, ES256)."""
    parameters: Any = {"kid": f"demo-{secrets.token_hex(6)}", "use": "sig", "alg": "ES256"}
    return ECKey.generate_key("P-256", parameters=parameters, private=True)


def _at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token, base64url."""
    half = hashlib.sha256(access_token.encode("ascii")).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode("ascii")


class RelyingParty:
    """One OAuth client of the hub. ``client_id`` is set once the hub has registered it."""

    def __init__(self, issuer: str, redirect_uri: str, key: ECKey | None = None) -> None:
        self.issuer = issuer
        self.redirect_uri = redirect_uri
        self.key = key or new_signing_key()
        self.client_id: str | None = None
        self._provider: Provider | None = None
        self._hub_keys: KeySet | None = None
        self._lock = threading.Lock()
        self._seen_jtis: OrderedDict[str, None] = OrderedDict()

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS to register at the hub: the public half of this party's key only."""
        return {"keys": [self.key.as_dict(private=False)]}

    # --- the provider ----------------------------------------------------------------------------

    def provider(self) -> Provider:
        """The hub's metadata, read once (OpenID Connect Discovery 1.0 §4)."""
        with self._lock:
            if self._provider is None:
                url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                metadata = self._get_json(url)
                if metadata.get("issuer") != self.issuer:
                    raise RelyingPartyError("invalid_issuer", "the metadata names another issuer")
                try:
                    self._provider = Provider(
                        issuer=metadata["issuer"],
                        authorization_endpoint=metadata["authorization_endpoint"],
                        token_endpoint=metadata["token_endpoint"],
                        userinfo_endpoint=metadata["userinfo_endpoint"],
                        jwks_uri=metadata["jwks_uri"],
                        end_session_endpoint=metadata.get("end_session_endpoint", ""),
                    )
                except KeyError as missing:
                    raise RelyingPartyError("invalid_metadata", f"no {missing}") from None
            return self._provider

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=TIMEOUT_SECONDS)
            response.raise_for_status()
            body: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError):
            raise RelyingPartyError("temporarily_unavailable", "the hub did not answer") from None
        return body

    def _hub_keyset(self, refresh: bool = False) -> KeySet:
        if self._hub_keys is None or refresh:
            self._hub_keys = KeySet.import_key_set(self._get_json(self.provider().jwks_uri))  # type: ignore[arg-type]
        return self._hub_keys

    def _client_id(self) -> str:
        if self.client_id is None:
            raise RelyingPartyError("unregistered_client", "not registered at the hub yet")
        return self.client_id

    # --- the flow --------------------------------------------------------------------------------

    def start(self, login_hint: str | None = None) -> tuple[str, Pending]:
        """The authorization request's URL (OIDC Core §3.1.2.1) and what to keep until the end."""
        pending = Pending(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
        )
        extra = {"login_hint": login_hint} if login_hint else {}
        url = prepare_grant_uri(
            self.provider().authorization_endpoint,
            self._client_id(),
            "code",
            redirect_uri=self.redirect_uri,
            scope="openid",
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.code_verifier),
            code_challenge_method="S256",
            **extra,
        )
        return str(url), pending

    def finish(self, pending: Pending, code: str) -> Received:
        """Exchange the code (PKCE verifier, private_key_jwt), validate, ask userinfo."""
        token = self._token(pending, code)
        claims = self.validate_id_token(token["id_token"], pending.nonce)
        if "at_hash" in claims and claims["at_hash"] != _at_hash(token["access_token"]):
            raise RelyingPartyError("invalid_id_token", "at_hash does not match")
        try:
            answer = httpx.get(
                self.provider().userinfo_endpoint,
                headers={"Authorization": f"Bearer {token['access_token']}"},
                timeout=TIMEOUT_SECONDS,
            )
            userinfo: dict[str, Any] = answer.json() if answer.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            raise RelyingPartyError("temporarily_unavailable") from None
        if answer.status_code != 200:
            raise RelyingPartyError("userinfo_refused", f"HTTP {answer.status_code}")
        if userinfo.get("sub") != claims["sub"]:  # OIDC Core §5.3.2: MUST be verified
            raise RelyingPartyError("invalid_userinfo", "sub differs from the ID token's")
        return Received(
            sub=claims["sub"],
            userinfo=userinfo,
            id_token_claims=claims,
            id_token=token["id_token"],
        )

    def _token(self, pending: Pending, code: str) -> dict[str, str]:
        """The token request (OIDC Core §3.1.3.1), authenticated with private_key_jwt."""
        endpoint = self.provider().token_endpoint
        body = prepare_token_request(
            "authorization_code",
            code=code,
            redirect_uri=self.redirect_uri,
            code_verifier=pending.code_verifier,
            client_assertion_type=ASSERTION_TYPE,
            client_assertion=private_key_jwt_sign(
                self.key, self._client_id(), endpoint, alg="ES256"
            ),
        )
        try:
            answer = httpx.post(
                endpoint,
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=TIMEOUT_SECONDS,
            )
            token: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError):
            raise RelyingPartyError("temporarily_unavailable") from None
        if answer.status_code != 200:
            error = token.get("error")
            raise RelyingPartyError(error if isinstance(error, str) else "invalid_grant")
        if not isinstance(token.get("id_token"), str) or not token.get("access_token"):
            raise RelyingPartyError("invalid_token_response", "no ID token")
        return {"id_token": token["id_token"], "access_token": str(token["access_token"])}

    def validate_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """OIDC Core §3.1.3.7: signature (hub's JWKS), iss, aud, exp, iat, nonce."""
        client_id = self.client_id
        if client_id is None:
            raise RelyingPartyError("unregistered_client")
        try:
            try:
                decoded = jwt.decode(id_token, self._hub_keyset(), algorithms=ALGORITHMS)
            except JoseError:  # perhaps a key the hub rotated in since: read its JWKS again
                decoded = jwt.decode(
                    id_token, self._hub_keyset(refresh=True), algorithms=ALGORITHMS
                )
            registry = jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise RelyingPartyError("invalid_id_token", type(error).__name__) from None
        audience = decoded.claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if several and decoded.claims.get("azp") != client_id:  # OIDC Core §3.1.3.7 (5)
            raise RelyingPartyError("invalid_id_token", "azp")
        return dict(decoded.claims)

    def _decode(self, token: str) -> jwt.Token:
        try:
            return jwt.decode(token, self._hub_keyset(), algorithms=ALGORITHMS)
        except JoseError:  # perhaps a key the hub rotated in since: read its JWKS again
            return jwt.decode(token, self._hub_keyset(refresh=True), algorithms=ALGORITHMS)

    def validate_logout_token(self, token: str) -> dict[str, Any]:
        """Back-Channel Logout 1.0 §2.6: the Logout Token's claims, or ``RelyingPartyError``
        (``invalid_request``, the failed check as description; never a value)."""
        client_id = self._client_id()
        try:
            decoded = self._decode(token)
            registry = jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": client_id},
                iat={"essential": True},
                exp={"essential": True},
                jti={"essential": True},
                events={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise RelyingPartyError("invalid_request", type(error).__name__) from None
        claims = dict(decoded.claims)
        if decoded.header.get("typ") != "logout+jwt":
            raise RelyingPartyError("invalid_request", "typ")
        events = claims["events"]
        if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
            raise RelyingPartyError("invalid_request", "events")
        if "nonce" in claims:  # §2.4: prohibited, so that an ID token cannot pass as one
            raise RelyingPartyError("invalid_request", "nonce")
        if not isinstance(claims.get("sub"), str) and not isinstance(claims.get("sid"), str):
            raise RelyingPartyError("invalid_request", "sub or sid")
        with self._lock:
            if claims["jti"] in self._seen_jtis:
                raise RelyingPartyError("invalid_request", "jti replayed")
            self._seen_jtis[str(claims["jti"])] = None
            while len(self._seen_jtis) > SEEN_JTIS:
                self._seen_jtis.popitem(last=False)
        return claims

    def logout_url(self, id_token: str, post_logout_redirect_uri: str) -> str:
        """RP-initiated logout 1.0 §2: where to send the pupil to end the session at the hub."""
        endpoint = self.provider().end_session_endpoint
        if not endpoint:
            return post_logout_redirect_uri
        query = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": post_logout_redirect_uri,
            "client_id": self.client_id or "",
        }
        return f"{endpoint}?{urlencode(query)}"
