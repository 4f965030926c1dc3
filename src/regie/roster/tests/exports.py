"""Small, fictional LAS exports built in code, and the hub's boards and personas for them."""

from __future__ import annotations

import random
import secrets
from datetime import date

from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from regie.core.models import Board, School, Sector
from regie.logins import verified_client
from regie.roster.importing.records import (
    Gender,
    GroupKind,
    GroupRecord,
    GuardianRecord,
    Problem,
    RosterExport,
    SchoolRecord,
    SchoolYearRecord,
    StaffRecord,
    StaffRole,
    StudentRecord,
)
from regie.roster.importing.records import Sector as RecordSector
from regie.roster.models import ImportRun, Staff


def in_english(problem: Problem) -> Problem:
    """``problem`` as the English UI shows it: file, field and reason rendered in English (the
    importer's reasons are Dutch msgids; the English texts are the ones the tests know)."""
    with translation.override("en"):
        return Problem(problem.file_text, problem.line, problem.field_text or None, problem.text)


def problems_in_english(export: RosterExport) -> RosterExport:
    """``export`` with its problems :func:`in_english`."""
    export.problems = [in_english(problem) for problem in export.problems]
    return export


BASE = "https://nummervoorziening.regie.example"
FIRST = ("Daan", "Zoë", "Sem", "Noor", "Lucas", "Emma", "Finn", "Julia", "Milan", "Tess")
LAST = (("", "Jansen"), ("de", "Vries"), ("van", "Dijk"), ("", "Bakker"), ("van der", "Berg"))


def eck_id(rng: random.Random) -> str:
    return f"{BASE}/1/{rng.randbytes(64).hex()}"


def school_export(
    rng: random.Random,
    *,
    code: str = "99XA",
    sector: str = Sector.PO,
    pupils: int = 6,
    prefix: str = "A",
) -> RosterExport:
    """One school with two groups, ``pupils`` pupils with ECK iDs, guardians and a teacher."""
    school_key = f"org-{code}"
    year = SchoolYearRecord("sy-2026", "2026-2027", date(2026, 8, 1), date(2027, 7, 31))
    groups = [
        GroupRecord(f"{prefix}-G5", school_key, "Groep 5", GroupKind.GROUP, "5", year.key),
        GroupRecord(f"{prefix}-PK", school_key, "Plusklas", GroupKind.COMPOSITE, "", year.key),
    ]
    students = []
    guardians = []
    for number in range(pupils):
        first = FIRST[number % len(FIRST)]
        voorvoegsel, last = LAST[number % len(LAST)]
        key = f"{prefix}-LL-{number:04d}"
        students.append(
            StudentRecord(
                key=key,
                school_key=school_key,
                roepnaam=first,
                voornamen=f"{first} Maria",
                voorvoegsel=voorvoegsel,
                achternaam=last,
                birth_date=date(2017, 1 + number % 12, 1 + number % 28),
                gender=(Gender.FEMALE, Gender.MALE)[number % 2],
                year_level="5",
                group_keys=(groups[0].key,) + ((groups[1].key,) if number % 3 == 0 else ()),
                eck_id=eck_id(rng),
            )
        )
        guardians.append(
            GuardianRecord(
                key=f"{prefix}-OU-{number:04d}",
                voornamen="Sanne",
                voorvoegsel=voorvoegsel,
                achternaam=last,
                email=f"ouder{number}.{prefix.lower()}@ouders.example",
                relation="parent",
                student_keys=(key,),
            )
        )
    teacher = StaffRecord(
        key=f"{prefix}-MW-1",
        school_key=school_key,
        voornamen="Eva",
        voorvoegsel="",
        achternaam="Smit",
        email=f"eva.smit@{code.lower()}.school.example",
        roles=(StaffRole.TEACHER,),
        group_keys=(groups[0].key,),
    )
    return RosterExport(
        source_format="test",
        schools=[
            SchoolRecord(
                school_key, code[:4], code[4:], f"School {code} (fictief)", RecordSector(sector)
            )
        ],
        school_years=[year],
        groups=groups,
        students=students,
        guardians=guardians,
        staff=[teacher],
    )


def merged(*exports: RosterExport) -> RosterExport:
    result = RosterExport(source_format="test")
    for export in exports:
        result.schools += export.schools
        result.school_years += [
            year for year in export.school_years if year not in result.school_years
        ]
        result.groups += export.groups
        result.students += export.students
        result.guardians += export.guardians
        result.staff += export.staff
    return result


def make_board(number: str = "41001", name: str = "Stichting De Vliet (fictief)") -> Board:
    return Board.objects.create(bestuursnummer=number, name=name, kvk="12345678")


def make_staff(
    board: Board, school: School | None, *roles: StaffRole, username: str | None = None
) -> tuple[User, Staff]:
    """A login with a staff membership in ``school`` (or the board) with ``roles``."""
    username = username or f"mw-{secrets.token_hex(4)}"
    user = User.objects.create_user(username=username, password="fictief-wachtwoord-123")
    staff = Staff.objects.create(
        board=board,
        school=school,
        voornamen="Kim",
        achternaam="Visser",
        email=f"{username}@school.example",
        roles=[str(role) for role in roles],
        user=user,
    )
    return user, staff


def client_for(user: User) -> Client:
    """A client logged in as ``user`` (past the second step, for privileged staff)."""
    return verified_client(user)


def load_school(
    board: Board, rng: random.Random, code: str, prefix: str, pupils: int = 6
) -> School:
    """A school of ``board`` with two groups and ``pupils`` pupils (school year 2026-2027),
    through the real importer."""
    from django.db import transaction

    from regie.roster.importing.plan import apply_export

    export = school_export(rng, code=code, prefix=prefix, pupils=pupils)
    with transaction.atomic():
        apply_export(export, board, actor="test", pseudonyms={})
    return School.objects.get(brin=code[:4], vestiging=code[4:])


def run_the_apply_job(run: ImportRun) -> None:
    """Run the job the apply button queued for ``run`` here, as a worker would (one job
    queued for it: the button queues no second)."""
    from regie.jobs.services import queued
    from regie.roster.jobs import apply_import

    assert queued(apply_import, {"run": str(run.pk)}) == 1
    apply_import(run=str(run.pk))
    run.refresh_from_db()
