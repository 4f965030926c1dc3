"""Template context: the menu this login is offered.

Which pages, in which order, is decided in :mod:`.menu` (from ``regie.roster.access``, through
``roster.services``), so nobody is shown a link to a 403. ``core/base.html`` renders
:attr:`Navigation.entries` and knows nothing of roles. A page that pupils and staff both reach
(the 403 and 404 pages) asks :attr:`Navigation.pupil` whom it addresses: "je" or "u".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise

from .menu import menu_for
from .services import student_for


@dataclass(frozen=True)
class MenuEntry:
    label: str | Promise
    url: str
    current: bool = False  # the page shown is this entry's (aria-current="page")


@dataclass(frozen=True)
class Navigation:
    entries: tuple[MenuEntry, ...] = field(default_factory=tuple)
    user: Any = None

    @cached_property
    def pupil(self) -> bool:
        """Whether the reader is a pupil (who is addressed with "je"; everyone else with "u").
        Asked only by the pages that need it: no query on the others."""
        return self.user is not None and student_for(self.user) is not None


def _current(path: str, urls: list[str]) -> str | None:
    """The entry the page at ``path`` belongs to: the longest entry URL it starts with (the
    groups page, not the schools page above it, for /school/groepen/)."""
    matching = [url for url in urls if path.startswith(url)]
    return max(matching, key=len) if matching else None


def navigation(request: HttpRequest) -> dict[str, Navigation]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or settings.ROLE == "oversight":
        # the sector dashboard's deployable serves none of the hub's pages: no hub menu
        return {"nav": Navigation()}
    wanted = [(item.label, reverse(item.url_name)) for item in menu_for(user)]
    current = _current(request.path, [url for _label, url in wanted])
    entries = tuple(MenuEntry(label, url, url == current) for label, url in wanted)
    return {"nav": Navigation(entries=entries, user=user)}
