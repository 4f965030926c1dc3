"""Demo logins for a few pupils of the demo board's primary school (all data is fictional).

:func:`demo_pupil_logins` gives ``leerling1`` … ``leerling3`` a login. When the demo register is
loaded they are pupils of a group licensed for *Rekenwereld*, so that they can launch it from
'Mijn leermiddelen'; otherwise pupils of the school's ordinary groups. Running it again resets the
passwords and keeps the same pupils (a pupil who left, or is no longer in those groups, is
replaced). A username that belongs to a staff login is left alone.

:func:`demo_second_factor` switches the second step of privileged logins off for the demo.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from regie.core.models import Board, School, SchoolYear, Sector
from regie.roster.models import Group, GroupKind, Student, StudentStatus

from .models import PupilAccount
from .services import create_pupil_login

DEMO_PUPILS = ("leerling1", "leerling2", "leerling3")
DEMO_PRODUCT = "Rekenwereld"


def _primary_school(board: Board) -> School | None:
    return board.schools.filter(sector=Sector.PO).order_by("pk").first()


def _groups(school: School) -> list[Group]:
    """The groups to take pupils from: licensed for the demo product this year, else the
    school's ordinary groups (not composite ones such as a plusklas)."""
    today = timezone.localdate()
    groups = Group.objects.filter(school=school, is_active=True).order_by("year_level", "name")
    licensed = groups.filter(
        SchoolYear.containing(today, "licences__school_year__"),
        licences__product__name=DEMO_PRODUCT,
    ).distinct()
    return list(licensed) or list(groups.filter(kind=GroupKind.GROUP))


def _candidates(groups: list[Group], taken: set[int]) -> Iterator[tuple[Student, Group]]:
    """Enrolled pupils with an ECK iD (they need one to get a supplier pseudonym), in order."""
    seen = set(taken)
    for group in groups:
        pupils = group.students.filter(status=StudentStatus.ACTIVE).exclude(eck_id="")
        for pupil in pupils.order_by("pk"):
            if pupil.pk not in seen:
                seen.add(pupil.pk)
                yield pupil, group


def _description(student: Student, groups: list[Group]) -> str:
    group = next((group for group in groups if group.students.filter(pk=student.pk).exists()), None)
    where = f"{group.name}, {student.school.name}" if group else student.school.name
    return f"leerling {where}"


@transaction.atomic
def demo_pupil_logins(board: Board, password: str) -> list[tuple[str, str]]:
    """(username, description) of the demo pupil logins of ``board`` (created once)."""
    school = _primary_school(board)
    if school is None:
        return []
    groups = _groups(school)
    accounts = {
        account.user.username: account
        for account in PupilAccount.objects.filter(
            user__username__in=DEMO_PUPILS,
            student__school=school,
            student__status=StudentStatus.ACTIVE,
            student__groups__in=groups,
        )
        .select_related("user", "student__school")
        .distinct()
    }
    free = _candidates(groups, {account.student_id for account in accounts.values()})
    logins = []
    for username in DEMO_PUPILS:
        account = accounts.get(username)
        if account is not None:
            user, student = account.user, account.student
        else:
            candidate = next(free, None)
            if candidate is None:
                break
            student = candidate[0]
            user_or_none = User.objects.filter(username=username).first()
            if user_or_none is None:
                user = create_pupil_login(student, username, password)
            elif user_or_none.staff_memberships.exists() or user_or_none.is_staff:
                continue  # never turn a staff login into a pupil's
            else:
                user = user_or_none
                PupilAccount.objects.update_or_create(user=user, defaults={"student": student})
        user.set_password(password)
        user.save(update_fields=["password"])
        logins.append((username, _description(student, groups)))
    return logins


def demo_second_factor(environ: Mapping[str, str] | None = None) -> str:
    """Switch the second step off for the demo, unless ``REGIE_REQUIRE_2FA`` was set: its
    passwords are printed for everyone anyway. Returns the demo banner's line about it."""
    if "REGIE_REQUIRE_2FA" not in (os.environ if environ is None else environ):
        settings.REQUIRE_2FA = False
    if settings.REQUIRE_2FA:
        return "  Tweede stap (2FA): aan (REGIE_REQUIRE_2FA) voor fg, bestuur, beheer en beheerder"
    return "  Tweede stap (2FA): uit in de demo; REGIE_REQUIRE_2FA=true zet hem aan"
