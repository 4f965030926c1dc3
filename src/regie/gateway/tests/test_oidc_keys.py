"""The OpenID provider's signing keys: ``regie oidc-keys ensure|rotate|retire|list``, files of
mode 0600 outside the database, rotation that keeps old keys published until what they signed has
expired, and a JWKS that never carries a private part."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import httpx
import pytest
from django.conf import LazySettings
from django.core.management import call_command
from joserfc import jwt
from joserfc.jwk import KeySet

from regie.gateway import keys
from regie.lib import supplier_orders

from .conftest import Launchable
from .test_oidc_bad_input import register
from .test_oidc_client import logged_in

PRIVATE_PARTS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture
def signing_dir(settings: LazySettings, tmp_path: Path) -> Path:
    directory = tmp_path / "oidc-keys"
    settings.OIDC_KEYS_DIR = directory
    return directory


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("oidc_keys", *args, stdout=out)
    return out.getvalue()


def kids(alg: str | None = None) -> list[str]:
    return [item.kid for item in keys.load() if alg is None or item.alg == alg]


def test_ensure_creates_one_key_per_algorithm_once(signing_dir: Path) -> None:
    created = command("ensure")
    assert created.count("created key file") == 3
    assert sorted(item.alg for item in keys.load()) == ["ES256", "EdDSA", "RS256"]
    assert command("ensure") == ""
    assert len(keys.load()) == 3


def test_key_files_are_readable_by_the_owner_only(signing_dir: Path) -> None:
    command("ensure")
    command("rotate")
    files = sorted(signing_dir.glob("*.json"))
    assert len(files) == 6
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(signing_dir.stat().st_mode) == 0o700


def test_list_names_algorithms_and_kids_but_no_key_material(signing_dir: Path) -> None:
    command("ensure")
    listed = command("list")
    for item in keys.load():
        assert f"{item.alg}  {item.kid}" in listed
        private = item.key.as_dict(private=True)
        assert str(private["d"]) not in listed


def test_rotate_adds_a_new_signing_key_and_keeps_the_old_published(signing_dir: Path) -> None:
    command("ensure")
    before = {alg: keys.signing_key(alg).kid for alg in keys.KEY_ALGORITHMS}
    assert command("rotate").count("created key file") == 3
    after = {alg: keys.signing_key(alg).kid for alg in keys.KEY_ALGORITHMS}
    for alg in keys.KEY_ALGORITHMS:
        assert after[alg] != before[alg]
        assert kids(alg) == [before[alg], after[alg]]
    published = {key["kid"] for key in keys.public_jwks()["keys"]}
    assert published == set(before.values()) | set(after.values())


def test_retire_removes_only_keys_superseded_longer_ago_than_a_token_lives(
    signing_dir: Path, settings: LazySettings
) -> None:
    settings.OIDC_TOKEN_TTL_SECONDS = 600
    start = 1_800_000_000
    for created in (start, start + 1000, start + 5000):  # three generations
        keys.rotate(signing_dir, now=created)
    first, second, third = (kids("ES256")[index] for index in range(3))

    assert keys.retire(now=start + 1000 + 600) == []  # the first's tokens may still be valid
    assert kids("ES256") == [first, second, third]

    removed = keys.retire(now=start + 1000 + 601)
    assert len(removed) == 3  # the first ES256, RS256 and Ed25519 keys
    assert kids("ES256") == [second, third]

    assert len(keys.retire(now=start + 5000 + 601)) == 3
    assert kids("ES256") == [third]  # the signing key itself is never retired
    assert keys.retire(now=start + 10**9) == []
    assert len(keys.load()) == 3


def test_retire_right_after_a_rotation_removes_nothing(signing_dir: Path) -> None:
    command("ensure")
    command("rotate")
    assert command("retire") == ""
    assert len(keys.load()) == 6


def test_the_jwks_has_no_private_parts(signing_dir: Path) -> None:
    command("ensure")
    command("rotate")
    published = keys.public_jwks()["keys"]
    assert len(published) == 6
    for key in published:
        assert PRIVATE_PARTS.isdisjoint(key), key["kid"]
        assert key["use"] == "sig"
        assert key["alg"] in keys.KEY_ALGORITHMS
        assert key["kty"] == {"ES256": "EC", "RS256": "RSA", "EdDSA": "OKP"}[key["alg"]]
    private = [item.key.as_dict(private=True) for item in keys.load()]
    assert all("d" in key for key in private)  # the files do hold the private halves


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_after_rotation_new_tokens_use_the_new_key_and_old_ones_still_verify(
    launchable: Launchable, signing_dir: Path
) -> None:
    command("ensure")
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    old_token = rp.tokens(session)["id_token"]
    old_kid = keys.signing_key("ES256").kid

    command("rotate")
    new_kid = keys.signing_key("ES256").kid
    served = httpx.get(f"{launchable.base}/oidc/jwks")
    assert served.status_code == 200
    published = served.json()
    assert {old_kid, new_kid} <= {key["kid"] for key in published["keys"]}
    assert all(PRIVATE_PARTS.isdisjoint(key) for key in published["keys"])

    new_token = rp.tokens(session)["id_token"]
    jwks = KeySet.import_key_set(published)
    assert jwt.decode(new_token, jwks, algorithms=["ES256"]).header["kid"] == new_kid
    assert jwt.decode(old_token, jwks, algorithms=["ES256"]).header["kid"] == old_kid

    # the old key stays published while its tokens may be valid; retired, it is gone
    assert command("retire") == ""
    keys.retire(now=keys.signing_key("ES256").created + 10**6)
    assert old_kid not in {
        key["kid"] for key in httpx.get(f"{launchable.base}/oidc/jwks").json()["keys"]
    }


def test_the_order_signing_key_is_ed25519_published_and_the_jwks_of_the_supplier_contract(
    signing_dir: Path,
) -> None:
    command("ensure")
    kid, private = keys.order_signing_key()
    assert kid.startswith("ed25519-")
    published = [key for key in keys.public_jwks()["keys"] if key["kid"] == kid]
    assert published == [
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": published[0]["x"],
            "kid": kid,
            "use": "sig",
            "alg": "EdDSA",
        }
    ]
    body = supplier_orders.order_body({"id": "o-1"})
    headers = supplier_orders.sign_order_request(
        url="https://supplier.example/orders",
        body=body,
        order_id="o-1",
        private_key=private,
        key_id=kid,
        now=1_800_000_000,
    )
    # the signature verifies with the published JWKS (the body is no order: refused after that)
    with pytest.raises(supplier_orders.OrderSignatureError, match="body is not an order"):
        supplier_orders.verify_order_request(
            method="POST",
            url="https://supplier.example/orders",
            headers=headers,
            body=body,
            jwks=keys.public_jwks(),
            now=1_800_000_000,
        )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_id_tokens_are_never_signed_with_the_order_key_and_discovery_is_unchanged(
    launchable: Launchable, signing_dir: Path
) -> None:
    command("ensure")
    discovery = httpx.get(f"{launchable.base}/oidc/.well-known/openid-configuration").json()
    assert discovery["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
    served = httpx.get(f"{launchable.base}/oidc/jwks").json()
    assert keys.order_signing_key()[0] in {key["kid"] for key in served["keys"]}
    rp = register(launchable)
    session = logged_in(launchable.base, launchable.pupil_user.username)
    id_token = rp.tokens(session)["id_token"]
    decoded = jwt.decode(id_token, KeySet.import_key_set(served), algorithms=["ES256"])
    assert decoded.header["kid"] == keys.signing_key("ES256").kid
