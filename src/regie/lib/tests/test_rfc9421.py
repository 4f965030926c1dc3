"""The independent RFC 9421 verifier (:mod:`.rfc9421`) against the RFCs' own test vectors:
RFC 9421 Appendix B.2 (the test request of B.2, the signature bases of B.2.1–B.2.3, B.2.5 with
HMAC-SHA256 and B.2.6 with ``test-key-ed25519``), RFC 9530's ``Content-Digest`` of the same
body, and RFC 8941's parsing rules."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from regie.lib import supplier_orders
from regie.lib.tests import rfc9421
from regie.lib.tests.rfc9421 import InnerList, Item, Message, SignatureInvalid, Token

# RFC 9421 Appendix B.1.4, "test-key-ed25519".
ED25519_PRIVATE_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
ED25519_PUBLIC_PEM = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
# RFC 9421 Appendix B.1.5, "test-shared-secret".
SHARED_SECRET = base64.b64decode(
    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ=="
)

# RFC 9421 Appendix B.2, the test request (its body is also RFC 9530's example).
BODY = b'{"hello": "world"}'
SHA512_DIGEST = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
HEADERS = [
    ("Host", "example.com"),
    ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
    ("Content-Type", "application/json"),
    ("Content-Digest", SHA512_DIGEST),
    ("Content-Length", "18"),
]
TARGET = "https://example.com/foo?param=Value&Pet=dog"

B21_INPUT = '();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_BASE = (
    '"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss"'
    ';nonce="b3k2pp5k7z-50gnwp.yemd"'
)
B22_INPUT = (
    '("@authority" "content-digest" "@query-param";name="Pet");created=1618884473'
    ';keyid="test-key-rsa-pss";tag="header-example"'
)
B22_BASE = "\n".join(
    [
        '"@authority": example.com',
        f'"content-digest": {SHA512_DIGEST}',
        '"@query-param";name="Pet": dog',
        '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet")'
        ';created=1618884473;keyid="test-key-rsa-pss";tag="header-example"',
    ]
)
B23_INPUT = (
    '("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" '
    '"content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_BASE = "\n".join(
    [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@query": ?param=Value&Pet=dog',
        '"@authority": example.com',
        '"content-type": application/json',
        f'"content-digest": {SHA512_DIGEST}',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@query" "@authority" '
        '"content-type" "content-digest" "content-length");created=1618884473'
        ';keyid="test-key-rsa-pss"',
    ]
)
B25_INPUT = '("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"'
B25_BASE = "\n".join(
    [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@authority": example.com',
        '"content-type": application/json',
        '"@signature-params": ("date" "@authority" "content-type")'
        ';created=1618884473;keyid="test-shared-secret"',
    ]
)
B25_SIGNATURE = "pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8="
B26_INPUT = (
    '("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_BASE = "\n".join(
    [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
        '"content-length");created=1618884473;keyid="test-key-ed25519"',
    ]
)
B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)


def rfc_public_key() -> Ed25519PublicKey:
    key = load_pem_public_key(ED25519_PUBLIC_PEM)
    assert isinstance(key, Ed25519PublicKey)
    return key


def signed(label: str, signature_input: str, signature: str) -> Message:
    return Message.of(
        "POST",
        TARGET,
        [
            *HEADERS,
            ("Signature-Input", f"{label}={signature_input}"),
            ("Signature", f"{label}=:{signature}:"),
        ],
    )


@pytest.mark.parametrize(
    ("signature_input", "base"),
    [(B21_INPUT, B21_BASE), (B22_INPUT, B22_BASE), (B23_INPUT, B23_BASE), (B26_INPUT, B26_BASE)],
    ids=["B.2.1", "B.2.2", "B.2.3", "B.2.6"],
)
def test_it_builds_the_rfcs_signature_bases_from_the_test_request(
    signature_input: str, base: str
) -> None:
    message = Message.of("POST", TARGET, HEADERS)
    assert rfc9421.signature_base(message, rfc9421.parse_inner_list(signature_input)) == base


def test_the_rfcs_ed25519_signature_verifies_and_signing_the_base_gives_it_again() -> None:
    verified = rfc9421.verify(
        signed("sig-b26", B26_INPUT, B26_SIGNATURE),
        "sig-b26",
        keys={"test-key-ed25519": rfc_public_key()},
    )
    assert verified.base == B26_BASE
    assert verified.params == {"created": 1618884473, "keyid": "test-key-ed25519"}
    # Ed25519 is deterministic: the RFC's private key signs the base into the RFC's signature.
    private = load_pem_private_key(ED25519_PRIVATE_PEM, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    assert base64.b64encode(private.sign(B26_BASE.encode())).decode() == B26_SIGNATURE


def test_the_rfcs_hmac_signature_verifies() -> None:
    verified = rfc9421.verify(
        signed("sig-b25", B25_INPUT, B25_SIGNATURE),
        "sig-b25",
        keys={},
        verifier=rfc9421.hmac_sha256_verifier(SHARED_SECRET),
    )
    assert verified.base == B25_BASE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Date", "Tue, 20 Apr 2021 02:07:56 GMT"),
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", "19"),
    ],
)
def test_a_changed_covered_field_breaks_the_rfcs_signature(name: str, value: str) -> None:
    message = signed("sig-b26", B26_INPUT, B26_SIGNATURE)
    headers = tuple((key, value if key == name else old) for key, old in message.headers)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        rfc9421.verify(
            Message("POST", TARGET, headers), "sig-b26", keys={"test-key-ed25519": rfc_public_key()}
        )


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("PUT", TARGET),
        ("POST", "https://example.com/bar?param=Value&Pet=dog"),
        ("POST", "https://example.org/foo?param=Value&Pet=dog"),
        ("POST", "https://example.com:8443/foo?param=Value&Pet=dog"),
    ],
)
def test_a_changed_method_path_or_authority_breaks_the_rfcs_signature(
    method: str, target: str
) -> None:
    message = signed("sig-b26", B26_INPUT, B26_SIGNATURE)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        rfc9421.verify(
            Message(method, target, message.headers),
            "sig-b26",
            keys={"test-key-ed25519": rfc_public_key()},
        )


def test_an_unchanged_uncovered_query_and_the_default_port_keep_it_valid() -> None:
    message = signed("sig-b26", B26_INPUT, B26_SIGNATURE)
    for target in ("https://example.com/foo", "https://EXAMPLE.com:443/foo?other=1"):
        rfc9421.verify(
            Message("POST", target, message.headers),
            "sig-b26",
            keys={"test-key-ed25519": rfc_public_key()},
        )


def test_an_unknown_key_a_missing_label_or_a_covered_field_missing_is_refused() -> None:
    message = signed("sig-b26", B26_INPUT, B26_SIGNATURE)
    with pytest.raises(SignatureInvalid, match="unknown keyid"):
        rfc9421.verify(message, "sig-b26", keys={"other": rfc_public_key()})
    with pytest.raises(SignatureInvalid, match="no signature input labelled"):
        rfc9421.verify(message, "regie", keys={"test-key-ed25519": rfc_public_key()})
    without_date = tuple(item for item in message.headers if item[0] != "Date")
    with pytest.raises(SignatureInvalid, match="'date' is missing"):
        rfc9421.verify(
            Message("POST", TARGET, without_date),
            "sig-b26",
            keys={"test-key-ed25519": rfc_public_key()},
        )


def test_rfc_9530s_content_digest_examples_match_the_body() -> None:
    # RFC 9530 Appendix B.1: the same body, with SHA-256 and with SHA-512.
    sha256 = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    assert rfc9421.content_digest_matches(sha256, BODY)
    assert rfc9421.content_digest_matches(SHA512_DIGEST, BODY)
    assert rfc9421.content_digest_matches(f"{sha256}, {SHA512_DIGEST}", BODY)
    assert not rfc9421.content_digest_matches(sha256, b'{"hello": "world!"}')
    assert not rfc9421.content_digest_matches("md5=:AAAA:", BODY)  # nothing known checked
    assert not rfc9421.content_digest_matches("sha-256=X48E", BODY)  # not a byte sequence


def test_structured_fields_parse_and_serialise_per_rfc_8941() -> None:
    parsed = rfc9421.parse_dictionary('a=(1 "x\\"y" tok :AQI=: ?0 1.5);p;q="s", b=2;n=-3, c')
    a = parsed["a"]
    assert isinstance(a, InnerList)
    assert [item.value for item in a.items] == [
        1,
        'x"y',
        Token("tok"),
        b"\x01\x02",
        False,
        Decimal("1.5"),
    ]
    assert isinstance(a.items[2].value, Token)
    assert a.params == {"p": True, "q": "s"}
    assert parsed["b"] == Item(2, {"n": -3})
    assert parsed["c"] == Item(True, {})
    assert rfc9421.serialize_inner_list(a) == '(1 "x\\"y" tok :AQI=: ?0 1.5);p;q="s"'


@pytest.mark.parametrize(
    "text",
    ["a=(1 2", "A=1", "a=1,", 'a="\x01"', "a=1 b=2", "a=:not base64!:", "a=?2", "a=é"],
)
def test_malformed_structured_fields_are_refused(text: str) -> None:
    with pytest.raises(rfc9421.StructuredFieldError):
        rfc9421.parse_dictionary(text)


# --- the hub's order signatures (regie.lib.supplier_orders), checked by this verifier ------------

ORDER_URL = "https://orders.rekenwereld.example/regie/orders?v=1"
ORDER: dict[str, Any] = {
    "id": "5f0c4c52-2a7e-4c47-9a53-0d3e4f3c9b11",
    "type": "erasure",
    "issuer": "https://regie.school.example/oidc",
    "subjects": ["pseudoniem-een.example"],
    "legal_basis": "AVG art. 17 lid 1 sub b",
    "deadline": "2026-07-01",
    "created": "2026-06-01T09:00:00Z",
    "receipts": "https://regie.school.example/leveranciers/ontvangstbewijzen",
    "details": {},
}
HUB_KEY_ID = "ed25519-1780000000-0badcafe"
NOW = 1_780_000_000


def hub_signed() -> tuple[Message, bytes, Ed25519PublicKey]:
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    body = supplier_orders.order_body(ORDER)
    headers = supplier_orders.sign_order_request(
        url=ORDER_URL,
        body=body,
        order_id=ORDER["id"],
        private_key=private,
        key_id=HUB_KEY_ID,
        now=NOW,
    )
    return Message.of("POST", ORDER_URL, headers), body, private.public_key()


def test_the_hubs_order_signature_verifies_with_the_independent_verifier() -> None:
    message, body, public = hub_signed()
    verified = rfc9421.verify(message, "regie", keys={HUB_KEY_ID: public})
    assert verified.covered == (
        '"@method"',
        '"@target-uri"',
        '"content-type"',
        '"content-digest"',
        '"webhook-id"',
        '"webhook-timestamp"',
    )
    assert verified.params == {
        "created": NOW,
        "expires": NOW + 300,
        "keyid": HUB_KEY_ID,
        "alg": "ed25519",
        "tag": "regie-order",
    }
    assert verified.base.splitlines()[:2] == ['"@method": POST', f'"@target-uri": {ORDER_URL}']
    headers = dict(message.headers)
    assert rfc9421.content_digest_matches(headers["content-digest"], body)
    assert headers["webhook-id"] == ORDER["id"]
    assert headers["webhook-timestamp"] == str(NOW)
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "name",
    ["content-type", "content-digest", "webhook-id", "webhook-timestamp", "signature-input"],
)
def test_any_change_to_a_covered_header_or_the_parameters_breaks_the_hubs_signature(
    name: str,
) -> None:
    message, _body, public = hub_signed()
    changed = {
        "content-type": "application/json; charset=utf-8",
        "content-digest": "sha-256=:" + base64.b64encode(bytes(32)).decode() + ":",
        "webhook-id": "6f0c4c52-2a7e-4c47-9a53-0d3e4f3c9b11",
        "webhook-timestamp": str(NOW + 1),
    }
    headers = []
    for key, value in message.headers:
        if key == name == "signature-input":
            value = value.replace(f"created={NOW}", f"created={NOW + 1}")
        elif key == name:
            value = changed[name]
        headers.append((key, value))
    with pytest.raises(SignatureInvalid, match="does not verify"):
        rfc9421.verify(
            Message("POST", ORDER_URL, tuple(headers)), "regie", keys={HUB_KEY_ID: public}
        )


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", ORDER_URL),
        ("POST", ORDER_URL.replace("/regie/orders", "/regie/orders2")),
        ("POST", ORDER_URL.replace("?v=1", "?v=2")),
        ("POST", ORDER_URL.replace("https://", "http://")),
        ("POST", ORDER_URL.replace("rekenwereld", "taalrijk")),
    ],
)
def test_another_method_or_target_uri_breaks_the_hubs_signature(method: str, url: str) -> None:
    message, _body, public = hub_signed()
    with pytest.raises(SignatureInvalid, match="does not verify"):
        rfc9421.verify(Message(method, url, message.headers), "regie", keys={HUB_KEY_ID: public})


def test_a_changed_body_no_longer_matches_the_signed_digest() -> None:
    message, body, public = hub_signed()
    rfc9421.verify(message, "regie", keys={HUB_KEY_ID: public})  # the headers still verify …
    tampered = body.replace(b"erasure", b"access!")
    assert not rfc9421.content_digest_matches(dict(message.headers)["content-digest"], tampered)


def test_the_hubs_jwks_key_is_read_the_same_by_the_independent_verifier() -> None:
    message, _body, public = hub_signed()
    x = base64.urlsafe_b64encode(public.public_bytes_raw()).rstrip(b"=").decode()
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": HUB_KEY_ID, "alg": "EdDSA"}
    rfc9421.verify(message, "regie", keys={HUB_KEY_ID: rfc9421.ed25519_key_from_jwk(jwk)})
