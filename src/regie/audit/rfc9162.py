"""The Merkle tree of RFC 9162 (Certificate Transparency version 2.0), section 2.1.

Hashes (SHA-256, as the RFC's hash algorithm for CT v2):

- a leaf: ``SHA-256(0x00 ‖ leaf)`` (:func:`leaf_hash`);
- an inner node: ``SHA-256(0x01 ‖ left ‖ right)`` (:func:`node_hash`);
- the empty tree: ``SHA-256()`` (:data:`EMPTY_ROOT`).

Proofs are made as the RFC defines ``PATH`` (2.1.3.1) and ``PROOF``/``SUBPROOF`` (2.1.4.1) and
checked with the RFC's own verification algorithms (2.1.3.2, 2.1.4.2). Making a proof needs only
the hashes of *perfect* subtrees — ``2**level`` leaves starting at ``index * 2**level`` — which
the caller supplies as a function (:data:`PerfectHash`): the hub reads them from its stored tiles,
a test from a list. Subtrees on the tree's right edge that are not perfect are computed from
those, as the RFC's recursion does.

No Django here: the standalone verifier (``regie-verify``) and the witness import this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256().digest()

PerfectHash = Callable[[int, int], bytes]
"""``(level, index) -> hash`` of the perfect subtree of ``2**level`` leaves starting at leaf
``index * 2**level``; level 0 gives leaf hashes."""


class ProofError(ValueError):
    """A proof that does not prove what it claims, or a request for a proof that cannot exist."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (for ``n > 1``): the RFC's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over the leaves with these hashes, in one pass with a stack of perfect subtrees."""
    stack: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing
    for value in leaf_hashes:
        level, current = 0, value
        while stack and stack[-1][0] == level:
            current = node_hash(stack.pop()[1], current)
            level += 1
        stack.append((level, current))
    if not stack:
        return EMPTY_ROOT
    current = stack.pop()[1]
    while stack:
        current = node_hash(stack.pop()[1], current)
    return current


def subtree_hash(start: int, end: int, perfect: PerfectHash) -> bytes:
    """MTH of the leaves ``[start, end)``, where ``start`` is where the RFC's recursion puts a
    subtree (a multiple of the largest power of two not above ``end - start``)."""
    n = end - start
    if n <= 0:
        raise ProofError("an empty range has no subtree hash")
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        if start % n:
            raise ProofError("a perfect subtree must start at a multiple of its size")
        return perfect(level, start >> level)
    k = _split(n)
    return node_hash(subtree_hash(start, start + k, perfect), subtree_hash(start + k, end, perfect))


def tree_root(size: int, perfect: PerfectHash) -> bytes:
    """The root of the tree of the first ``size`` leaves."""
    return EMPTY_ROOT if size == 0 else subtree_hash(0, size, perfect)


def inclusion_proof(index: int, size: int, perfect: PerfectHash) -> list[bytes]:
    """``PATH(index, D[size])``: the audit path of leaf ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end, perfect))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, perfect))
            start += k
    path.reverse()  # the RFC lists the path from the leaf upwards
    return path


def consistency_proof(first: int, second: int, perfect: PerfectHash) -> list[bytes]:
    """``PROOF(first, D[second])``: that the tree of ``first`` leaves is a prefix of the tree of
    ``second`` leaves. Empty when ``first`` is 0 or equal to ``second``."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from {first} to {second} leaves")
    if first in (0, second):
        return []
    proof: list[bytes] = []
    m, start, end, complete = first, 0, second, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(subtree_hash(start + k, end, perfect))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, perfect))
            m -= k
            start += k
            complete = False
    if not complete:
        proof.append(subtree_hash(start, end, perfect))
    proof.reverse()
    return proof


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """RFC 9162 2.1.3.2: that the leaf with hash ``leaf`` is at ``index`` in the tree of ``size``
    leaves with root ``root_hash``. Raises :class:`ProofError` when it is not proven."""
    _check_hash(leaf, "the leaf hash")
    _check_hash(root_hash, "the root hash")
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} cannot be in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p, "a proof hash")
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    if r != root_hash:
        raise ProofError("the inclusion proof does not lead to the root hash")


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> None:
    """RFC 9162 2.1.4.2: that the tree of ``first`` leaves with root ``first_root`` is a prefix of
    the tree of ``second`` leaves with root ``second_root``. Raises :class:`ProofError` when not."""
    _check_hash(first_root, "the first root hash")
    _check_hash(second_root, "the second root hash")
    if not 0 <= first <= second:
        raise ProofError(f"a tree of {first} leaves cannot precede one of {second}")
    if first == 0 or first == second:
        if proof:
            raise ProofError("a consistency proof from an empty or equal tree must be empty")
        if first == 0 and first_root != EMPTY_ROOT:
            raise ProofError("the root of an empty tree is the hash of nothing")
        if first == second and first_root != second_root:
            raise ProofError("two trees of the same size have different roots")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    for c in proof:
        _check_hash(c, "a proof hash")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if fr != first_root:
        raise ProofError("the consistency proof does not lead to the first root hash")
    if sr != second_root:
        raise ProofError("the consistency proof does not lead to the second root hash")
