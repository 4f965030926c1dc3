"""What of the register a login may see and change. Who may is decided in one place,
:mod:`regie.roster.access` (through ``roster.services``); these are the register's records
within that access."""

from __future__ import annotations

from django.db.models import QuerySet

from regie.core.models import Board, School
from regie.roster import services as roster

from ..models import Licence, ProcessingAgreement
from .common import User


def editable_boards(user: User) -> QuerySet[Board]:
    return roster.register_boards(user)


def editable_schools(user: User) -> QuerySet[School]:
    return roster.register_schools(user)


def visible_agreements(user: User) -> QuerySet[ProcessingAgreement]:
    """The agreements of the boards the user edits for (offers are in :func:`offers`)."""
    return ProcessingAgreement.objects.filter(
        board_id__in=roster.access_for(user).register_boards
    ).select_related("supplier", "board")


def offers() -> QuerySet[ProcessingAgreement]:
    return ProcessingAgreement.objects.offers().select_related("supplier")


def visible_licences(user: User) -> QuerySet[Licence]:
    return Licence.objects.filter(
        school_id__in=roster.access_for(user).register_schools
    ).select_related("product__supplier", "school", "school_year", "group")
