"""Secrets the hub must be able to use again (an identity provider's client secret), sealed at rest.

A client secret for the school's identity provider cannot be hashed: the hub sends it to the
provider's token endpoint. It is kept encrypted instead, with Fernet (AES-128-CBC with
HMAC-SHA-256, from the ``cryptography`` package) under a key derived from Django's
``SECRET_KEY`` with HKDF-SHA-256 (RFC 5869) and a purpose label, so the key is never the secret
key itself and never in the database. Keys from ``SECRET_KEY_FALLBACKS`` still open what they
sealed, so the secret key can be rotated: save the provider again to seal it under the new key.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PURPOSE = b"regie.accounts.identity-provider.client-secret.v1"


class Unsealable(Exception):
    """A sealed value that none of the current keys opens (the secret key changed)."""


def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys() -> MultiFernet:
    secret_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(key) for key in secret_keys])


def seal(value: str) -> str:
    """``value`` encrypted under the current secret key (a different text every time)."""
    return _keys().encrypt(value.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str:
    """The value :func:`seal` sealed; :class:`Unsealable` when no current key opens it."""
    try:
        return _keys().decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        raise Unsealable("the sealed value cannot be opened with the current secret keys") from None
