"""The OpenID provider's signing keys: files outside the database, rotated, published as JWKS.

The ID tokens are signed with ES256 or RS256 (:data:`ALGORITHMS`, what discovery announces);
the hub's Ed25519 key (alg ``EdDSA``, kid ``ed25519-{created}-{hex}``) signs the orders to
suppliers (RFC 9421, ``regie.lib.supplier_orders``) and never an ID token. Both kinds live in
the same directory, are made and rotated together and are published in the same JWKS.

Each key is one JSON Web Key file (private, mode 0600) named ``{alg}-{created}-{kid}.json`` in
``REGIE_OIDC_KEYS_DIR``. The newest key of an algorithm signs; every key in the directory is
published in the JWKS, so tokens signed with an older key stay verifiable. :func:`rotate` adds a
new key per algorithm; :func:`retire` removes keys that stopped signing longer ago than a token
lives (``REGIE_OIDC_TOKEN_TTL_SECONDS``), after which nothing they signed is still valid.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

ALGORITHMS = ("ES256", "RS256")
"""The algorithms of ID tokens (and of discovery's ``id_token_signing_alg_values_supported``)."""
ORDER_ALGORITHM = "EdDSA"
"""The algorithm of the hub's order-signing key (Ed25519)."""
KEY_ALGORITHMS = (*ALGORITHMS, ORDER_ALGORITHM)


@dataclass(frozen=True)
class SigningKey:
    alg: str
    kid: str
    created: int
    path: Path
    key: ECKey | RSAKey | OKPKey


def _generate(alg: str, created: int) -> dict[str, Any]:
    prefix = "ed25519" if alg == ORDER_ALGORITHM else alg.lower()
    kid = f"{prefix}-{created}-{secrets.token_hex(4)}"
    parameters: Any = {"kid": kid, "use": "sig", "alg": alg}
    if alg == ORDER_ALGORITHM:
        return OKPKey.generate_key("Ed25519", parameters=parameters, private=True).as_dict(
            private=True
        )
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=parameters, private=True).as_dict(
            private=True
        )
    return RSAKey.generate_key(2048, parameters=parameters, private=True).as_dict(private=True)


def _write(directory: Path, data: dict[str, Any], created: int) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{data['alg'].lower()}-{created}-{data['kid'].rsplit('-', 1)[1]}.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle)
    return path


def load(directory: Path | None = None) -> list[SigningKey]:
    """Every key in the directory, oldest first (read again when the directory changes)."""
    directory = Path(directory or settings.OIDC_KEYS_DIR)
    if not directory.is_dir():
        return []
    names = tuple(sorted(path.name for path in directory.glob("*.json")))
    return list(_load(directory, names, directory.stat().st_mtime_ns))


@lru_cache(maxsize=8)
def _load(directory: Path, names: tuple[str, ...], stamp: int) -> tuple[SigningKey, ...]:
    """The keys of these files (a new file, a removed one or a change of the directory reloads)."""
    found = []
    for path in (directory / name for name in names):
        data = json.loads(path.read_text())
        alg = data.get("alg")
        if alg not in KEY_ALGORITHMS:
            continue
        key: ECKey | RSAKey | OKPKey
        if alg == ORDER_ALGORITHM:
            key = OKPKey.import_key(data)
        else:
            key = ECKey.import_key(data) if alg == "ES256" else RSAKey.import_key(data)
        created = int(path.name.split("-")[1])
        found.append(SigningKey(alg, data["kid"], created, path, key))
    return tuple(sorted(found, key=lambda item: (item.created, item.kid)))


def ensure(directory: Path | None = None) -> list[Path]:
    """Create a key for each algorithm that has none yet. Returns the new files."""
    directory = Path(directory or settings.OIDC_KEYS_DIR)
    have = {item.alg for item in load(directory)}
    created = int(time.time())
    return [
        _write(directory, _generate(alg, created), created)
        for alg in KEY_ALGORITHMS
        if alg not in have
    ]


def rotate(directory: Path | None = None, now: float | None = None) -> list[Path]:
    """A new signing key for every algorithm; the old ones stay published."""
    directory = Path(directory or settings.OIDC_KEYS_DIR)
    now = time.time() if now is None else now
    created = max([int(now)] + [item.created + 1 for item in load(directory)])
    return [_write(directory, _generate(alg, created), created) for alg in KEY_ALGORITHMS]


def retire(directory: Path | None = None, now: float | None = None) -> list[Path]:
    """Remove keys that were superseded longer ago than a token lives."""
    directory = Path(directory or settings.OIDC_KEYS_DIR)
    now = time.time() if now is None else now
    removed = []
    keys = load(directory)
    for alg in KEY_ALGORITHMS:
        of_alg = [item for item in keys if item.alg == alg]
        for older, newer in itertools.pairwise(of_alg):
            if newer.created + settings.OIDC_TOKEN_TTL_SECONDS < now:
                older.path.unlink()
                removed.append(older.path)
    return removed


def signing_key(alg: str) -> SigningKey:
    """The key that signs with ``alg`` now (the newest); ``EdDSA`` is the order-signing key."""
    keys = [item for item in load() if item.alg == alg]
    if not keys:
        raise LookupError(
            f"no {alg} signing key in REGIE_OIDC_KEYS_DIR: run `regie oidc-keys ensure`"
        )
    return keys[-1]


def order_signing_key() -> tuple[str, Ed25519PrivateKey]:
    """The key id and private key that sign orders to suppliers now (the newest Ed25519 key)."""
    item = signing_key(ORDER_ALGORITHM)
    private = item.key.private_key
    if not isinstance(private, Ed25519PrivateKey):
        raise LookupError("the order-signing key file holds no Ed25519 private key")
    return item.kid, private


def public_jwks() -> dict[str, Any]:
    """The JWKS: the public halves of every key that may have signed a valid token."""
    keys = load()
    result: dict[str, Any] = dict(KeySet([item.key for item in keys]).as_dict(private=False))
    return result
