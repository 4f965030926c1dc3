"""The log's checkpoint signing key: a file outside the database, in the C2SP note key form.

The key's name is the log's origin (the first line of every checkpoint): ``REGIE_LOG_ORIGIN``,
by default the OIDC issuer's host name and ``/log``. A key whose name is not the origin is
refused, so checkpoints can never be signed under another log's name.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from regie.audit import signed_note


class LogKeyError(Exception):
    """The log key is missing, unreadable or does not belong to this log."""


def origin() -> str:
    if settings.LOG_ORIGIN:
        return str(settings.LOG_ORIGIN)
    host = urlsplit(settings.OIDC_ISSUER).hostname or "localhost"
    return f"{host}/log"


def key_path() -> Path:
    return Path(settings.LOG_KEY_FILE)


def ensure() -> tuple[Path, bool]:
    """The key file, made (mode 0600) when missing; and whether it was made now."""
    path = key_path()
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = signed_note.generate_signer(origin())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(signer.skey + "\n")
    return path, True


def signer() -> signed_note.Signer:
    path = key_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise LogKeyError(
            f"the log's signing key {path} is missing: make it with `regie log key`"
        ) from None
    except OSError as error:
        raise LogKeyError(
            f"the log's signing key {path} cannot be read ({error.strerror})"
        ) from None
    try:
        key = signed_note.signer_from_skey(text)
    except signed_note.NoteError as error:
        raise LogKeyError(f"the log's signing key {path} is not a note key: {error}") from None
    if key.key_type != signed_note.ED25519:
        raise LogKeyError(f"the log's signing key {path} is a cosigning key, not a log key")
    if key.name != origin():
        raise LogKeyError(
            f"the log's signing key {path} is named {key.name!r}, but the log's origin is "
            f"{origin()!r} (REGIE_LOG_ORIGIN): keep the origin, or make a new log"
        )
    return key


def verifier() -> signed_note.Verifier:
    return signer().verifier
