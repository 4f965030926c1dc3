"""Writing a bulk OneRoster 1.2 CSV zip in regie's profile (§2, §3), read back equal by
:func:`regie.roster.importing.oneroster.parse_oneroster`."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

from regie.roster.importing.records import Gender, RosterExport, StaffRole

from .columns import (
    CLASS_TYPES,
    GUARDIAN_ROLES,
    MANIFEST,
    ROLES_COLUMN,
    SECTOR_COLUMN,
    SPEC_FILES,
    STAFF_ROLES,
    TABLES,
    words,
)

# Every column of each file, in the binding's order, extensions last (§3).
WRITTEN = {
    "orgs.csv": (
        *words("sourcedId status dateLastModified name type identifier parentSourcedId"),
        SECTOR_COLUMN,
    ),
    "academicSessions.csv": words(
        "sourcedId status dateLastModified title type startDate endDate parentSourcedId schoolYear"
    ),
    "courses.csv": words(
        "sourcedId status dateLastModified schoolYearSourcedId title courseCode grades "
        "orgSourcedId subjects subjectCodes resourceSourcedIds"
    ),
    "classes.csv": words(
        "sourcedId status dateLastModified title grades courseSourcedId classCode classType "
        "location schoolSourcedId termSourcedIds subjects subjectCodes periods resourceSourcedIds"
    ),
    "users.csv": (
        *words(
            "sourcedId status dateLastModified enabledUser orgSourcedIds role username userIds "
            "givenName familyName middleName identifier email sms phone agentSourcedIds grades "
            "password userMasterIdentifier resourceSourcedIds preferredGivenName "
            "preferredMiddleName preferredFamilyName primaryOrgSourcedId pronouns"
        ),
        ROLES_COLUMN,
    ),
    "enrollments.csv": words(
        "sourcedId status dateLastModified classSourcedId schoolSourcedId userSourcedId role "
        "primary beginDate endDate"
    ),
    "demographics.csv": TABLES["demographics.csv"].required + TABLES["demographics.csv"].optional,
}
_SEX_NAMES = {Gender.MALE: "male", Gender.FEMALE: "female", Gender.OTHER: "other"}


def _write_csv(
    archive: zipfile.ZipFile, name: str, columns: Iterable[str], rows: Iterable[Iterable[str]]
) -> None:
    """Stream one CSV member (UTF-8, CRLF line ends as RFC 4180 has them) into ``archive``."""
    with (
        archive.open(name, "w") as binary,
        io.TextIOWrapper(binary, encoding="utf-8", newline="") as text,
    ):
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows(rows)


def _school_rows(export: RosterExport) -> Iterator[dict[str, str]]:
    for school in export.schools:
        yield {
            "sourcedId": school.key,
            "name": school.name,
            "type": "school",
            "identifier": school.brin + school.vestiging,
            SECTOR_COLUMN: school.sector.value if school.sector else "",
        }


def _session_rows(export: RosterExport) -> Iterator[dict[str, str]]:
    for year in export.school_years:
        yield {
            "sourcedId": year.key,
            "title": year.title,
            "type": "schoolYear",
            "startDate": year.start.isoformat(),
            "endDate": year.end.isoformat(),
            "schoolYear": f"{year.end.year:04d}",
        }


def _course_rows(export: RosterExport) -> Iterator[dict[str, str]]:
    for group in export.groups:
        yield {
            "sourcedId": group.key,
            "schoolYearSourcedId": group.school_year_key,
            "title": group.name,
            "grades": group.year_level,
            "orgSourcedId": group.school_key,
        }


def _class_rows(export: RosterExport) -> Iterator[dict[str, str]]:
    class_types = {kind: name for name, kind in CLASS_TYPES.items()}
    for group in export.groups:
        yield {
            "sourcedId": group.key,
            "title": group.name,
            "grades": group.year_level,
            "courseSourcedId": group.key,
            "classType": class_types[group.kind],
            "schoolSourcedId": group.school_key,
            "termSourcedIds": group.school_year_key,
        }


def _user_rows(export: RosterExport) -> Iterator[dict[str, str]]:
    guardians_of: dict[str, list[str]] = {}
    for guardian in export.guardians:
        for student_key in guardian.student_keys:
            guardians_of.setdefault(student_key, []).append(guardian.key)
    schools_of = {student.key: student.school_key for student in export.students}
    for student in export.students:
        ids = [f"{{eckid:{student.eck_id}}}"] if student.eck_id else []
        ids += [f"{{pgn:{student.pgn}}}"] if student.pgn else []
        yield {
            **_person(student.key, "student", student.school_key),
            "userIds": ",".join(ids),
            "givenName": student.voornamen,
            "familyName": student.achternaam,
            "middleName": student.voorvoegsel,
            "agentSourcedIds": ",".join(guardians_of.get(student.key, [])),
            "grades": student.year_level,
            "preferredGivenName": student.roepnaam,
        }
    for member in export.staff:
        role = _user_role(member.roles)
        implied = (STAFF_ROLES[role],)
        yield {
            **_person(member.key, role, member.school_key),
            "username": member.email or member.key,
            "givenName": member.voornamen,
            "familyName": member.achternaam,
            "middleName": member.voorvoegsel,
            "email": member.email,
            ROLES_COLUMN: " ".join(member.roles)
            if member.all_roles or member.roles != implied
            else "",
        }
    for guardian in export.guardians:
        if guardian.relation not in GUARDIAN_ROLES:
            raise ValueError("a guardian's relation must be parent, guardian or relative")
        known = [key for key in guardian.student_keys if key in schools_of]
        schools = dict.fromkeys(schools_of[key] for key in known)
        yield {
            **_person(guardian.key, guardian.relation, ""),
            "orgSourcedIds": ",".join(schools),
            "username": guardian.email or guardian.key,
            "givenName": guardian.voornamen,
            "familyName": guardian.achternaam,
            "middleName": guardian.voorvoegsel,
            "email": guardian.email,
            "agentSourcedIds": ",".join(guardian.student_keys),
        }


def _user_role(roles: tuple[StaffRole, ...]) -> str:
    """The OneRoster role of a member: teacher when they teach, else their first role that
    OneRoster has (administrator when none has: regie's roles column then lists them all)."""
    if StaffRole.TEACHER in roles:
        return "teacher"
    names = {regie: name for name, regie in reversed(STAFF_ROLES.items())}
    return next((names[role] for role in roles if role in names), "administrator")


def _person(key: str, role: str, school: str) -> dict[str, str]:
    return {
        "sourcedId": key,
        "enabledUser": "true",
        "orgSourcedIds": school,
        "role": role,
        "username": key,
        "primaryOrgSourcedId": school,
    }


def _enrollment_rows(export: RosterExport) -> Iterator[dict[str, str]]:
    schools = {group.key: group.school_key for group in export.groups}
    people = [("student", student.key, student.group_keys) for student in export.students]
    people += [("teacher", member.key, member.group_keys) for member in export.staff]
    for number, (role, user, group) in enumerate(
        ((role, user, group) for role, user, groups in people for group in groups), start=1
    ):
        yield {
            "sourcedId": f"enrollment-{number}",
            "classSourcedId": group,
            "schoolSourcedId": schools.get(group, ""),
            "userSourcedId": user,
            "role": role,
            "primary": "true" if role == "teacher" else "false",
        }


def _demographic_rows(export: RosterExport) -> Iterator[dict[str, str]]:
    for student in export.students:
        if student.birth_date is None and student.gender is Gender.UNKNOWN:
            continue
        yield {
            "sourcedId": student.key,
            "birthDate": student.birth_date.isoformat() if student.birth_date else "",
            "sex": _SEX_NAMES.get(student.gender, "unspecified"),
        }


def write_oneroster(export: RosterExport, target: Path) -> None:
    """Write ``export`` as a bulk OneRoster 1.2 CSV zip in regie's profile (package docstring).

    Every column of a file is written, in the binding's order; ``status`` and
    ``dateLastModified`` stay blank, as §2 has it for bulk files. A file without rows is left
    out and marked ``absent``, since the binding allows no file without data rows. Guardians'
    ``relation`` must be a OneRoster role: parent, guardian or relative.
    """
    writers = {
        "orgs.csv": _school_rows,
        "academicSessions.csv": _session_rows,
        "courses.csv": _course_rows,
        "classes.csv": _class_rows,
        "users.csv": _user_rows,
        "enrollments.csv": _enrollment_rows,
        "demographics.csv": _demographic_rows,
    }
    written: set[str] = set()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in writers.items():
            generated = rows(export)
            first = next(generated, None)
            if first is None:
                continue
            columns = WRITTEN[name]
            cells = (
                [row.get(column, "") for column in columns] for row in chain([first], generated)
            )
            _write_csv(archive, name, columns, cells)
            written.add(name)
        properties = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
        properties += [("source.systemName", "regie")]
        for file in SPEC_FILES:
            properties.append((f"file.{file}", "bulk" if f"{file}.csv" in written else "absent"))
        _write_csv(archive, MANIFEST, ("propertyName", "value"), properties)
