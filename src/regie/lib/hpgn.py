"""The first step of the ECK iD chain: PGN → HPgn, computed on the school side.

Exactly as the national chain does it (DESIGN §4.1), so that a real LAS or the real
Nummervoorziening interoperates::

    hpgn = lowercase_hex(scrypt(password=pgn.lower().encode("utf-8"), salt=base64decode(salt),
                                n=131072, r=8, p=4, dklen=32))

The PGN is not trimmed or normalised. The cost parameters are fixed by the chain and must never be
lowered: one hash costs about 1.5–2 s of CPU and 128 MiB of memory. The result is brute-forceable
by anyone with the salt, so it is personal data: never log or store it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

SCRYPT_N = 131072
SCRYPT_R = 8
SCRYPT_P = 4
SCRYPT_DKLEN = 32
# scrypt needs 128·r·N bytes for V plus 128·r·p for B and a little more; OpenSSL refuses to run
# when its limit is below that, so give it the working set with some room and no more.
SCRYPT_MEMORY_BYTES = 128 * SCRYPT_R * SCRYPT_N
SCRYPT_MAXMEM = SCRYPT_MEMORY_BYTES + 128 * SCRYPT_R * SCRYPT_P + 1024 * 1024


class InvalidSalt(ValueError):
    """The configured salt is not valid base64."""


def decode_salt(salt_b64: str) -> bytes:
    try:
        return base64.b64decode(salt_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSalt("the HPgn salt must be base64 (REGIE_HPGN_SALT)") from None


def hpgn(pgn: str, salt: bytes) -> str:
    """The HPgn of ``pgn`` (any string: the chain also hashes e.g. teacher identifiers)."""
    digest = hashlib.scrypt(
        pgn.lower().encode("utf-8"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=SCRYPT_DKLEN,
        maxmem=SCRYPT_MAXMEM,
    )
    return digest.hex()
