"""The hub's other kinds of data the retention run deletes (written in part pages of issue 16)."""

SWEEPS: dict = {}  # type: ignore[type-arg]
