"""The leaf: what the tree commits to for one audit event, without personal data.

A leaf is the UTF-8 bytes of an RFC 8785 canonical JSON object::

    {"actor": "<actor role>", "details": "<hex>", "subject": "<hex or empty>",
     "time": "<RFC 3339 UTC with microseconds>", "type": "<event type>", "v": 1}

- ``actor``: the actor's role, the part before the first ``:`` (never the id);
- ``subject``: ``""`` without a subject, else the keyed hash of the subject string (the key lives
  outside the database: :func:`regie.audit.services.subject_hash` derives it, in one place);
- ``details``: :func:`details_commitment`, SHA-256 of the canonical JSON of the actor, subject,
  details and a random salt kept in the side row. Erasing the side row leaves a commitment no one
  can open, while the leaf — and every proof — stays as it was.

No Django here: ``regie-verify`` opens commitments with the same functions.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections.abc import Mapping
from typing import Any

import rfc8785

VERSION = 1
SALT_BYTES = 16


def new_salt() -> str:
    """16 random bytes as unpadded base64url: the salt of one side row."""
    return base64.urlsafe_b64encode(os.urandom(SALT_BYTES)).rstrip(b"=").decode("ascii")


def actor_role(actor: str) -> str:
    """``user:42`` → ``user``; ``system`` → ``system``."""
    return actor.split(":", 1)[0]


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with microseconds: ``2026-12-06T22:00:00.123456Z``."""
    if moment.tzinfo is None:
        raise ValueError("an audit time must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def details_commitment(actor: str, subject: str, details: Mapping[str, Any], salt: str) -> str:
    """Hex SHA-256 of the canonical JSON of the side row's personal part."""
    opened: dict[str, Any] = {
        "actor": actor,
        "details": dict(details),
        "salt": salt,
        "subject": subject,
    }
    return hashlib.sha256(rfc8785.dumps(opened)).hexdigest()


def make_leaf(
    *, event_type: str, occurred_at: dt.datetime, actor: str, subject_hash: str, details_hash: str
) -> bytes:
    fields: dict[str, Any] = {
        "actor": actor_role(actor),
        "details": details_hash,
        "subject": subject_hash,
        "time": format_time(occurred_at),
        "type": event_type,
        "v": VERSION,
    }
    return rfc8785.dumps(fields)
