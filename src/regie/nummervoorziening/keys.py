"""The number service's secret keys: versioned, kept in files outside the database.

Layout of ``REGIE_NV_KEYS_DIR``: one file per key, ``{kind}-v{version}.key``, holding 64 random
bytes as 128 hexadecimal characters. The highest version of each kind is current; every version
from 1 up to it must be present, because older values are converted forward (see
``derivation``). A missing or unreadable file stops the service with a message naming that file.

Kinds:

- ``anchor`` — blinds an HPgn into the internal anchor that substitutions are stored under. It has
  one version only: rotating it would orphan every substitution.
- ``stampseudonym``, ``eckid``, ``supplier`` — one per layer of the pseudonym chain; rotatable.

Production deployments mount the directory from a secret store (or replace :class:`Keyring` with a
KMS/HSM-backed one with the same interface).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

KINDS = ("anchor", "stampseudonym", "eckid", "supplier")
ROTATABLE_KINDS = ("stampseudonym", "eckid", "supplier")
KEY_BYTES = 64
_FILE_NAME = re.compile(r"(?P<kind>[a-z]+)-v(?P<version>[0-9]+)\.key")
_KEY_TEXT = re.compile(r"[0-9a-f]{128}")


class KeyringError(Exception):
    """The keyring cannot be loaded. The message names the file, never a key."""


@dataclass(frozen=True)
class Keyring:
    """All versions of all keys; ``keys[kind][version - 1]`` is the key of that version."""

    keys: dict[str, tuple[bytes, ...]]
    directory: Path

    def current_version(self, kind: str) -> int:
        return len(self.keys[kind])

    def key(self, kind: str, version: int) -> bytes:
        versions = self.keys[kind]
        if not 1 <= version <= len(versions):
            raise KeyError(f"no {kind} key of version {version}")
        return versions[version - 1]


def key_path(directory: Path, kind: str, version: int) -> Path:
    return directory / f"{kind}-v{version}.key"


def _read_key(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KeyringError(f"key file {path} is missing") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not readable as text"
        raise KeyringError(f"key file {path} cannot be read: {reason}") from None
    if not _KEY_TEXT.fullmatch(text):
        raise KeyringError(
            f"key file {path} does not hold a key "
            f"({KEY_BYTES} bytes as 128 lowercase hex characters)"
        )
    return bytes.fromhex(text)


def load_keyring(directory: Path) -> Keyring:
    """Load every key; raise :class:`KeyringError` naming the first file that is wrong."""
    if not directory.is_dir():
        raise KeyringError(
            f"key directory {directory} does not exist: create keys with `regie nv-keys generate`"
        )
    found: dict[str, set[int]] = {kind: set() for kind in KINDS}
    for entry in directory.iterdir():
        match = _FILE_NAME.fullmatch(entry.name)
        if match and match["kind"] in found:
            found[match["kind"]].add(int(match["version"]))
    keys: dict[str, tuple[bytes, ...]] = {}
    for kind in KINDS:
        highest = max(found[kind], default=1)
        if kind == "anchor" and highest > 1:
            raise KeyringError(f"{key_path(directory, kind, 2)}: the anchor key is never rotated")
        keys[kind] = tuple(
            _read_key(key_path(directory, kind, version)) for version in range(1, highest + 1)
        )
    return Keyring(keys=keys, directory=directory)


def _write_key(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")


def generate_keyring(directory: Path) -> list[Path]:
    """Create version 1 of every key that does not exist yet; return the files written."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for kind in KINDS:
        path = key_path(directory, kind, 1)
        if not path.exists():
            _write_key(path)
            written.append(path)
    return written


def add_key_version(directory: Path, kind: str) -> Path:
    """Write the next version of ``kind``'s key (the rotation itself); return its file."""
    if kind not in ROTATABLE_KINDS:
        raise KeyringError(
            f"the {kind} key cannot be rotated; rotatable: {', '.join(ROTATABLE_KINDS)}"
        )
    keyring = load_keyring(directory)
    path = key_path(directory, kind, keyring.current_version(kind) + 1)
    _write_key(path)
    return path
