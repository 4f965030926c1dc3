"""What every register page needs: its access rule, and loading records the user may see.

Who may use which page is decided in one place (``regie.roster.access``): :data:`register_page`
is for every register user (privacy officers, school and board admins), :data:`board_register_page`
for the board-level editors (privacy officers and board admins). Anyone else gets 403; a record of
another board is a 404, never a hint that it exists.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from regie.core.models import Board, School
from regie.roster import services as roster
from regie.roster.models import Student

from .. import services
from ..models import ProcessingAgreement

register_page = roster.access_required(roster.Access.uses_register)
board_register_page = roster.access_required(roster.Access.edits_board_register)


def user_of(request: HttpRequest) -> User:
    """The logged-in user of a page behind :data:`register_page` or :data:`board_register_page`."""
    user = request.user
    if not isinstance(user, User):  # the decorators let only logged-in users through
        raise Http404
    return user


def editable_boards(request: HttpRequest) -> QuerySet[Board]:
    return services.editable_boards(user_of(request))


def board_or_404(request: HttpRequest, board_id: int | str | None) -> Board:
    boards = editable_boards(request)
    if board_id in (None, ""):
        board = boards.first()
        if board is None:
            raise Http404
        return board
    return get_object_or_404(boards, pk=board_id)


def agreement_or_404(request: HttpRequest, agreement_id: int) -> ProcessingAgreement:
    return get_object_or_404(services.visible_agreements(user_of(request)), pk=agreement_id)


def school_or_404(request: HttpRequest, school_id: int) -> School:
    return get_object_or_404(services.editable_schools(user_of(request)), pk=school_id)


def student_or_404(request: HttpRequest, student_id: int) -> Student:
    return get_object_or_404(
        roster.register_students(user_of(request)).select_related("school"), pk=student_id
    )


def refused(request: HttpRequest, error: services.Refused) -> None:
    """Show a refusal on the next page (the reason, never a value from the request)."""
    messages.error(request, error.reason)
