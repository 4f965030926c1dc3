"""Properties of the pseudonym chain's derivations (DESIGN §4.2–4.4)."""

from __future__ import annotations

import hmac
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regie.lib.crypto import Feistel, Hmac
from regie.nummervoorziening.derivation import DerivationError, Deriver
from regie.nummervoorziening.keys import add_key_version, generate_keyring, load_keyring

BASE = "https://nv.regie.example"
CHAIN = "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795"
PO = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"
VO = "urn:regie:sector:vo"
SUPPLIER_A = "12345678"
SUPPLIER_B = "87654321"

hpgns = st.binary(min_size=32, max_size=32).map(bytes.hex)


@pytest.fixture(scope="module")
def deriver(tmp_path_factory: pytest.TempPathFactory) -> Deriver:
    directory = tmp_path_factory.mktemp("derivation-keys")
    generate_keyring(directory)
    return Deriver(load_keyring(directory), BASE)


@pytest.fixture(scope="module")
def other_deriver(tmp_path_factory: pytest.TempPathFactory) -> Deriver:
    directory = tmp_path_factory.mktemp("other-keys")
    generate_keyring(directory)
    return Deriver(load_keyring(directory), BASE)


def chain_of(
    deriver: Deriver, hpgn: str, sector: str = PO, supplier: str = SUPPLIER_A
) -> tuple[str, str, str]:
    stampseudonym = deriver.stampseudonym(deriver.anchor(hpgn))
    eck_id = deriver.eck_id(stampseudonym, CHAIN, sector)
    return stampseudonym, eck_id, deriver.supplier_pseudonym(eck_id, supplier, sector)


def test_it_issues_values_in_the_documented_uri_forms(deriver: Deriver) -> None:
    stampseudonym, eck_id, supplier = chain_of(deriver, "ab" * 32)
    assert re.fullmatch(rf"{BASE}/sp/1/[0-9a-f]{{128}}", stampseudonym)
    assert re.fullmatch(rf"{BASE}/1/[0-9a-f]{{128}}", eck_id)
    assert re.fullmatch(rf"{BASE}/lp/1/[0-9a-f]{{128}}", supplier)


@given(hpgn=hpgns)
def test_it_derives_the_same_values_from_the_same_input(deriver: Deriver, hpgn: str) -> None:
    assert chain_of(deriver, hpgn) == chain_of(deriver, hpgn)


@given(first=hpgns, second=hpgns)
def test_it_derives_different_values_from_different_hpgns(
    deriver: Deriver, first: str, second: str
) -> None:
    if first != second:
        assert set(chain_of(deriver, first)).isdisjoint(chain_of(deriver, second))


@given(hpgn=hpgns)
def test_it_separates_sectors_and_suppliers(deriver: Deriver, hpgn: str) -> None:
    _stampseudonym, eck_po, supplier_a_po = chain_of(deriver, hpgn, PO, SUPPLIER_A)
    _, eck_vo, supplier_a_vo = chain_of(deriver, hpgn, VO, SUPPLIER_A)
    _, _, supplier_b_po = chain_of(deriver, hpgn, PO, SUPPLIER_B)
    assert eck_po != eck_vo
    assert len({supplier_a_po, supplier_a_vo, supplier_b_po}) == 3


@given(hpgn=hpgns)
def test_it_separates_chains(deriver: Deriver, hpgn: str) -> None:
    stampseudonym = deriver.stampseudonym(deriver.anchor(hpgn))
    assert deriver.eck_id(stampseudonym, CHAIN, PO) != deriver.eck_id(
        stampseudonym, "urn:regie:chain:other", PO
    )


@given(hpgn=hpgns)
def test_it_gives_unrelated_values_under_other_keys(
    deriver: Deriver, other_deriver: Deriver, hpgn: str
) -> None:
    mine, theirs = chain_of(deriver, hpgn), chain_of(other_deriver, hpgn)
    assert all(
        a.rsplit("/", 1)[1] != b.rsplit("/", 1)[1] for a, b in zip(mine, theirs, strict=True)
    )


@pytest.mark.slow
def test_it_derives_a_million_distinct_values(deriver: Deriver) -> None:
    seen: set[bytes] = set()
    anchors = (os.urandom(32) for _ in range(1_000_000))
    for anchor in anchors:
        seen.add(bytes.fromhex(deriver.stampseudonym(anchor)[-128:])[:16])
    assert len(seen) == 1_000_000


@given(key=st.binary(min_size=0, max_size=200), message=st.binary(max_size=300))
def test_it_computes_hmac_as_the_standard_library(key: bytes, message: bytes) -> None:
    assert Hmac(key).digest(message) == hmac.digest(key, message, "sha512")
    assert Hmac(key, "sha256").digest(message) == hmac.digest(key, message, "sha256")


@given(key=st.binary(max_size=200), prefix=st.binary(max_size=300), message=st.binary(max_size=300))
def test_a_prefixed_hmac_equals_hmac_of_the_concatenation(
    key: bytes, prefix: bytes, message: bytes
) -> None:
    prepared = Hmac(key).prefixed(prefix)
    assert prepared.digest(message) == hmac.digest(key, prefix + message, "sha512")
    assert prepared.digest(message) == prepared.digest(message)


@given(key=st.binary(min_size=32, max_size=64), value=st.binary(min_size=64, max_size=64))
def test_it_inverts_the_feistel_permutation(key: bytes, value: bytes) -> None:
    permutation = Feistel(key)
    assert permutation.backward(permutation.forward(value)) == value
    assert permutation.forward(value) != value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("https://elsewhere.example/sp/1/" + "a" * 128, "not a stampseudonym issued"),
        (f"{BASE}/sp/1/" + "A" * 128, "128 lowercase"),
        (f"{BASE}/sp/1/" + "a" * 127, "128 lowercase"),
        (f"{BASE}/sp/x/" + "a" * 128, "key version"),
        (f"{BASE}/sp/9/" + "a" * 128, "unknown key version"),
        (f"{BASE}/sp/0/" + "a" * 128, "unknown key version"),
        (f"{BASE}/sp/1/" + "a" * 128 + "/", "128 lowercase"),
        (f"{BASE}/sp/1/" + " a1" * 64, "128 lowercase"),  # bytes.fromhex skips the spaces
    ],
)
def test_it_refuses_malformed_stampseudonyms_without_echoing(
    deriver: Deriver, value: str, reason: str
) -> None:
    with pytest.raises(DerivationError, match=reason) as caught:
        deriver.eck_id(value, CHAIN, PO)
    assert caught.value.code == "invalid-stampseudonym"
    if value:
        assert value not in str(caught.value)


@pytest.mark.parametrize("hpgn", ["", "abc", "g" * 64, "A" * 64, "a" * 65])
def test_it_refuses_malformed_hpgns(deriver: Deriver, hpgn: str) -> None:
    with pytest.raises(DerivationError) as caught:
        deriver.anchor(hpgn)
    assert caught.value.code == "invalid-hpgn"


def test_a_rotation_keeps_old_values_convertible_and_upper_layers_stable(tmp_path: Path) -> None:
    generate_keyring(tmp_path)
    before = Deriver(load_keyring(tmp_path), BASE)
    hpgn = "cd" * 32
    old_sp, old_eck, old_supplier = chain_of(before, hpgn)

    add_key_version(tmp_path, "stampseudonym")
    add_key_version(tmp_path, "eckid")
    after = Deriver(load_keyring(tmp_path), BASE)
    new_sp, new_eck, new_supplier = chain_of(after, hpgn)

    assert new_sp.startswith(f"{BASE}/sp/2/")
    assert new_sp != old_sp
    assert new_eck.startswith(f"{BASE}/2/")
    assert new_eck != old_eck
    assert new_supplier == old_supplier  # the supplier key did not rotate
    # The conversion table is computed from the old values alone.
    assert after.stampseudonyms.convert(old_sp) == new_sp
    assert after.eck_ids.convert(old_eck) == new_eck
    # An old stampseudonym is still understood, and gives the current ECK iD.
    assert after.eck_id(old_sp, CHAIN, PO) == new_eck
