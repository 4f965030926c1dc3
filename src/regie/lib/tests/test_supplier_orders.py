"""The order channel's wire format: signed orders and signed receipts, round trips and refusals."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc.jwk import ECKey, OKPKey, RSAKey

from regie.lib import supplier_orders
from regie.lib.supplier_orders import (
    OrderSignatureError,
    ReceiptError,
    content_digest,
    make_receipt,
    order_body,
    read_receipt,
    sign_order_request,
    verify_order_request,
)

URL = "https://rekenwereld.example/orders"
HUB = "https://hub.example/oidc"
NOW = 1_760_000_000
ORDER_ID = "6f1c1b9e-8a2b-4c8e-9d7a-0c3f5b2a1e44"
HUB_KEY = OKPKey.generate_key(
    "Ed25519", parameters={"kid": "ed25519-1-aa", "use": "sig", "alg": "EdDSA"}, private=True
)
OTHER_KEY = OKPKey.generate_key(
    "Ed25519", parameters={"kid": "ed25519-1-aa", "use": "sig", "alg": "EdDSA"}, private=True
)
HUB_JWKS = {"keys": [HUB_KEY.as_dict(private=False)]}


def an_order(**changes: Any) -> dict[str, Any]:
    order = {
        "id": ORDER_ID,
        "type": "erasure",
        "issuer": HUB,
        "subjects": ["https://nv.example/lp/1/" + "ab" * 64],
        "legal_basis": "AVG art. 17 lid 1 sub b",
        "deadline": "2025-11-30",
        "created": "2025-10-09T10:00:00Z",
        "receipts": "https://hub.example/orders/receipts",
        "details": {},
    }
    order.update(changes)
    return order


def signed(
    order: dict[str, Any] | None = None, key: OKPKey = HUB_KEY, now: int = NOW
) -> tuple[bytes, dict[str, str]]:
    body = order_body(order or an_order())
    headers = sign_order_request(
        url=URL,
        body=body,
        order_id=(order or an_order())["id"],
        private_key=key.private_key,  # type: ignore[arg-type]
        key_id="ed25519-1-aa",
        now=now,
    )
    return body, headers


def verify(
    body: bytes, headers: dict[str, str], now: int = NOW + 5, **kwargs: Any
) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "method": "POST",
        "url": URL,
        "headers": headers,
        "body": body,
        "jwks": HUB_JWKS,
        "now": now,
    }
    arguments.update(kwargs)
    return verify_order_request(**arguments)


def refusal(body: bytes, headers: dict[str, str], **kwargs: Any) -> str:
    with pytest.raises(OrderSignatureError) as caught:
        verify(body, headers, **kwargs)
    return caught.value.reason


def test_the_body_is_compact_sorted_utf8_json() -> None:
    assert order_body({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


def test_the_content_digest_is_rfc_9530_sha_256() -> None:
    # RFC 9530 appendix B.1's example: the body {"hello": "world"}
    assert content_digest(b'{"hello": "world"}') == (
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    )


def test_a_signed_order_verifies_and_carries_every_header_of_the_contract() -> None:
    body, headers = signed()
    assert verify(body, headers) == an_order()
    assert headers["content-type"] == "application/json"
    assert headers["content-digest"] == content_digest(body)
    assert headers["webhook-id"] == ORDER_ID
    assert headers["webhook-timestamp"] == str(NOW)
    assert headers["signature-input"].startswith(
        'regie=("@method" "@target-uri" "content-type" "content-digest" "webhook-id" '
        '"webhook-timestamp");'
    )
    for parameter in (
        f"created={NOW}",
        f"expires={NOW + 300}",
        'keyid="ed25519-1-aa"',
        'alg="ed25519"',
        'tag="regie-order"',
    ):
        assert parameter in headers["signature-input"].split(";")
    assert headers["signature"].startswith("regie=:")


# No deadline: signing and verifying take their time on a busy machine; no timing is tested.
@settings(deadline=None)
@given(
    subjects=st.lists(st.text(min_size=1, max_size=40), max_size=5),
    basis=st.text(max_size=60),
    details=st.dictionaries(st.text(max_size=10), st.integers(), max_size=3),
)
def test_any_order_round_trips(subjects: list[str], basis: str, details: dict[str, int]) -> None:
    order = an_order(subjects=subjects, legal_basis=basis, details=details)
    body, headers = signed(order)
    assert verify(body, headers) == order


def test_header_names_may_come_in_any_case() -> None:
    body, headers = signed()
    assert verify(body, {name.title(): value for name, value in headers.items()}) == an_order()


def test_a_signature_by_another_key_is_refused() -> None:
    body, headers = signed(key=OTHER_KEY)
    assert refusal(body, headers) == "signature does not verify"


def test_a_key_id_not_in_the_jwks_is_refused() -> None:
    body, headers = signed()
    other = {"keys": [OKPKey.generate_key("Ed25519", {"kid": "x"}).as_dict(private=False)]}
    assert refusal(body, headers, jwks=other) == "unknown key id"


def test_a_changed_body_is_refused() -> None:
    body, headers = signed()
    changed = body.replace(b"erasure", b"access0")
    assert refusal(changed, headers) == "content-digest does not match the body"


def test_a_changed_digest_header_is_refused() -> None:
    _body, headers = signed()
    other_body = order_body(an_order(type="access"))
    headers = dict(headers, **{"content-digest": content_digest(other_body)})
    assert refusal(other_body, headers) == "signature does not verify"


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "content-type"])
def test_a_changed_covered_header_is_refused(header: str) -> None:
    body, headers = signed()
    headers = dict(headers, **{header: headers[header] + "1"})
    assert refusal(body, headers) == "signature does not verify"


def test_another_url_or_method_is_refused() -> None:
    body, headers = signed()
    assert refusal(body, headers, url="https://evil.example/orders") == "signature does not verify"
    assert refusal(body, headers, method="PUT") == "signature does not verify"


def test_a_signature_covering_other_components_is_refused() -> None:
    body, headers = signed()
    headers = dict(
        headers,
        **{"signature-input": headers["signature-input"].replace(' "webhook-id"', "")},
    )
    assert refusal(body, headers) == "signature does not cover the required components"


def test_another_tag_or_alg_is_refused() -> None:
    body, headers = signed()
    retagged = dict(
        headers, **{"signature-input": headers["signature-input"].replace("regie-order", "x")}
    )
    assert refusal(body, retagged) == "tag is not regie-order"
    realg = dict(
        headers, **{"signature-input": headers["signature-input"].replace('"ed25519"', '"x"')}
    )
    assert refusal(body, realg) == "alg is not ed25519"


def test_a_missing_label_or_signature_is_refused() -> None:
    body, headers = signed()
    relabelled = {
        name: value.replace("regie=", "other=") if name.startswith("signature") else value
        for name, value in headers.items()
    }
    assert refusal(body, relabelled) == "no signature labelled regie"
    unsigned = {name: value for name, value in headers.items() if name != "signature"}
    assert refusal(body, unsigned) == "signature headers missing"
    garbled = dict(headers, **{"signature-input": "regie=(((("})
    assert refusal(body, garbled) == "signature headers malformed"


def test_an_old_a_future_and_an_expired_signature_are_refused() -> None:
    body, headers = signed()
    assert verify(body, headers, now=NOW + 300) == an_order()
    assert refusal(body, headers, now=NOW + 301) == "signature too old"
    assert refusal(body, headers, now=NOW - 301) == "signature created in the future"
    assert refusal(body, headers, now=NOW + 10, tolerance=5) == "signature too old"
    assert refusal(body, headers, now=NOW + 400, tolerance=600) == "signature expired"


def test_a_webhook_id_other_than_the_body_id_is_refused() -> None:
    body = order_body(an_order())
    headers = sign_order_request(
        url=URL,
        body=body,
        order_id="another-id",
        private_key=HUB_KEY.private_key,  # type: ignore[arg-type]
        key_id="ed25519-1-aa",
        now=NOW,
    )
    assert refusal(body, headers) == "webhook-id differs from the order id"


def test_a_body_that_is_not_an_order_is_refused() -> None:
    body = b'{"id": "x"}'
    headers = sign_order_request(
        url=URL,
        body=body,
        order_id="x",
        private_key=HUB_KEY.private_key,  # type: ignore[arg-type]
        key_id="ed25519-1-aa",
        now=NOW,
    )
    assert refusal(body, headers) == "body is not an order"


def test_a_refusal_never_names_a_value() -> None:
    body, headers = signed(an_order(subjects=["secret-pseudonym"]))
    body = body.replace(b"secret-pseudonym", b"secret-pseudonyn")
    with pytest.raises(OrderSignatureError) as caught:
        verify(body, headers)
    assert "secret" not in str(caught.value)


# --- receipts ------------------------------------------------------------------------------------

SUPPLIER_EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"}, private=True)
SUPPLIER_RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"}, private=True)
SUPPLIER_OKP = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"}, private=True)
SUPPLIER_JWKS = {
    "keys": [key.as_dict(private=False) for key in (SUPPLIER_EC, SUPPLIER_RSA, SUPPLIER_OKP)]
}


def a_receipt(key: Any = SUPPLIER_EC, now: int = NOW, **changes: Any) -> str:
    arguments: dict[str, Any] = {
        "order": an_order(),
        "order_digest": content_digest(order_body(an_order())),
        "status": "completed",
        "subjects": an_order()["subjects"],
        "statement": "Alle gegevens van deze leerling zijn vernietigd.",
        "data": {},
        "client_id": "rekenwereld",
        "private_jwk": key.as_dict(private=True),
        "now": now,
    }
    arguments.update(changes)
    return make_receipt(**arguments)


def read(token: str, **kwargs: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"jwks": SUPPLIER_JWKS, "audience": HUB, "now": NOW + 5}
    arguments.update(kwargs)
    return read_receipt(token, **arguments)


def receipt_refusal(token: str, **kwargs: Any) -> str:
    with pytest.raises(ReceiptError) as caught:
        read(token, **kwargs)
    return caught.value.reason


@pytest.mark.parametrize(
    ("key", "alg"), [(SUPPLIER_EC, "ES256"), (SUPPLIER_RSA, "RS256"), (SUPPLIER_OKP, "EdDSA")]
)
def test_a_receipt_round_trips_with_every_allowed_algorithm(key: Any, alg: str) -> None:
    token = a_receipt(key, jti="r-1")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": alg, "kid": key.kid, "typ": "regie-receipt+jwt"}
    claims = read(token)
    assert claims == {
        "iss": "rekenwereld",
        "aud": HUB,
        "order": ORDER_ID,
        "order_digest": content_digest(order_body(an_order())),
        "status": "completed",
        "subjects": an_order()["subjects"],
        "statement": "Alle gegevens van deze leerling zijn vernietigd.",
        "data": {},
        "iat": NOW,
        "jti": "r-1",
    }
    assert supplier_orders.receipt_claims_unverified(token) == claims


def test_each_receipt_gets_its_own_jti() -> None:
    assert read(a_receipt())["jti"] != read(a_receipt())["jti"]


def test_a_receipt_with_a_wrong_signature_is_refused() -> None:
    forger = ECKey.generate_key("P-256", parameters={"kid": "ec-1"}, private=True)
    assert receipt_refusal(a_receipt(forger)) == "signature does not verify"
    header, _payload, signature = a_receipt().split(".")
    other_payload = a_receipt(status="accepted").split(".")[1]
    assert receipt_refusal(f"{header}.{other_payload}.{signature}") == "signature does not verify"


def test_a_receipt_by_an_unknown_key_is_refused() -> None:
    stranger = ECKey.generate_key("P-256", parameters={"kid": "ec-9"}, private=True)
    assert receipt_refusal(a_receipt(stranger)) == "unknown key id"


def test_a_receipt_for_another_audience_is_refused() -> None:
    assert receipt_refusal(a_receipt(), audience="https://other-hub.example/oidc") == (
        "aud is not this hub"
    )


def test_an_old_or_future_receipt_is_refused() -> None:
    assert read(a_receipt(now=NOW - 295))["iat"] == NOW - 295
    assert receipt_refusal(a_receipt(now=NOW - 296)) == "iat outside the tolerance"
    assert receipt_refusal(a_receipt(now=NOW + 306)) == "iat outside the tolerance"


def test_garbage_is_refused_as_not_a_receipt() -> None:
    assert receipt_refusal("not a token") == "receipt is not a compact JWS"
    assert receipt_refusal("a.b.c") == "receipt is not a compact JWS"


def test_an_unknown_status_is_not_made() -> None:
    with pytest.raises(ValueError, match="status"):
        a_receipt(status="done")
