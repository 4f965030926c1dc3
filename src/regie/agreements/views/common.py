"""What every register page needs: who may use it, and loading records the user may see.

Teachers and users without a register role get 403 on every register page; a record of another
board is a 404, never a hint that it exists.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from regie.core.models import Board, School
from regie.roster.models import Student

from .. import services
from ..models import ProcessingAgreement


def register_user(request: HttpRequest) -> User:
    """The logged-in user, when they may use the register at all (else 403)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    if not services.access_for(user).any:
        raise PermissionDenied
    return user


def editable_boards(request: HttpRequest) -> QuerySet[Board]:
    return services.editable_boards(register_user(request))


def require_board_editor(request: HttpRequest) -> User:
    """Board-level pages (agreements, DPIA, council): privacy officers and board admins."""
    user = register_user(request)
    if not services.access_for(user).boards:
        raise PermissionDenied
    return user


def board_or_404(request: HttpRequest, board_id: int | str | None) -> Board:
    boards = editable_boards(request)
    if board_id in (None, ""):
        board = boards.first()
        if board is None:
            raise Http404
        return board
    return get_object_or_404(boards, pk=board_id)


def agreement_or_404(request: HttpRequest, agreement_id: int) -> ProcessingAgreement:
    return get_object_or_404(services.visible_agreements(register_user(request)), pk=agreement_id)


def school_or_404(request: HttpRequest, school_id: int) -> School:
    return get_object_or_404(services.editable_schools(register_user(request)), pk=school_id)


def student_or_404(request: HttpRequest, student_id: int) -> Student:
    schools = services.access_for(register_user(request)).schools
    return get_object_or_404(
        Student.objects.select_related("school"), pk=student_id, school_id__in=schools
    )


def refused(request: HttpRequest, error: services.Refused) -> None:
    """Show a refusal on the next page (the reason, never a value from the request)."""
    messages.error(request, error.reason)
