"""Template context: which parts of the hub the menu offers this login.

The menu shows only pages the login may open: the same rules as the pages themselves
(``regie.roster.access``, through ``roster.services``), so nobody is shown a link to a 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from regie.roster import services as roster

from .services import student_for


@dataclass(frozen=True)
class Navigation:
    tiles: bool = False  # 'Mijn leermiddelen': pupils and teachers
    results: bool = False
    roster: bool = False
    guardians: bool = False
    imports: bool = False
    register: bool = False


def navigation(request: HttpRequest) -> dict[str, Navigation]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": Navigation()}
    access = roster.access_for(user)
    return {
        "nav": Navigation(
            tiles=access.teaches() or student_for(user) is not None,
            results=access.teaches(),
            roster=access.sees_roster(),
            guardians=access.sees_whole_school(),
            imports=access.imports(),
            register=access.uses_register(),
        )
    }
