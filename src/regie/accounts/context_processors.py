"""Template context: the menu this login is offered.

The menu shows only pages the login may open: the same rules as the pages themselves
(``regie.roster.access``, through ``roster.services``), so nobody is shown a link to a 403.
``core/base.html`` renders :attr:`Navigation.entries` and knows nothing of roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.roster import services as roster

from .services import student_for


@dataclass(frozen=True)
class MenuEntry:
    label: str | Promise
    url: str
    current: bool = False  # the page shown is this entry's (aria-current="page")


@dataclass(frozen=True)
class Navigation:
    entries: tuple[MenuEntry, ...] = field(default_factory=tuple)


def _entry(request: HttpRequest, label: str | Promise, url_name: str) -> MenuEntry:
    url = reverse(url_name)
    return MenuEntry(label=label, url=url, current=request.path.startswith(url))


def navigation(request: HttpRequest) -> dict[str, Navigation]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": Navigation()}
    access = roster.access_for(user)
    wanted: list[tuple[str | Promise, str]] = []
    if access.teaches() or student_for(user) is not None:
        wanted.append((_("Mijn leermiddelen"), "tiles"))
    if access.teaches():
        wanted.append((_("Resultaten"), "results"))
    if access.sees_roster():
        wanted += [
            (_("Scholen"), "roster:schools"),
            (_("Groepen"), "roster:groups"),
            (_("Leerlingen"), "roster:students"),
        ]
    if access.sees_whole_school():
        wanted.append((_("Ouders"), "roster:guardians"))
    if access.imports():
        wanted.append((_("Importeren"), "roster:import"))
    if access.uses_register():
        wanted.append((_("Privacy"), "agreements:overview"))
    return {"nav": Navigation(entries=tuple(_entry(request, *entry) for entry in wanted))}
