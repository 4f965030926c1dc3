"""Pausing Python's cyclic garbage collector around work that builds many objects at once.

A large import builds hundreds of thousands of records, rows and sets that live until it ends and
form no reference cycles. The collector still runs over all of them again and again as they are
made (a full collection walks every tracked object in the process), which costs a third of the
time of comparing a large export with the hub. :func:`collector_paused` switches automatic
collection off for the duration of a block and back on afterwards; reference counting still frees
everything that is not part of a cycle at once, and cycles made meanwhile are collected by the
first automatic collection after it.

Automatic collection is process-wide: several blocks at once (threads) share one pause, which
ends when the last of them ends, and a collector that was off before the first stays off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block without automatic cyclic garbage collection (see the module docstring)."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
