"""Who may open which portal page: the one place the portal turns a login into children.

- :func:`portal_required`: a page of the portal is for a guardian's login or a pupil's login;
  anyone else (staff, a visitor after logging in) gets 403 — a visitor is sent to log in first.
- :func:`child_for`: every page about a child loads the child here, from
  :func:`regie.accounts.guardians.represented` — the children whose rights this login exercises
  today. Any other pupil, whether it exists or not, is a 404: no page, form, download or proof
  tells a guardian anything about a child that is not theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from regie.accounts import guardians
from regie.accounts.services import student_for
from regie.roster.models import Student

View = TypeVar("View", bound=Callable[..., HttpResponse])


def is_portal_user(user: Any) -> bool:
    return guardians.is_guardian(user) or student_for(user) is not None


def portal_required(view: View) -> View:
    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_portal_user(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return checked  # type: ignore[return-value]


def children(request: HttpRequest) -> list[Student]:
    """The children whose rights the login exercises today (a pupil of 16+: themselves)."""
    return guardians.represented(request.user)


def child_for(request: HttpRequest, student_id: int) -> Student:
    """The child ``student_id`` if this login exercises its rights today; else 404."""
    for child in children(request):
        if child.pk == student_id:
            return child
    raise Http404
