"""Checks for the identifiers of Dutch education.

Every check raises :class:`InvalidIdentifier` with a reason that never contains the value itself,
so that the message may be shown, logged or returned in an error response.

- BSN (burgerservicenummer): 9 digits (8-digit numbers are written with a leading zero) passing the
  11-proef: ``9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11)``, and not all zeros.
- Onderwijsnummer: 9 digits starting with ``10``, passing the onderwijsnummer variant of the
  11-proef: ``9·d1 + … + 2·d8 + 1·d9 ≡ 5 (mod 11)``.
- PGN (persoonsgebonden nummer): a BSN or an onderwijsnummer.
- BRIN: 2 digits + 2 letters, optionally followed by a 2-digit vestiging number.
- KvK number: 8 digits.
- OIN (Organisatie-identificatienummer): 20 digits.
- ECK iD (ketenID): an ``https`` URI with a host and a path, of URI characters only (RFC 3986
  §2), without query or fragment: ``https://ketenid.example/201703/0a1b…``. The chain issues it;
  regie checks its form, never its content (the number service does that).
"""

from __future__ import annotations

import re

_NINE_DIGITS = re.compile(r"[0-9]{9}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_BRIN = re.compile(r"[0-9]{2}[A-Z]{2}([0-9]{2})?")
_KVK = re.compile(r"[0-9]{8}")
_OIN = re.compile(r"[0-9]{20}")
_ECK_ID = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~!$&'()*+,;=:@%/-]+")


class InvalidIdentifier(ValueError):
    """An identifier failed its check. The message names the reason, never the value."""


def _weighted_sum(digits: str) -> int:
    return sum(
        int(digit) * weight for digit, weight in zip(digits[:8], range(9, 1, -1), strict=True)
    )


def is_valid_bsn(value: str) -> bool:
    if not _NINE_DIGITS.fullmatch(value) or value == "000000000":
        return False
    return (_weighted_sum(value) - int(value[8])) % 11 == 0


def is_valid_onderwijsnummer(value: str) -> bool:
    if not _NINE_DIGITS.fullmatch(value) or not value.startswith("10"):
        return False
    return (_weighted_sum(value) + int(value[8])) % 11 == 5


def check_pgn(value: str) -> str:
    """Return ``value`` unchanged when it is a BSN or onderwijsnummer; raise otherwise.

    The PGN is not trimmed or normalised: leading zeros are part of it.
    """
    if value == "":
        raise InvalidIdentifier("empty PGN")
    if not _NINE_DIGITS.fullmatch(value):
        raise InvalidIdentifier("a PGN is exactly 9 digits (BSN or onderwijsnummer)")
    if value.startswith("10") and is_valid_onderwijsnummer(value):
        return value
    if is_valid_bsn(value):
        return value
    if value.startswith("10"):
        raise InvalidIdentifier("fails the 11-proef for both BSN and onderwijsnummer")
    raise InvalidIdentifier("fails the BSN 11-proef")


def check_bsn(value: str) -> str:
    """Return ``value`` unchanged when it is a BSN; raise otherwise (leading zeros matter)."""
    if value == "":
        raise InvalidIdentifier("empty BSN")
    if not _NINE_DIGITS.fullmatch(value):
        raise InvalidIdentifier("a BSN is exactly 9 digits")
    if not is_valid_bsn(value):
        raise InvalidIdentifier("fails the BSN 11-proef")
    return value


def check_onderwijsnummer(value: str) -> str:
    """Return ``value`` unchanged when it is an onderwijsnummer; raise otherwise."""
    if value == "":
        raise InvalidIdentifier("empty onderwijsnummer")
    if not _NINE_DIGITS.fullmatch(value) or not value.startswith("10"):
        raise InvalidIdentifier("an onderwijsnummer is 9 digits starting with 10")
    if not is_valid_onderwijsnummer(value):
        raise InvalidIdentifier("fails the onderwijsnummer 11-proef")
    return value


def check_hpgn(value: str) -> str:
    """An HPgn is the first-step hash: 64 lowercase hexadecimal characters."""
    if value == "":
        raise InvalidIdentifier("empty HPgn")
    if len(value) != 64:
        raise InvalidIdentifier(f"an HPgn is 64 hexadecimal characters; this one has {len(value)}")
    if not _HEX64.fullmatch(value):
        raise InvalidIdentifier("an HPgn consists of lowercase hexadecimal characters (0-9, a-f)")
    return value


def check_brin(value: str) -> str:
    if not _BRIN.fullmatch(value):
        raise InvalidIdentifier(
            "a BRIN is 2 digits and 2 capital letters, optionally 2 digits more"
        )
    return value


def check_kvk(value: str) -> str:
    if not _KVK.fullmatch(value):
        raise InvalidIdentifier("a KvK number is 8 digits")
    return value


def check_oin(value: str) -> str:
    if not _OIN.fullmatch(value):
        raise InvalidIdentifier("an OIN is 20 digits")
    return value


def check_eck_id(value: str) -> str:
    """Return ``value`` when it has the form of an ECK iD; raise otherwise (one check for every
    format that carries one)."""
    if value == "":
        raise InvalidIdentifier("empty ECK iD")
    if not _ECK_ID.fullmatch(value):
        raise InvalidIdentifier(
            "an ECK iD is an https URI with a host and a path (no spaces, query or fragment)"
        )
    return value
