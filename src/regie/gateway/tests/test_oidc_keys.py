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
    assert created.count("created key file") == 2
    assert sorted(item.alg for item in keys.load()) == ["ES256", "RS256"]
    assert command("ensure") == ""
    assert len(keys.load()) == 2


def test_key_files_are_readable_by_the_owner_only(signing_dir: Path) -> None:
    command("ensure")
    command("rotate")
    files = sorted(signing_dir.glob("*.json"))
    assert len(files) == 4
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
    before = {alg: keys.signing_key(alg).kid for alg in keys.ALGORITHMS}
    assert command("rotate").count("created key file") == 2
    after = {alg: keys.signing_key(alg).kid for alg in keys.ALGORITHMS}
    for alg in keys.ALGORITHMS:
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
    assert len(removed) == 2  # the first ES256 and RS256 keys
    assert kids("ES256") == [second, third]

    assert len(keys.retire(now=start + 5000 + 601)) == 2
    assert kids("ES256") == [third]  # the signing key itself is never retired
    assert keys.retire(now=start + 10**9) == []
    assert len(keys.load()) == 2


def test_retire_right_after_a_rotation_removes_nothing(signing_dir: Path) -> None:
    command("ensure")
    command("rotate")
    assert command("retire") == ""
    assert len(keys.load()) == 4


def test_the_jwks_has_no_private_parts(signing_dir: Path) -> None:
    command("ensure")
    command("rotate")
    published = keys.public_jwks()["keys"]
    assert len(published) == 4
    for key in published:
        assert PRIVATE_PARTS.isdisjoint(key), key["kid"]
        assert key["use"] == "sig"
        assert key["alg"] in keys.ALGORITHMS
        assert key["kty"] == ("EC" if key["alg"] == "ES256" else "RSA")
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
