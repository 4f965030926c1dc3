"""The Merkle tree maths (regie.audit.rfc9162) against the RFC's text and against tampering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regie.audit import rfc9162
from regie.audit.rfc9162 import ProofError

from . import rfc_text

leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


def perfect_of(entries: list[bytes]) -> rfc9162.PerfectHash:
    hashes = [rfc9162.leaf_hash(entry) for entry in entries]

    def perfect(level: int, index: int) -> bytes:
        return rfc9162.root(hashes[index << level : (index + 1) << level])

    return perfect


def flip(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


@given(leaf_lists)
def test_roots_equal_the_rfc_text(entries: list[bytes]) -> None:
    expected = rfc_text.mth(entries)
    assert rfc9162.root(rfc9162.leaf_hash(entry) for entry in entries) == expected
    assert rfc9162.tree_root(len(entries), perfect_of(entries)) == expected


def test_the_empty_tree() -> None:
    assert rfc9162.root([]) == rfc_text.mth([]) == rfc9162.EMPTY_ROOT
    assert rfc9162.tree_root(0, perfect_of([])) == rfc9162.EMPTY_ROOT


@given(leaf_lists, st.data())
def test_every_inclusion_proof_equals_the_rfc_text_and_verifies(
    entries: list[bytes], data: st.DataObject
) -> None:
    size = data.draw(st.integers(1, len(entries)), label="size")
    tree = entries[:size]
    root_hash = rfc_text.mth(tree)
    for index in range(size):
        made = rfc9162.inclusion_proof(index, size, perfect_of(entries))
        assert made == rfc_text.path(index, tree)
        rfc9162.verify_inclusion(rfc9162.leaf_hash(tree[index]), index, size, made, root_hash)


@given(leaf_lists, st.data())
def test_every_consistency_proof_equals_the_rfc_text_and_verifies(
    entries: list[bytes], data: st.DataObject
) -> None:
    second = data.draw(st.integers(1, len(entries)), label="second")
    for first in range(1, second + 1):
        made = rfc9162.consistency_proof(first, second, perfect_of(entries))
        expected = [] if first == second else rfc_text.proof(first, entries[:second])
        assert made == expected
        rfc9162.verify_consistency(
            first, second, made, rfc_text.mth(entries[:first]), rfc_text.mth(entries[:second])
        )


distinct_leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70, unique=True)


def other_than(value: int, low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high).filter(lambda drawn: drawn != value)


@given(distinct_leaf_lists, st.data())
def test_no_inclusion_proof_verifies_after_any_change(
    entries: list[bytes], data: st.DataObject
) -> None:
    """A single flipped bit in the leaf hash, the root or any proof hash, another index, or
    another tree size (with that tree's true root): the proof no longer verifies."""
    size = data.draw(st.integers(1, len(entries)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    made = rfc9162.inclusion_proof(index, size, perfect_of(entries))
    leaf = rfc9162.leaf_hash(entries[index])
    root_hash = rfc_text.mth(entries[:size])
    rfc9162.verify_inclusion(leaf, index, size, made, root_hash)
    bit = data.draw(st.integers(0, 255), label="bit")
    changes = [
        (flip(leaf, bit), index, size, made, root_hash),
        (leaf, index, size, made, flip(root_hash, bit)),
    ]
    for position in range(len(made)):
        forged = list(made)
        forged[position] = flip(forged[position], bit)
        changes.append((leaf, index, size, forged, root_hash))
    if size > 1:
        other_index = data.draw(other_than(index, 0, size - 1), label="other index")
        changes.append((leaf, other_index, size, made, root_hash))
    if len(entries) > index + 1:
        other_size = data.draw(other_than(size, index + 1, len(entries)), label="other size")
        changes.append((leaf, index, other_size, made, rfc_text.mth(entries[:other_size])))
    for change in changes:
        with pytest.raises(ProofError):
            rfc9162.verify_inclusion(*change)


@given(distinct_leaf_lists, st.data())
def test_no_consistency_proof_verifies_after_any_change(
    entries: list[bytes], data: st.DataObject
) -> None:
    """A single flipped bit in either root or any proof hash, or other tree sizes (with those
    trees' true roots): the proof no longer verifies."""
    second = data.draw(st.integers(1, len(entries)), label="second")
    first = data.draw(st.integers(1, second), label="first")
    made = rfc9162.consistency_proof(first, second, perfect_of(entries))
    first_root, second_root = rfc_text.mth(entries[:first]), rfc_text.mth(entries[:second])
    bit = data.draw(st.integers(0, 255), label="bit")
    changes = [
        (first, second, made, flip(first_root, bit), second_root),
        (first, second, made, first_root, flip(second_root, bit)),
    ]
    for position in range(len(made)):
        forged = list(made)
        forged[position] = flip(forged[position], bit)
        changes.append((first, second, forged, first_root, second_root))
    if second > 1:
        other = data.draw(other_than(first, 1, second), label="other first")
        changes.append((other, second, made, rfc_text.mth(entries[:other]), second_root))
    if len(entries) > first:
        other = data.draw(other_than(second, first, len(entries)), label="other second")
        changes.append((first, other, made, first_root, rfc_text.mth(entries[:other])))
    for change in changes:
        with pytest.raises(ProofError):
            rfc9162.verify_consistency(*change)
