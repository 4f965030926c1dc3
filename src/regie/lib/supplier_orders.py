"""The supplier order channel on the wire: signed orders (hub → supplier), signed receipts back.

The contract both ends follow (issue 13; the supplier's guide is ``docs/supplier-orders.md``):

- **The order** is a JSON body serialised once (:func:`order_body`: keys sorted, compact, UTF-8)
  and sent byte-identical on every attempt, so its ``Content-Digest`` (RFC 9530,
  :func:`content_digest`) is the order's fingerprint. The request carries Standard Webhooks'
  ``webhook-id`` (the order id) and ``webhook-timestamp`` (this attempt) and is signed with
  RFC 9421 HTTP Message Signatures: label ``regie``, covered components :data:`COVERED`,
  ``created``/``expires`` (300 s), the hub's Ed25519 key id, ``alg="ed25519"``,
  ``tag="regie-order"`` (:func:`sign_order_request`, :func:`verify_order_request`).
- **A receipt** is a compact JWS (RFC 7515) of ``typ`` ``regie-receipt+jwt``, signed by the
  supplier with a key of the JWKS it registered for ``private_key_jwt``, bound to the order by
  its id and digest (:func:`make_receipt`, :func:`read_receipt`). Binding a receipt to a stored
  order (digest, subjects, state, replay) is the hub's work, not this module's.

Signing and verifying the request use ``http-message-signatures``; the JWS uses ``joserfc``.
No Django and no other regie app: the demo suppliers and the supplier kit import this module.
Errors carry a short reason and never a value from the message.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import secrets
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet, OKPKey

ORDER_TYPES = (
    "erasure",
    "rectification-notice",
    "access",
    "restriction",
    "objection",
    "end-of-contract-destruction",
    "legacy-conversion",
)
RECEIPT_STATUSES = ("accepted", "completed", "refused")
LABEL = "regie"
TAG = "regie-order"
SIGNATURE_ALG = "ed25519"
COVERED = (
    "@method",
    "@target-uri",
    "content-type",
    "content-digest",
    "webhook-id",
    "webhook-timestamp",
)
EXPIRES_AFTER = 300
TOLERANCE = 300
RECEIPT_TYPE = "regie-receipt+jwt"
RECEIPT_ALGORITHMS = ("ES256", "RS256", "EdDSA")
RECEIPT_CLAIMS = (
    "iss",
    "aud",
    "order",
    "order_digest",
    "status",
    "subjects",
    "statement",
    "data",
    "iat",
    "jti",
)
ORDER_FIELDS = (
    "id",
    "type",
    "issuer",
    "subjects",
    "legal_basis",
    "deadline",
    "created",
    "receipts",
    "details",
)


class OrderSignatureError(Exception):
    """An order request that does not verify; ``reason`` says why, without a value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReceiptError(Exception):
    """A receipt that does not verify; ``reason`` says why, without a value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the order -----------------------------------------------------------------------------------


def order_body(order: Mapping[str, Any]) -> bytes:
    """The canonical body bytes: JSON, keys sorted, no spaces, UTF-8."""
    return json.dumps(order, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` value of ``body``: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


@dataclass
class _Request:
    """The message interface http-message-signatures reads (method, url, headers)."""

    method: str
    url: str
    headers: dict[str, str]


class _Keys(HTTPSignatureKeyResolver):
    def __init__(
        self,
        private: Mapping[str, Ed25519PrivateKey] | None = None,
        public: Mapping[str, Ed25519PublicKey] | None = None,
    ) -> None:
        self.private = dict(private or {})
        self.public = dict(public or {})

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        return self.private[key_id]

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self.public.get(key_id)


def _utc(timestamp: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)


def sign_order_request(
    *,
    url: str,
    body: bytes,
    order_id: str,
    private_key: Ed25519PrivateKey,
    key_id: str,
    now: int,
) -> dict[str, str]:
    """Every header of one attempt to deliver the order ``body`` to ``url`` at ``now``."""
    request = _Request(
        "POST",
        url,
        {
            "content-type": "application/json",
            "content-digest": content_digest(body),
            "webhook-id": order_id,
            "webhook-timestamp": str(now),
        },
    )
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519, key_resolver=_Keys(private={key_id: private_key})
    )
    signer.sign(
        request,
        key_id=key_id,
        created=_utc(now),
        expires=_utc(now + EXPIRES_AFTER),
        label=LABEL,
        tag=TAG,
        covered_component_ids=COVERED,
        body=body,
        use_existing_digest=True,
    )
    return {name.lower(): value for name, value in request.headers.items()}


def ed25519_keys(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 public keys of a JWKS, by key id (other keys are left out)."""
    found: dict[str, Ed25519PublicKey] = {}
    for jwk in jwks.get("keys", []) if isinstance(jwks, Mapping) else []:
        if not isinstance(jwk, Mapping) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        try:
            key = OKPKey.import_key({k: v for k, v in jwk.items() if k != "d"})
        except (JoseError, ValueError, TypeError):
            continue
        public = key.public_key
        if isinstance(public, Ed25519PublicKey) and isinstance(jwk.get("kid"), str):
            found[jwk["kid"]] = public
    return found


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _signature_input(headers: Mapping[str, str]) -> tuple[list[str], dict[str, Any]]:
    """The covered component names and the parameters of the ``regie`` signature."""
    signature_input = _header(headers, "signature-input")
    signature = _header(headers, "signature")
    if signature_input is None or signature is None:
        raise OrderSignatureError("signature headers missing")
    try:
        inputs = http_sf.parse(signature_input.encode(), tltype="dictionary")
        signatures = http_sf.parse(signature.encode(), tltype="dictionary")
    except (ValueError, TypeError, UnicodeError) as error:
        raise OrderSignatureError("signature headers malformed") from error
    if not isinstance(inputs, dict) or not isinstance(signatures, dict):
        raise OrderSignatureError("signature headers malformed")
    if LABEL not in inputs or LABEL not in signatures:
        raise OrderSignatureError("no signature labelled regie")
    member: Any = inputs[LABEL]
    if not isinstance(member, tuple) or not isinstance(member[0], list):
        raise OrderSignatureError("signature headers malformed")
    return [str(item[0]) for item in member[0]], dict(member[1])


def verify_order_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    jwks: dict[str, Any],
    now: int,
    tolerance: int = TOLERANCE,
) -> dict[str, Any]:
    """The order of a signed request, or :class:`OrderSignatureError` with the reason.

    ``url`` is the absolute URL the request was sent to (the supplier's registered endpoint);
    ``jwks`` the hub's published JWKS.
    """
    covered, parameters = _signature_input(headers)
    if parameters.get("tag") != TAG:
        raise OrderSignatureError("tag is not regie-order")
    if parameters.get("alg") != SIGNATURE_ALG:
        raise OrderSignatureError("alg is not ed25519")
    if any(component not in covered for component in COVERED):
        raise OrderSignatureError("signature does not cover the required components")
    keys = ed25519_keys(jwks)
    if parameters.get("keyid") not in keys:
        raise OrderSignatureError("unknown key id")
    created, expires = parameters.get("created"), parameters.get("expires")
    if type(created) is not int or type(expires) is not int:
        raise OrderSignatureError("created or expires missing")
    if created > now + tolerance:
        raise OrderSignatureError("signature created in the future")
    if created < now - tolerance:
        raise OrderSignatureError("signature too old")
    if expires < now:
        raise OrderSignatureError("signature expired")
    verifier = _Verifier(signature_algorithm=algorithms.ED25519, key_resolver=_Keys(public=keys))
    request = _Request(
        method.upper(), url, {name.lower(): value for name, value in headers.items()}
    )
    try:
        verifier.verify(request, max_age=None, expect_tag=TAG, expect_label=LABEL)
    except (InvalidSignature, HTTPMessageSignaturesException) as error:
        raise OrderSignatureError("signature does not verify") from error
    if _header(headers, "content-digest") != content_digest(body):
        raise OrderSignatureError("content-digest does not match the body")
    try:
        order = json.loads(body)
    except (ValueError, UnicodeError) as error:
        raise OrderSignatureError("body is not JSON") from error
    if not isinstance(order, dict) or any(field not in order for field in ORDER_FIELDS):
        raise OrderSignatureError("body is not an order")
    if _header(headers, "webhook-id") != order["id"]:
        raise OrderSignatureError("webhook-id differs from the order id")
    return order


class _Verifier(HTTPMessageVerifier):
    """The library's verifier; ``created`` and ``expires`` are checked by the caller."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        """Done by :func:`verify_order_request` with its own ``now`` and tolerance."""


# --- receipts ------------------------------------------------------------------------------------


def _default_alg(jwk: Mapping[str, Any]) -> str:
    alg = jwk.get("alg")
    if isinstance(alg, str):
        return alg
    return {"EC": "ES256", "RSA": "RS256", "OKP": "EdDSA"}.get(str(jwk.get("kty")), "ES256")


@contextlib.contextmanager
def _eddsa_allowed() -> Iterator[None]:
    """RFC 9864 deprecates the name "EdDSA"; the contract (like OIDC's JWKS) still uses it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)
        yield


def make_receipt(
    *,
    order: Mapping[str, Any],
    order_digest: str,
    status: str,
    subjects: list[str],
    statement: str,
    data: dict[str, Any],
    client_id: str,
    private_jwk: dict[str, Any],
    now: int,
    jti: str | None = None,
) -> str:
    """A receipt for ``order`` as a compact JWS, signed with the supplier's ``private_jwk``."""
    if status not in RECEIPT_STATUSES:
        raise ValueError("unknown receipt status")
    alg = _default_alg(private_jwk)
    header = {"alg": alg, "kid": private_jwk["kid"], "typ": RECEIPT_TYPE}
    claims = {
        "iss": client_id,
        "aud": order["issuer"],
        "order": order["id"],
        "order_digest": order_digest,
        "status": status,
        "subjects": list(subjects),
        "statement": statement,
        "data": data,
        "iat": now,
        "jti": jti or secrets.token_urlsafe(16),
    }
    key = KeySet.import_key_set({"keys": [private_jwk]}).keys[0]
    with _eddsa_allowed():
        return jws.serialize_compact(header, order_body(claims), key, algorithms=[alg])


def receipt_claims_unverified(token: str) -> dict[str, Any]:
    """The claims of a receipt *before* verification: only to find who should have signed it."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(_part(token, 1) + "=="))
    except (ValueError, UnicodeError) as error:
        raise ReceiptError("receipt is not a compact JWS") from error
    if not isinstance(payload, dict):
        raise ReceiptError("receipt is not a compact JWS")
    return payload


def _part(token: str, index: int, what: str = "receipt") -> str:
    parts = token.strip().split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise ReceiptError(f"{what} is not a compact JWS")
    return parts[index]


def verified_payload(
    token: str, *, jwks: dict[str, Any], typ: str, what: str = "receipt"
) -> dict[str, Any]:
    """The verified JSON payload of a supplier's compact JWS of type ``typ``, signed with a key
    of ``jwks`` (the JWKS its client registered), or :class:`ReceiptError` with the reason.

    The one verification receipts and breach reports (:func:`read_breach_report`) share: the
    header's ``typ``, an allowed ``alg``, a known ``kid``, the signature, a JSON object."""
    try:
        header = json.loads(base64.urlsafe_b64decode(_part(token, 0, what) + "=="))
    except (ValueError, UnicodeError) as error:
        raise ReceiptError(f"{what} is not a compact JWS") from error
    if not isinstance(header, dict) or header.get("typ") != typ:
        raise ReceiptError(f"typ is not {typ}")
    alg = header.get("alg")
    if alg not in RECEIPT_ALGORITHMS:
        raise ReceiptError("alg not allowed")
    kids = [jwk.get("kid") for jwk in jwks.get("keys", []) if isinstance(jwk, Mapping)]
    if not isinstance(header.get("kid"), str) or header["kid"] not in kids:
        raise ReceiptError("unknown key id")
    try:
        keyset = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        with _eddsa_allowed():
            verified = jws.deserialize_compact(token.strip(), keyset, algorithms=[alg])
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ReceiptError("signature does not verify") from error
    try:
        claims = json.loads(verified.payload)
    except (ValueError, UnicodeError) as error:
        raise ReceiptError("payload is not JSON") from error
    if not isinstance(claims, dict):
        raise ReceiptError("claims missing")
    return claims


def read_receipt(
    token: str,
    *,
    jwks: dict[str, Any],
    audience: str,
    now: int,
    tolerance: int = TOLERANCE,
) -> dict[str, Any]:
    """The verified claims of a receipt, or :class:`ReceiptError` with the reason.

    ``jwks`` is the registered JWKS of the client named by the receipt's ``iss``.
    """
    claims = verified_payload(token, jwks=jwks, typ=RECEIPT_TYPE)
    if not isinstance(claims, dict) or any(claim not in claims for claim in RECEIPT_CLAIMS):
        raise ReceiptError("claims missing")
    if claims["aud"] != audience:
        raise ReceiptError("aud is not this hub")
    if type(claims["iat"]) is not int or abs(claims["iat"] - now) > tolerance:
        raise ReceiptError("iat outside the tolerance")
    if claims["status"] not in RECEIPT_STATUSES:
        raise ReceiptError("unknown status")
    if not isinstance(claims["subjects"], list) or not all(
        isinstance(subject, str) for subject in claims["subjects"]
    ):
        raise ReceiptError("subjects malformed")
    if not all(isinstance(claims[name], str) for name in ("iss", "order", "order_digest", "jti")):
        raise ReceiptError("claims malformed")
    if not isinstance(claims["data"], dict) or not isinstance(claims["statement"], str):
        raise ReceiptError("claims malformed")
    return claims


# --- breach reports ------------------------------------------------------------------------------

BREACH_TYPE = "regie-breach+jwt"
BREACH_CLAIMS = ("iss", "aud", "jti", "iat", "detected_at", "description", "window")


def make_breach_report(
    *,
    client_id: str,
    private_jwk: dict[str, Any],
    audience: str,
    now: int,
    detected_at: int,
    description: str,
    window: tuple[int, int],
    categories: list[str] | None = None,
    subjects: list[str] | None = None,
    jti: str | None = None,
) -> str:
    """A supplier's report of a data breach as a compact JWS of type ``regie-breach+jwt``,
    signed like a receipt. Times are Unix seconds; ``subjects`` are the supplier's own
    pseudonyms of the pupils concerned."""
    alg = _default_alg(private_jwk)
    header = {"alg": alg, "kid": private_jwk["kid"], "typ": BREACH_TYPE}
    claims: dict[str, Any] = {
        "iss": client_id,
        "aud": audience,
        "jti": jti or secrets.token_urlsafe(16),
        "iat": now,
        "detected_at": detected_at,
        "description": description,
        "window": {"from": window[0], "to": window[1]},
    }
    if categories is not None:
        claims["categories"] = list(categories)
    if subjects is not None:
        claims["subjects"] = list(subjects)
    key = KeySet.import_key_set({"keys": [private_jwk]}).keys[0]
    with _eddsa_allowed():
        return jws.serialize_compact(header, order_body(claims), key, algorithms=[alg])


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def read_breach_report(
    token: str,
    *,
    jwks: dict[str, Any],
    audience: str,
    now: int,
    tolerance: int = TOLERANCE,
) -> dict[str, Any]:
    """The verified claims of a breach report (verified as a receipt is), or
    :class:`ReceiptError` with the reason."""
    claims = verified_payload(token, jwks=jwks, typ=BREACH_TYPE, what="report")
    if any(claim not in claims for claim in BREACH_CLAIMS):
        raise ReceiptError("claims missing")
    if claims["aud"] != audience:
        raise ReceiptError("aud is not this hub")
    if type(claims["iat"]) is not int or abs(claims["iat"] - now) > tolerance:
        raise ReceiptError("iat outside the tolerance")
    if not all(isinstance(claims[name], str) for name in ("iss", "jti", "description")):
        raise ReceiptError("claims malformed")
    if not claims["jti"] or not claims["description"].strip():
        raise ReceiptError("claims malformed")
    window = claims["window"]
    if (
        not isinstance(window, dict)
        or set(window) != {"from", "to"}
        or type(window["from"]) is not int
        or type(window["to"]) is not int
    ):
        raise ReceiptError("window malformed")
    if window["from"] > window["to"]:
        raise ReceiptError("window ends before it starts")
    detected = claims["detected_at"]
    if type(detected) is not int or detected > now + tolerance:
        raise ReceiptError("detected_at malformed or in the future")
    for name in ("categories", "subjects"):
        if name in claims and not _strings(claims[name]):
            raise ReceiptError(f"{name} malformed")
    return claims
