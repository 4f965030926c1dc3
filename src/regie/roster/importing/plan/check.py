"""What only the hub can check about an export, before any comparing: whose schools, which
sectors, and which pupils' PGNs must still be exchanged for pseudonyms."""

from __future__ import annotations

from typing import Any

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
                Problem(file, line, "school", f"school {school.code} belongs to another board")
            )
        elif school is None and record.sector is None:
            problems.append(
                Problem(
                    file,
                    line,
                    field="sector",
                    reason=f"school {school_code(record)} is new to the hub and its sector is not "
                    "in the export: add the school first (beheer) or give its sector",
                )
            )
        elif school is not None and record.sector is not None and record.sector != school.sector:
            problems.append(
                Problem(
                    file,
                    line,
                    field="sector",
                    reason=f"school {school.code} is {school.sector} in the hub, "
                    f"{record.sector} in the export",
                )
            )
    return problems


def column_problems(export: RosterExport) -> list[Problem]:
    """A problem for each field of each record that does not fit its database column, named by
    the record's line and field (the parsers name their own files' fields)."""
    file = "the export"
    kinds: list[list[Any]] = [
        export.schools,
        export.school_years,
        export.groups,
        export.students,
        export.guardians,
        export.staff,
    ]
    return [
        Problem(file, record.line, attribute, reason)
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
