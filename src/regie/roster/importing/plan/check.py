"""What only the hub can check about an export, before any comparing: whose schools, which
sectors, and which pupils' PGNs must still be exchanged for pseudonyms."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from regie.core.models import Board, School
from regie.roster.importing.fields import problems_of
from regie.roster.importing.records import Problem, RosterExport, SchoolRecord, StudentRecord
from regie.roster.models import Student


def school_code(record: SchoolRecord) -> str:
    return record.brin + record.vestiging


def check_against_hub(export: RosterExport, board: Board) -> list[Problem]:
    """Problems that only the hub can see: schools of other boards, unknown or wrong sectors;
    and, before anything is written, any value that does not fit its database column (both
    parsers check this as they read; an export built in code is checked here)."""
    problems = column_problems(export)
    known = {
        school.code: school
        for school in School.objects.filter(brin__in={record.brin for record in export.schools})
    }
    for record in export.schools:
        school = known.get(school_code(record))
        file, line = schools_file(export), record.line
        if school is not None and school.board_id != board.pk:
            problems.append(
                Problem(
                    file,
                    line,
                    "school",
                    gettext_noop("school %(school)s hoort bij een ander bestuur"),
                    {"school": school.code},
                )
            )
        elif school is None and record.sector is None:
            problems.append(
                Problem(
                    file,
                    line,
                    field="sector",
                    reason=gettext_noop(
                        "school %(school)s is nieuw voor de hub en de export noemt de sector "
                        "niet: voeg de school eerst toe (beheer) of geef de sector op"
                    ),
                    params={"school": school_code(record)},
                )
            )
        elif school is not None and record.sector is not None and record.sector != school.sector:
            problems.append(
                Problem(
                    file,
                    line,
                    field="sector",
                    reason=gettext_noop(
                        "school %(school)s is %(hub)s in de hub en %(export)s in de export"
                    ),
                    params={
                        "school": school.code,
                        "hub": str(school.sector),
                        "export": str(record.sector),
                    },
                )
            )
    return problems


def column_problems(export: RosterExport) -> list[Problem]:
    """A problem for each field of each record that does not fit its database column, named by
    the record's line and field (the parsers name their own files' fields)."""
    file = gettext_noop("de export")  # translated where shown (Problem.file_text)
    kinds: list[list[Any]] = [
        export.schools,
        export.school_years,
        export.groups,
        export.students,
        export.guardians,
        export.staff,
    ]
    return [
        Problem(file, record.line, attribute, *reason)
        for records in kinds
        for record, attribute, reason in problems_of(records)
    ]


def schools_file(export: RosterExport) -> str:
    """The file of an export that describes its schools, for a problem about a school."""
    return "orgs.csv" if export.source_format.startswith("oneroster") else "EDEXML"


def pgn_students(export: RosterExport, board: Board) -> list[tuple[str, StudentRecord]]:
    """(school code, record) of the pupils whose PGN must be exchanged: new, or without ECK iD.

    A pupil the hub already knows by LAS key and who has an ECK iD is not hashed again.
    """
    codes = {record.key: school_code(record) for record in export.schools}
    wanted = [
        (codes[record.school_key], record)
        for record in export.students
        if record.pgn and not record.eck_id and record.school_key in codes
    ]
    known = set(
        Student.objects.filter(school__board=board)
        .exclude(eck_id="")
        .filter(las_key__in={record.key for _, record in wanted})
        .values_list("school__brin", "school__vestiging", "las_key")
    )
    return [
        (code, record) for code, record in wanted if (code[:4], code[4:], record.key) not in known
    ]
