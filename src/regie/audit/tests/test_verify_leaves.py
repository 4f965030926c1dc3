"""The leaf, byte for byte: the hub's ``record()`` and ``regie-verify`` must compute the same bytes,
so one example is fixed here exactly as issue 14's design writes it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regie.audit.leaves import (
    Leaf,
    LeafError,
    actor_role,
    details_commitment,
    leaf_bytes,
    new_salt,
    parse_leaf,
    time_text,
    well_formed_salt,
)

MOMENT = datetime(2026, 12, 6, 22, 0, 0, 123456, tzinfo=UTC)
SALT = "AAECAwQFBgcICQoLDA0ODw"  # bytes 0..15, unpadded base64url
DETAILS = {"supplier": "Leerling Online", "fields": ["name", "group"], "count": 3}
SUBJECT_HASH = "5d" * 32
# The canonical JSON the commitment hashes, written out by hand (keys sorted, no spaces).
OPENING = (
    b'{"actor":"user:42","details":{"count":3,"fields":["name","group"],'
    b'"supplier":"Leerling Online"},"salt":"AAECAwQFBgcICQoLDA0ODw","subject":"student:123"}'
)
COMMITMENT = "3c21bd4c531b6307e4e694b1c6c2187e5c7e7b2a6ae38f0cbba04e4f3d3ebdb6"
LEAF = (
    b'{"actor":"user","details":"3c21bd4c531b6307e4e694b1c6c2187e5c7e7b2a6ae38f0cbba04e4f3d3ebdb6",'
    b'"subject":"5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d",'
    b'"time":"2026-12-06T22:00:00.123456Z","type":"gateway.release","v":1}'
)


def test_the_details_commitment_is_sha256_of_the_canonical_opening() -> None:
    assert hashlib.sha256(OPENING).hexdigest() == COMMITMENT
    assert details_commitment("user:42", "student:123", DETAILS, SALT) == COMMITMENT


def test_one_leaf_has_exactly_the_designs_bytes() -> None:
    assert leaf_bytes("gateway.release", MOMENT, "user:42", SUBJECT_HASH, COMMITMENT) == LEAF
    assert leaf_bytes("gateway.release", MOMENT, "user", SUBJECT_HASH, COMMITMENT) == LEAF
    assert parse_leaf(LEAF) == Leaf(
        "gateway.release", "2026-12-06T22:00:00.123456Z", "user", SUBJECT_HASH, COMMITMENT
    )
    assert parse_leaf(LEAF).encode() == LEAF


def test_a_leaf_without_subject_has_an_empty_subject_hash() -> None:
    leaf = leaf_bytes("admin.saved", MOMENT, "system", "", COMMITMENT)
    assert b'"subject":""' in leaf
    assert parse_leaf(leaf).subject == ""


def test_the_actor_role_drops_the_id() -> None:
    assert actor_role("user:42") == "user"
    assert actor_role("nv-client:00000001000000000001") == "nv-client"
    assert actor_role("client:7") == "client"
    assert actor_role("system") == "system"


def test_time_is_utc_with_microseconds_and_must_be_aware() -> None:
    amsterdam = timezone(timedelta(hours=1))
    assert (
        time_text(datetime(2026, 12, 6, 23, 0, tzinfo=amsterdam)) == "2026-12-06T22:00:00.000000Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        time_text(datetime(2026, 12, 6, 23, 0))


def test_salts_are_16_random_bytes_in_unpadded_base64url() -> None:
    salts = {new_salt() for _ in range(50)}
    assert len(salts) == 50
    assert all(well_formed_salt(salt) for salt in salts)
    assert well_formed_salt(SALT)
    assert not well_formed_salt(SALT + "==")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (LEAF.replace(b'"v":1', b'"v":2'), "version"),
        (LEAF.replace(b'"v":1', b'"v":1.0'), "version"),
        (LEAF.replace(b"gateway.", b"\\u0067ateway."), "canonical"),
        (LEAF.replace(b'"v":1', b'"v":true'), "version"),
        (LEAF.replace(b'{"actor"', b'{ "actor"'), "canonical"),
        (LEAF.replace(b'"actor":"user","details"', b'"details"'), "fields"),
        (LEAF[:-1] + b',"x":"y"}', "fields"),
        (LEAF.replace(b'"actor":"user"', b'"actor":"user","actor":"user"'), "twice"),
        (LEAF.replace(b'"actor":"user"', b'"actor":"user:42"'), "role"),
        (LEAF.replace(b"5d5d", b"5D5D", 1), "subject hash"),
        (LEAF.replace(b".123456Z", b".123Z"), "RFC 3339"),
        (LEAF.replace(b"2026-12-06", b"2026-13-06"), "real date"),
        (LEAF.replace(b"gateway.release", b"release"), "dotted"),
        (LEAF.replace(b'"3c21', b'"3c2'), "details commitment"),
        (b"[1]", "object"),
        (b"\xff", "UTF-8"),
        (b'{"v":1', "JSON"),
    ],
)
def test_parse_leaf_refuses_what_is_not_a_canonical_version_1_leaf(
    data: bytes, reason: str
) -> None:
    with pytest.raises(LeafError, match=reason):
        parse_leaf(data)


@given(
    details=st.dictionaries(
        st.text(max_size=8),
        st.one_of(
            st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=12), st.booleans(), st.none()
        ),
        max_size=5,
    ),
    subject=st.text(max_size=20),
)
def test_every_commitment_opens_only_with_its_own_salt(
    details: dict[str, object], subject: str
) -> None:
    salt = new_salt()
    commitment = details_commitment("system", subject, details, salt)
    assert details_commitment("system", subject, details, salt) == commitment
    assert details_commitment("system", subject, details, new_salt()) != commitment
    leaf = leaf_bytes("audit.details.erased", MOMENT, "system", "", commitment)
    assert parse_leaf(leaf).details == commitment


def test_a_detail_that_rfc_8785_cannot_encode_is_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="safe integer"):
        details_commitment("system", "", {"count": 2**53}, SALT)
