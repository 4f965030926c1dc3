"""The supplier guide's test vectors (``docs/supplier-orders/``) are current, and what they show
is right by an independent reading: the RFC 9421 signature base and signature (the test
verifier, not the library the hub signs with), the RFC 9530 digest, the receipt; the OpenAPI
description is valid OpenAPI 3.1 and its schemas accept the vectors' order and receipt."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from regie.lib import order_vectors, supplier_orders
from regie.lib.tests import rfc9421

DOCS = Path(__file__).resolve().parents[4] / "docs"
FILES = DOCS / "supplier-orders"


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FILES / "vectors.json").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((FILES / "openapi.yaml").read_text(encoding="utf-8"))
    return loaded


def test_the_committed_vectors_are_what_the_script_writes(tmp_path: Path) -> None:
    assert order_vectors.main(["--check"]) == 0
    assert order_vectors.main(["--check", "--directory", str(tmp_path)]) == 1  # it can fail
    assert order_vectors.main(["--directory", str(tmp_path)]) == 0
    for name in order_vectors.vectors():
        assert (tmp_path / name).read_bytes() == (FILES / name).read_bytes()


def test_the_vectors_signature_base_and_signature_hold_by_the_independent_verifier(
    vectors: dict[str, Any],
) -> None:
    request = vectors["request"]
    message = rfc9421.Message.of(request["method"], request["url"], request["headers"])
    public = rfc9421.ed25519_key_from_jwk(vectors["hub"]["jwks"]["keys"][0])
    verified = rfc9421.verify(
        message, "regie", keys={vectors["hub"]["jwks"]["keys"][0]["kid"]: public}
    )
    assert verified.base == request["signature_base"]
    signature = rfc9421.parse_dictionary(request["headers"]["signature"])["regie"]
    assert isinstance(signature, rfc9421.Item)
    assert isinstance(signature.value, bytes)
    public.verify(signature.value, request["signature_base"].encode())  # raises if not
    body = request["body"].encode()
    assert body == supplier_orders.order_body(vectors["order"])
    assert rfc9421.content_digest_matches(request["headers"]["content-digest"], body)
    assert request["headers"]["webhook-id"] == vectors["order"]["id"]


def test_the_vectors_private_keys_match_their_public_keys(vectors: dict[str, Any]) -> None:
    for side in ("hub", "supplier"):
        private = vectors[side]["private_jwk"]
        public = {name: value for name, value in private.items() if name != "d"}
        assert public in vectors[side]["jwks"]["keys"]
        seed = base64.urlsafe_b64decode(private["d"] + "==")
        derived = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        assert derived == base64.urlsafe_b64decode(private["x"] + "==")


def test_the_vectors_receipt_verifies_and_is_bound_to_the_order(vectors: dict[str, Any]) -> None:
    receipt = vectors["receipt"]
    claims = supplier_orders.read_receipt(
        receipt["jws"],
        jwks=vectors["supplier"]["jwks"],
        audience=vectors["hub"]["issuer"],
        now=vectors["now"] + 60,
    )
    assert claims == receipt["claims"]
    assert claims["order"] == vectors["order"]["id"]
    assert claims["order_digest"] == vectors["request"]["headers"]["content-digest"]
    header = json.loads(base64.urlsafe_b64decode(receipt["jws"].split(".")[0] + "=="))
    assert header == receipt["header"]


def test_the_openapi_description_is_valid_openapi_3_1(openapi: dict[str, Any]) -> None:
    OPENAPI_31_VALIDATOR.validate(openapi)
    assert set(openapi["webhooks"]) == {"order"}
    broken = {**openapi, "webhooks": {"order": {"post": {"responses": "none"}}}}
    assert not OPENAPI_31_VALIDATOR.is_valid(broken)


def schema(openapi: dict[str, Any], name: str) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": openapi["components"]}
    )


def test_the_openapi_schemas_accept_the_vectors_and_the_contracts_types(
    openapi: dict[str, Any], vectors: dict[str, Any]
) -> None:
    schema(openapi, "Order").validate(vectors["order"])
    schema(openapi, "ReceiptClaims").validate(vectors["receipt"]["claims"])
    schema(openapi, "ReceiptHeader").validate(vectors["receipt"]["header"])
    schema(openapi, "CompactJws").validate(vectors["receipt"]["jws"])
    order_types = openapi["components"]["schemas"]["Order"]["properties"]["type"]["enum"]
    assert tuple(order_types) == supplier_orders.ORDER_TYPES
    statuses = openapi["components"]["schemas"]["ReceiptClaims"]["properties"]["status"]["enum"]
    assert tuple(statuses) == supplier_orders.RECEIPT_STATUSES
    assert not schema(openapi, "Order").is_valid({**vectors["order"], "type": "delete-all"})
    assert not schema(openapi, "Order").is_valid({**vectors["order"], "subjects": []})


def test_the_guide_shows_the_vectors_as_they_are(vectors: dict[str, Any]) -> None:
    guide = (DOCS / "supplier-orders.md").read_text(encoding="utf-8")
    assert vectors["request"]["signature_base"] in guide
    assert vectors["request"]["headers"]["signature"] in guide
    assert vectors["request"]["body"] in guide
