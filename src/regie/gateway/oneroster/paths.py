"""``sourcedId`` values in request paths, safe behind any proxy.

The OneRoster 1.2 REST binding puts a ``sourcedId`` in the path (``/users/{sourcedId}``). A pupil's
``sourcedId`` is its supplier pseudonym, a URI (``https://…/lp/1/<128 hex>``): raw, its ``//`` is
merged into ``/`` by a proxy that merges slashes (nginx's default); percent-encoded, its ``%2F`` is
decoded and merged by some proxies and refused by others. So:

- the **path form** of a ``sourcedId`` (:func:`path_form`) is, for a URI, its last segment — the
  pseudonym's hex, unique on its own — and otherwise the ``sourcedId`` percent-encoded (every id
  the hub makes is URL-safe already; a supplier's own line-item ids may not be). ``href`` values
  use it;
- a path **matches** a ``sourcedId`` (:func:`matches`) in its path form, or as the whole
  ``sourcedId`` — raw or percent-encoded (the server decodes both alike), also with its slashes
  merged on the way.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_SLASHES = re.compile(r"/{2,}")


def is_uri(sourced_id: str) -> bool:
    return "://" in sourced_id


def path_form(sourced_id: str) -> str:
    """How ``sourced_id`` goes into a path."""
    if is_uri(sourced_id):
        sourced_id = sourced_id.rstrip("/").rsplit("/", 1)[-1]
    return quote(sourced_id, safe="")


def matches(asked: str, sourced_id: str) -> bool:
    """Whether the path value ``asked`` names ``sourced_id``."""
    if asked == sourced_id:
        return True
    if not is_uri(sourced_id):
        return False
    if asked == sourced_id.rstrip("/").rsplit("/", 1)[-1]:
        return True
    return "/" in asked and _SLASHES.sub("/", asked) == _SLASHES.sub("/", sourced_id)


def tail(asked: str) -> str | None:
    """The path form in ``asked`` when it is a path form or a (merged) URI, for a lookup by the
    end of a stored ``sourcedId``; None when ``asked`` is neither."""
    if "/" not in asked:
        return asked or None
    if not asked.startswith(("http:/", "https:/")):
        return None
    return asked.rstrip("/").rsplit("/", 1)[-1] or None
