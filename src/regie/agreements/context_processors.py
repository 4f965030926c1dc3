"""Template context: whether to show the register in the menu (privacy officers and admins)."""

from __future__ import annotations

from django.http import HttpRequest

from . import services


def register(request: HttpRequest) -> dict[str, bool]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"may_use_register": False}
    return {"may_use_register": services.access_for(user).any}
