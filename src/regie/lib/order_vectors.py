"""Test vectors of the supplier order channel, for ``docs/supplier-orders.md``.

``python -m regie.lib.order_vectors`` writes ``docs/supplier-orders/``:

- ``vectors.json`` — a fixed Ed25519 key of the hub (private and public JWK; a *test* key, never
  used by a real hub), a fixed order, the exact headers of one delivery attempt, the RFC 9421
  signature base they sign, and a receipt signed with a fixed Ed25519 key of a supplier;
- ``hub-jwks.json`` — the hub's JWKS with that test key;
- ``order-request.http`` — the order request as raw HTTP, for ``regie-order-check verify``;
- ``order.json`` — the order's body bytes, for ``regie-order-check receipt``;
- ``supplier-key.json`` — the supplier's private test JWK, for ``regie-order-check receipt``;
- ``supplier-jwks.json`` and ``receipt.jws`` — its public JWKS and the receipt, for
  ``regie-order-check read-receipt``.

Ed25519 signatures are deterministic (RFC 8032), so the same keys give the same bytes on every
run; ``--check`` fails when the committed files differ (a test runs it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from . import supplier_orders

NOW = 1_780_000_000  # 2026-05-28T20:26:40Z
HUB_KID = "ed25519-1780000000-7e57"
SUPPLIER_KID = "rekenwereld-2026-7e57"
ISSUER = "https://regie.school.example/oidc"
ENDPOINT = "https://api.rekenwereld.example/regie/orders"
CLIENT_ID = "rekenwereld-3b1c9a"
ORDER: dict[str, Any] = {
    "id": "7d9d2f0e-3c1a-4b8e-9f43-2a6b1e5c8d07",
    "type": "erasure",
    "issuer": ISSUER,
    "subjects": ["https://nv.example/lp/5/8f1e2d3c4b5a69788796a5b4c3d2e1f0"],
    "legal_basis": "AVG art. 17 lid 1 sub b",
    "deadline": "2026-06-27",
    "created": "2026-05-28T20:26:40Z",
    "receipts": "https://regie.school.example/leveranciers/ontvangstbewijzen",
    "details": {},
}
STATEMENT = (
    "Destruction statement: on 2026-05-28 all data held for this pseudonym (sign-in claims, "
    "roster copy, results) was deleted from production and backups are overwritten within 30 days."
)
DIRECTORY = Path(__file__).resolve().parents[3] / "docs" / "supplier-orders"


def test_key(name: str) -> Ed25519PrivateKey:
    """A fixed, published Ed25519 key (its seed is a hash of ``name``): for vectors only."""
    seed = hashlib.sha256(f"regie order test vector: {name}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def jwk(private: Ed25519PrivateKey, kid: str, *, with_private: bool) -> dict[str, Any]:
    key = OKPKey.import_key(private)
    data = dict(key.as_dict(private=with_private))
    return {**data, "kid": kid, "use": "sig", "alg": "EdDSA"}


def signature_base(method: str, url: str, headers: dict[str, str]) -> str:
    """RFC 9421 §2.5 for the components an order covers, written out (for the reader)."""
    lines = []
    for component in supplier_orders.COVERED:
        if component == "@method":
            value = method
        elif component == "@target-uri":
            value = url
        else:
            value = headers[component].strip()
        lines.append(f'"{component}": {value}')
    params = headers["signature-input"].split("=", 1)[1]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines)


def raw_request(url: str, headers: dict[str, str], body: bytes) -> bytes:
    split = urlsplit(url)
    target = split.path + (f"?{split.query}" if split.query else "")
    lines = [f"POST {target} HTTP/1.1", f"host: {split.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def vectors() -> dict[str, bytes]:
    """Every file, by name, as bytes."""
    hub = test_key("hub")
    supplier = test_key("supplier")
    body = supplier_orders.order_body(ORDER)
    headers = supplier_orders.sign_order_request(
        url=ENDPOINT, body=body, order_id=ORDER["id"], private_key=hub, key_id=HUB_KID, now=NOW
    )
    digest = headers["content-digest"]
    receipt = supplier_orders.make_receipt(
        order=ORDER,
        order_digest=digest,
        status="completed",
        subjects=list(ORDER["subjects"]),
        statement=STATEMENT,
        data={},
        client_id=CLIENT_ID,
        private_jwk=jwk(supplier, SUPPLIER_KID, with_private=True),
        now=NOW + 60,
        jti="rcpt-7d9d2f0e-completed",
    )
    hub_jwks = {"keys": [jwk(hub, HUB_KID, with_private=False)]}
    supplier_jwks = {"keys": [jwk(supplier, SUPPLIER_KID, with_private=False)]}
    claims = supplier_orders.read_receipt(
        receipt, jwks=supplier_jwks, audience=ISSUER, now=NOW + 60
    )
    document = {
        "about": "Test vectors of regie's supplier order channel (docs/supplier-orders.md). "
        "The keys are published test keys: never use them for anything else.",
        "now": NOW,
        "hub": {
            "issuer": ISSUER,
            "private_jwk": jwk(hub, HUB_KID, with_private=True),
            "jwks": hub_jwks,
        },
        "order": ORDER,
        "request": {
            "method": "POST",
            "url": ENDPOINT,
            "body": body.decode(),
            "headers": headers,
            "signature_base": signature_base("POST", ENDPOINT, headers),
        },
        "supplier": {
            "client_id": CLIENT_ID,
            "private_jwk": jwk(supplier, SUPPLIER_KID, with_private=True),
            "jwks": supplier_jwks,
        },
        "receipt": {
            "header": {"alg": "EdDSA", "kid": SUPPLIER_KID, "typ": supplier_orders.RECEIPT_TYPE},
            "claims": claims,
            "jws": receipt,
        },
    }
    return {
        "vectors.json": _json(document),
        "hub-jwks.json": _json(hub_jwks),
        "order-request.http": raw_request(ENDPOINT, headers, body),
        "order.json": body,
        "supplier-key.json": _json(jwk(supplier, SUPPLIER_KID, with_private=True)),
        "supplier-jwks.json": _json(supplier_jwks),
        "receipt.jws": (receipt + "\n").encode(),
    }


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m regie.lib.order_vectors", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the files differ")
    parser.add_argument("--directory", type=Path, default=DIRECTORY)
    options = parser.parse_args(argv)
    stale = []
    for name, content in vectors().items():
        path = options.directory / name
        if options.check:
            if not path.exists() or path.read_bytes() != content:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    if stale:
        print(f"stale: {', '.join(stale)} (run python -m regie.lib.order_vectors)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
