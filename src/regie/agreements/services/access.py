"""Who may see and change what in the register (need-to-know)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from regie.core.models import Board, School
from regie.roster.models import Staff, StaffRole

from ..models import (
    Licence,
    ProcessingAgreement,
)
from .common import User

BOARD_EDITOR_ROLES = {StaffRole.PRIVACY_OFFICER, StaffRole.BOARD_ADMIN}
SCHOOL_EDITOR_ROLES = {StaffRole.PRIVACY_OFFICER, StaffRole.SCHOOL_ADMIN, StaffRole.BOARD_ADMIN}


@dataclass(frozen=True)
class Access:
    boards: frozenset[int]  # board-level editors
    schools: frozenset[int]  # school-level editors (includes every school of ``boards``)

    @property
    def any(self) -> bool:
        return bool(self.boards or self.schools)


def access_for(user: User) -> Access:
    if not user.is_authenticated:
        return Access(frozenset(), frozenset())
    if user.is_superuser:
        return Access(
            frozenset(Board.objects.values_list("pk", flat=True)),
            frozenset(School.objects.values_list("pk", flat=True)),
        )
    boards: set[int] = set()
    schools: set[int] = set()
    memberships = Staff.objects.filter(user=user, is_active=True).values_list(
        "board_id", "school_id", "roles"
    )
    for board_id, school_id, roles in memberships:
        if BOARD_EDITOR_ROLES & set(roles):
            boards.add(board_id)
        if school_id is not None and SCHOOL_EDITOR_ROLES & set(roles):
            schools.add(school_id)
    schools.update(School.objects.filter(board_id__in=boards).values_list("pk", flat=True))
    return Access(frozenset(boards), frozenset(schools))


def editable_boards(user: User) -> QuerySet[Board]:
    return Board.objects.filter(pk__in=access_for(user).boards)


def editable_schools(user: User) -> QuerySet[School]:
    return School.objects.filter(pk__in=access_for(user).schools).select_related("board")


def visible_agreements(user: User) -> QuerySet[ProcessingAgreement]:
    """The agreements of the boards the user edits for (offers are in :func:`offers`)."""
    return ProcessingAgreement.objects.filter(board_id__in=access_for(user).boards).select_related(
        "supplier", "board"
    )


def offers() -> QuerySet[ProcessingAgreement]:
    return ProcessingAgreement.objects.offers().select_related("supplier")


def visible_licences(user: User) -> QuerySet[Licence]:
    return Licence.objects.filter(school_id__in=access_for(user).schools).select_related(
        "product__supplier", "school", "school_year", "group"
    )
