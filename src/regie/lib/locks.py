"""One process at a time: an exclusive advisory lock on a file (``fcntl.flock``).

The lock belongs to the open file: it lasts while the file stays open and ends with the process,
however it ends (a killed process leaves no stale lock behind). The file holds a short note of
who holds it, for the message another process gives when it finds the lock taken.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO


def hold(path: Path, note: str) -> TextIO | None:
    """Take the lock on ``path`` and write ``note`` into it; None when another process holds it.
    Keep the returned file open for as long as the lock must last."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(note)
    handle.flush()
    os.fsync(handle.fileno())
    return handle


def holder_note(path: Path) -> str:
    """What the process that holds (or last held) the lock on ``path`` wrote into it."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
