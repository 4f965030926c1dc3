"""The audit log's leaves: what the Merkle tree commits to, byte for byte (issue 14's design).

A leaf is the UTF-8 bytes of an RFC 8785 (JSON Canonicalization Scheme) object and holds no
personal data::

    {"actor": "<role>", "details": "<hex>", "subject": "<hex or empty>",
     "time": "2026-12-06T22:00:00.123456Z", "type": "<event type>", "v": 1}

- ``actor`` is the actor's role only (:func:`actor_role`), never its id;
- ``subject`` is ``""`` or the hub's keyed hash of the subject (that key stays at the hub: it is
  not computed here);
- ``details`` is the :func:`details_commitment` to the side row (actor, subject, details and a
  random salt), which erasure deletes: the leaf then no longer opens, and the tree still verifies.

The hub's ``record()`` and the standalone verifier (``regie-verify``) both use this module, so it
imports no Django.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

VERSION = 1
ERASED = "audit.details.erased"
"""The event type whose leaf covers earlier leaves of the same subject hash whose side rows were
erased."""

_KEYS = ("actor", "details", "subject", "time", "type", "v")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_ROLE = re.compile(r"[a-z][a-z0-9-]*")
_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_SALT = re.compile(r"[A-Za-z0-9_-]{22}")


class LeafError(ValueError):
    """Bytes that are not a leaf of this log: not canonical JSON, another version, a bad field."""


@dataclass(frozen=True)
class Leaf:
    type: str
    time: str
    actor: str
    subject: str
    details: str
    v: int = VERSION

    def encode(self) -> bytes:
        return leaf_bytes(self.type, self.time, self.actor, self.subject, self.details)


def actor_role(actor: str) -> str:
    """The role of an actor (``user:42`` → ``user``): the part before the first ``:``."""
    return actor.partition(":")[0]


def time_text(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds: ``2026-12-06T22:00:00.123456Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("an audit time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """The moment a leaf's ``time`` names; :class:`LeafError` unless in :func:`time_text`'s form."""
    if not _TIME.fullmatch(text):
        raise LeafError("the time is not RFC 3339 UTC with microseconds")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise LeafError("the time is not a real date and time") from None


def new_salt() -> str:
    """16 random bytes as unpadded base64url: the side row's salt."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def details_commitment(actor: str, subject: str, details: Mapping[str, Any], salt: str) -> str:
    """Hex SHA-256 of the canonical JSON of ``{"actor", "details", "salt", "subject"}``: the leaf's
    ``details``. ``actor`` and ``subject`` are the side row's full strings (``user:42``,
    ``student:123``), not the role or the keyed hash. ``rfc8785.CanonicalizationError`` (a
    ``ValueError``) for details RFC 8785 cannot encode exactly: integers beyond ±(2**53 - 1),
    NaN or infinite floats."""
    canonical = rfc8785.dumps(
        {"actor": actor, "details": dict(details), "salt": salt, "subject": subject}
    )
    return hashlib.sha256(canonical).hexdigest()


def leaf_bytes(
    event_type: str, time: datetime | str, actor: str, subject_hash: str, details_hash: str
) -> bytes:
    """The leaf: canonical JSON of the event type, time, actor role, subject hash and details
    commitment. ``actor`` may be the full actor (its role is taken) and ``time`` a datetime."""
    text = time if isinstance(time, str) else time_text(time)
    leaf = Leaf(event_type, text, actor_role(actor), subject_hash, details_hash)
    _check(leaf)
    return rfc8785.dumps(
        {
            "actor": leaf.actor,
            "details": leaf.details,
            "subject": leaf.subject,
            "time": leaf.time,
            "type": leaf.type,
            "v": VERSION,
        }
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise LeafError("a key appears twice")
    return result


def parse_leaf(data: bytes) -> Leaf:
    """The leaf these bytes encode. :class:`LeafError` unless they are exactly the canonical form
    (re-encoding gives the same bytes) of a version 1 leaf with well-formed fields."""
    try:
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as error:
        if isinstance(error, LeafError):
            raise
        raise LeafError("the leaf is not UTF-8 JSON") from None
    if not isinstance(obj, dict):
        raise LeafError("the leaf is not a JSON object")
    version = obj.get("v")
    if type(version) is not int or version != VERSION:
        raise LeafError(f"the leaf's version is not {VERSION}")
    if tuple(sorted(obj)) != _KEYS:
        raise LeafError("the leaf's fields are not " + ", ".join(_KEYS))
    for key in _KEYS[:-1]:
        if not isinstance(obj[key], str):
            raise LeafError(f"the leaf's {key} is not a string")
    leaf = Leaf(obj["type"], obj["time"], obj["actor"], obj["subject"], obj["details"])
    _check(leaf)
    if rfc8785.dumps(obj) != data:
        raise LeafError("the leaf is not in canonical form (RFC 8785)")
    return leaf


def _check(leaf: Leaf) -> None:
    if not _TYPE.fullmatch(leaf.type):
        raise LeafError("the event type is not a dotted lowercase name")
    parse_time(leaf.time)
    if not _ROLE.fullmatch(leaf.actor):
        raise LeafError("the actor is not a role (a lowercase word)")
    if leaf.subject and not _HEX64.fullmatch(leaf.subject):
        raise LeafError("the subject hash is neither empty nor 64 lowercase hex digits")
    if not _HEX64.fullmatch(leaf.details):
        raise LeafError("the details commitment is not 64 lowercase hex digits")


def well_formed_salt(salt: str) -> bool:
    """Whether ``salt`` has :func:`new_salt`'s form (22 base64url characters)."""
    return bool(_SALT.fullmatch(salt))
