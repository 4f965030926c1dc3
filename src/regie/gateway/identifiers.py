"""Per-supplier keyed identifiers for everything that is not a pupil.

A pupil's identifier at a supplier is its supplier pseudonym from the number service
(:mod:`regie.gateway.pseudonyms`). Schools, boards, groups, sessions, enrollments and
staff get a **keyed id** instead: HMAC-SHA-256 under a key derived from ``IDENTIFIER_KEY``
(``REGIE_IDENTIFIER_KEY``; by default the secret key) and the supplier's KvK number, truncated to
32 hex characters. The secret key can be rotated without changing these ids by keeping the old one
as the identifier key. No internal id leaves the hub, and two
suppliers cannot match their ids. The same (supplier, kind, parts) always gives the same id, on
every channel — the OneRoster ``sourcedId`` of a teacher equals the ``sub`` of their launch.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings
from django.utils.crypto import salted_hmac

from regie.agreements.models import Supplier

STAFF = "staff"


@lru_cache(maxsize=256)
def _key(identifier_key: str, kvk: str) -> bytes:
    return salted_hmac(
        "regie.gateway.oneroster.sourcedId", kvk, secret=identifier_key, algorithm="sha256"
    ).digest()


def keyed(supplier: Supplier | str, kind: str, *parts: object) -> str:
    """The keyed id of (``kind``, ``parts``) at ``supplier`` (a Supplier or its KvK number)."""
    kvk = supplier if isinstance(supplier, str) else supplier.kvk
    message = ":".join([kind, *map(str, parts)]).encode("ascii")
    return hmac.new(_key(settings.IDENTIFIER_KEY, kvk), message, hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=256)
def _purpose_key(identifier_key: str, kvk: str, purpose: str) -> bytes:
    return salted_hmac(
        f"regie.gateway.{purpose}", kvk, secret=identifier_key, algorithm="sha256"
    ).digest()


def purpose_key(supplier: Supplier | str, purpose: str) -> bytes:
    """The supplier's key for ``purpose``, derived from ``IDENTIFIER_KEY`` as the keyed ids' is
    (32 bytes): for :func:`digest`, or to key many digests at once."""
    kvk = supplier if isinstance(supplier, str) else supplier.kvk
    return _purpose_key(settings.IDENTIFIER_KEY, kvk, purpose)


def digest(supplier: Supplier | str, purpose: str, data: bytes) -> str:
    """A keyed digest of ``data`` at ``supplier`` for ``purpose``: keyed BLAKE2b (a MAC) under
    :func:`purpose_key`, 32 hex. What the hub keeps about what went out
    (:mod:`.oneroster.changes`) is stored this way, so that it names nothing a supplier holds."""
    return hashlib.blake2b(data, key=purpose_key(supplier, purpose), digest_size=16).hexdigest()


def staff_id(supplier: Supplier | str, staff_pk: int) -> str:
    """A member of staff's identifier at ``supplier``: OIDC ``sub`` and OneRoster ``sourcedId``."""
    return keyed(supplier, STAFF, staff_pk)
