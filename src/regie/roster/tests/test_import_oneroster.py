"""Parsing and writing OneRoster 1.2 CSV zips in regie's profile (importing/oneroster.py)."""

from __future__ import annotations

import csv
import dataclasses
import io
import random
import string
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regie.conftest import make_bsn
from regie.roster.importing.oneroster import MAX_PROBLEMS, write_oneroster
from regie.roster.importing.oneroster import parse_oneroster as parse_in_dutch
from regie.roster.importing.records import (
    Gender,
    GroupKind,
    GroupRecord,
    GuardianRecord,
    ImportRefused,
    Limits,
    Problem,
    RosterExport,
    SchoolRecord,
    SchoolYearRecord,
    Sector,
    StaffRecord,
    StaffRole,
    StudentRecord,
)
from regie.roster.tests.exports import in_english, problems_in_english

LIMITS = Limits(max_upload_bytes=2**28, max_uncompressed_bytes=2**29, max_compression_ratio=200)
PGN = make_bsn(random.Random(3))
OTHER_PGN = make_bsn(random.Random(4))
ECK_1 = "https://ketenid.example/1/0a1b2c"
ECK_2 = "https://ketenid.example/1/3d4e5f"

Table = list[list[str]]


def parse_oneroster(*args: Any, **kwargs: Any) -> RosterExport:
    """The parser, its problems in English (:func:`in_english`); a refusal's problem too."""
    try:
        return problems_in_english(parse_in_dutch(*args, **kwargs))
    except ImportRefused as refusal:
        raise ImportRefused(in_english(refusal.problem)) from None


def header(columns: str) -> list[str]:
    return columns.split()


def good_files() -> dict[str, Table]:
    """A small, valid bulk export: two schools of one board, a school year with a term."""
    return {
        "orgs.csv": [
            header("sourcedId status dateLastModified name type identifier parentSourcedId "
            "metadata.sector"),
            ["board-1", "active", "2026-08-01T08:00:00.000Z", "Stichting Fictief", "district", "", "", ""],
            ["school-a", "active", "", "OBS De Vlinder", "school", "12AB", "board-1", "PO"],
            ["school-b", "", "", "CSG Het Baken", "school", "34CD01", "board-1", ""],
        ],
        "academicSessions.csv": [
            header("sourcedId title type startDate endDate parentSourcedId schoolYear"),
            ["sy-2026", "2026-2027", "schoolYear", "2026-08-01", "2027-07-31", "", "2027"],
            ["term-1", "Periode 1", "term", "2026-08-01", "2027-01-31", "sy-2026", "2027"],
        ],
        "classes.csv": [
            header("sourcedId title grades courseSourcedId classType schoolSourcedId termSourcedIds"),
            ["class-5a", "Groep 5a", "5", "course-5", "homeroom", "school-a", "sy-2026"],
            ["class-rek", "Rekengroep", "5,6", "", "scheduled", "school-a", "term-1"],
            ["class-1b", "Klas 1b", "1", "", "homeroom", "school-b", "sy-2026"],
        ],
        "users.csv": [
            header("sourcedId enabledUser orgSourcedIds role username userIds givenName familyName "
            "middleName email agentSourcedIds grades preferredGivenName primaryOrgSourcedId "
            "metadata.regie.roles"),
            ["stu-1", "true", "school-a", "student", "sanne", f"{{eckid:{ECK_1}}},{{pgn:{PGN}}}",
             "Sanne Johanna", "Berg", "van den", "", "par-1", "5", "", "", ""],
            ["stu-2", "true", "school-b", "student", "daan", f"{{eckid:{ECK_2}}}", "Daan",
             "Jansen", "", "", "gua-2", "1", "Daantje", "school-b", ""],
            ["tea-1", "true", "school-a", "teacher", "mvisser", "", "Marieke", "Visser", "",
             "m.visser@devlinder.example", "", "", "", "", ""],
            ["adm-1", "false", "school-b", "administrator", "kdekker", "", "Kees", "Dekker", "de",
             "k.dekker@hetbaken.example", "", "", "", "", "school_admin privacy_officer"],
            ["par-1", "true", "school-a", "parent", "pberg", "", "Peter", "Berg", "van den",
             "p.berg@mail.example", "stu-1", "", "", "", ""],
            ["gua-2", "true", "school-b", "guardian", "ajansen", "", "Aylin", "Jansen", "",
             "a.jansen@mail.example", "", "", "", "", ""],
        ],
        "enrollments.csv": [
            header("sourcedId classSourcedId schoolSourcedId userSourcedId role primary"),
            ["enr-1", "class-5a", "school-a", "stu-1", "student", "false"],
            ["enr-2", "class-rek", "school-a", "stu-1", "student", "false"],
            ["enr-3", "class-1b", "school-b", "stu-2", "student", ""],
            ["enr-4", "class-5a", "school-a", "tea-1", "teacher", "true"],
        ],
        "demographics.csv": [
            header("sourcedId birthDate sex"),
            ["stu-1", "2017-03-14", "female"],
            ["stu-2", "2013-11-02", "male"],
        ],
    }  # fmt: skip


def csv_text(table: Table) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(table)
    return buffer.getvalue()


def manifest(modes: dict[str, str]) -> str:
    rows = [["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", "1.2"]]
    rows += [[f"file.{name.removesuffix('.csv')}", mode] for name, mode in modes.items()]
    return csv_text(rows)


def zip_export(
    path: Path,
    files: dict[str, Table],
    *,
    modes: dict[str, str] | None = None,
    raw: dict[str, bytes] | None = None,
) -> Path:
    """Write ``files`` (and ``raw`` members as given) into a zip with a manifest for them."""
    raw = dict(raw or {})
    modes = modes if modes is not None else dict.fromkeys([*files, *raw], "bulk")
    raw.setdefault("manifest.csv", manifest(modes).encode())
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, table in files.items():
            archive.writestr(name, csv_text(table))
        for name, content in raw.items():
            archive.writestr(name, content)
    return path


def parse(tmp_path: Path, files: dict[str, Table], **options: Any) -> RosterExport:
    return parse_oneroster(zip_export(tmp_path / "export.zip", files, **options), LIMITS)


def without_lines(export: RosterExport) -> dict[str, Any]:
    fields = ("schools", "school_years", "groups", "students", "guardians", "staff")
    result: dict[str, Any] = {
        name: [dataclasses.replace(record, line=None) for record in getattr(export, name)]
        for name in fields
    }
    result |= {"problems": export.problems, "delta": export.delta, "deleted": export.deleted}
    return result


# --- a good bulk export --------------------------------------------------------------------


def test_it_parses_a_good_bulk_export(tmp_path: Path) -> None:
    export = parse(tmp_path, good_files())
    assert export.problems == []
    assert export.source_format == "oneroster-1.2-csv"
    assert export.delta is False
    assert export.deleted == {}
    assert export.schools == [
        SchoolRecord("school-a", "12AB", "", "OBS De Vlinder", Sector.PO, line=3),
        SchoolRecord("school-b", "34CD", "01", "CSG Het Baken", None, line=4),
    ]
    assert export.school_years == [
        SchoolYearRecord("sy-2026", "2026-2027", date(2026, 8, 1), date(2027, 7, 31), line=2)
    ]
    assert export.groups == [
        GroupRecord("class-5a", "school-a", "Groep 5a", GroupKind.GROUP, "5", "sy-2026", line=2),
        GroupRecord(
            "class-rek", "school-a", "Rekengroep", GroupKind.COMPOSITE, "5", "sy-2026", line=3
        ),
        GroupRecord("class-1b", "school-b", "Klas 1b", GroupKind.GROUP, "1", "sy-2026", line=4),
    ]
    assert export.students == [
        StudentRecord(
            key="stu-1",
            school_key="school-a",
            roepnaam="Sanne",
            voornamen="Sanne Johanna",
            voorvoegsel="van den",
            achternaam="Berg",
            birth_date=date(2017, 3, 14),
            gender=Gender.FEMALE,
            year_level="5",
            group_keys=("class-5a", "class-rek"),
            eck_id=ECK_1,
            pgn=PGN,
            line=2,
        ),
        StudentRecord(
            key="stu-2",
            school_key="school-b",
            roepnaam="Daantje",
            voornamen="Daan",
            voorvoegsel="",
            achternaam="Jansen",
            birth_date=date(2013, 11, 2),
            gender=Gender.MALE,
            year_level="1",
            group_keys=("class-1b",),
            eck_id=ECK_2,
            pgn="",
            line=3,
        ),
    ]
    assert export.staff == [
        StaffRecord(
            "tea-1", "school-a", "Marieke", "", "Visser", "m.visser@devlinder.example",
            (StaffRole.TEACHER,), ("class-5a",), line=4,
        ),
        StaffRecord(
            "adm-1", "school-b", "Kees", "de", "Dekker", "k.dekker@hetbaken.example",
            (StaffRole.SCHOOL_ADMIN, StaffRole.PRIVACY_OFFICER), (), line=5, all_roles=True,
        ),
    ]  # fmt: skip
    assert export.guardians == [
        GuardianRecord(
            "par-1", "Peter", "van den", "Berg", "p.berg@mail.example", "parent", ("stu-1",),
            line=6,
        ),
        GuardianRecord(
            "gua-2", "Aylin", "", "Jansen", "a.jansen@mail.example", "guardian", ("stu-2",),
            line=7,
        ),
    ]  # fmt: skip


def test_it_reads_a_windows_1252_users_file_and_says_so(tmp_path: Path) -> None:
    files = good_files()
    files["users.csv"][2][6] = "Zoë"
    users = csv_text(files.pop("users.csv")).encode("cp1252")
    export = parse(tmp_path, files, raw={"users.csv": users})
    assert export.problems == []
    assert export.students[1].voornamen == "Zoë"
    assert export.encodings == {"users.csv": "Windows-1252"}


def test_a_utf_8_export_names_no_encoding(tmp_path: Path) -> None:
    assert parse(tmp_path, good_files()).encodings == {}


def test_it_refuses_a_utf_8_users_file_with_one_stray_windows_1252_byte(tmp_path: Path) -> None:
    files = good_files()
    files["users.csv"][2][6] = "Zoë"
    users = csv_text(files.pop("users.csv")).encode()
    users = users.replace(b"Aylin", "Aylïn".encode("cp1252"))  # line 7, in Windows-1252
    path = zip_export(tmp_path / "export.zip", files, raw={"users.csv": users})
    problem = refused(path)
    assert (problem.file, problem.line, problem.field) == ("users.csv", 7, None)
    assert "mixed" in problem.reason


def test_it_reads_a_utf_8_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    files = good_files()
    orgs = b"\xef\xbb\xbf" + csv_text(files.pop("orgs.csv")).encode()
    export = parse(tmp_path, files, raw={"orgs.csv": orgs})
    assert export.problems == []
    assert [school.key for school in export.schools] == ["school-a", "school-b"]


def test_it_counts_physical_lines_across_quoted_line_breaks(tmp_path: Path) -> None:
    files = good_files()
    files["orgs.csv"][1][3] = "Stichting\r\nFictief"
    files["orgs.csv"][3][5] = "12345"
    export = parse(tmp_path, files)
    assert [(problem.file, problem.line) for problem in export.problems] == [("orgs.csv", 5)]


# --- a delta export ------------------------------------------------------------------------


def test_it_reads_a_delta_with_records_to_delete(tmp_path: Path) -> None:
    stamp = "2026-09-01T07:30:00Z"
    files: dict[str, Table] = {
        "classes.csv": [
            header("sourcedId status dateLastModified title classType schoolSourcedId termSourcedIds"),
            ["class-3b", "tobedeleted", stamp, "", "", "", ""],
            ["class-4a", "active", stamp, "Groep 4a", "homeroom", "school-hub", ""],
        ],
        "users.csv": [
            header("sourcedId status dateLastModified enabledUser orgSourcedIds role givenName familyName"),
            ["stu-9", "tobedeleted", stamp, "", "", "student", "", ""],
            ["tea-9", "tobedeleted", stamp, "", "", "teacher", "", ""],
            ["par-9", "tobedeleted", stamp, "", "", "parent", "", ""],
            ["aide-9", "tobedeleted", stamp, "", "", "aide", "", ""],
            ["stu-10", "active", stamp, "true", "school-hub", "student", "Lotte", "Smit"],
        ],
        "enrollments.csv": [
            header("sourcedId status dateLastModified classSourcedId schoolSourcedId userSourcedId role"),
            ["enr-9", "tobedeleted", stamp, "class-3b", "school-hub", "stu-10", "student"],
            ["enr-10", "active", stamp, "class-4a", "school-hub", "stu-10", "student"],
            ["enr-11", "active", stamp, "class-hub", "school-hub", "stu-10", "student"],
        ],
    }  # fmt: skip
    modes = {"orgs.csv": "absent", "classes.csv": "delta", "users.csv": "delta"}
    modes |= {"enrollments.csv": "delta"}
    export = parse(tmp_path, files, modes=modes)
    assert export.problems == []
    assert export.delta is True
    assert export.deleted == {
        "groups": {"class-3b"},
        "students": {"stu-9"},
        "staff": {"tea-9"},
        "guardians": {"par-9"},
    }
    assert [group.key for group in export.groups] == ["class-4a"]
    assert [student.key for student in export.students] == ["stu-10"]
    assert export.students[0].group_keys == ("class-4a", "class-hub")


def test_it_skips_users_in_roles_regie_does_not_import(tmp_path: Path) -> None:
    files = good_files()
    files["users.csv"].append(
        ["aide-1", "true", "school-a", "aide", "", "", "Fenna", "Bos", "", "", "", "", "", "", ""]
    )
    files["enrollments.csv"].append(["enr-5", "class-5a", "school-a", "aide-1", "aide", ""])
    export = parse(tmp_path, files)
    assert export.problems == []
    assert "aide-1" not in [member.key for member in export.staff]
    assert export.staff[0].group_keys == ("class-5a",)


def test_it_maps_other_staff_roles_of_oneroster(tmp_path: Path) -> None:
    files = good_files()
    files["users.csv"][3][3] = "counselor"
    files["users.csv"][4][3] = "districtAdministrator"
    files["users.csv"][4][14] = ""
    export = parse(tmp_path, files)
    assert export.problems == []
    assert [member.roles for member in export.staff] == [
        (StaffRole.CARE_COORDINATOR,),
        (StaffRole.BOARD_ADMIN,),
    ]


def test_it_requires_status_and_date_in_a_delta(tmp_path: Path) -> None:
    files = {
        "users.csv": [
            header("sourcedId status dateLastModified enabledUser role givenName familyName"),
            ["stu-1", "", "2026-09-01T07:30:00Z", "true", "student", "Lotte", "Smit"],
            ["stu-2", "active", "gisteren", "true", "student", "Bram", "Smit"],
        ]
    }
    export = parse(tmp_path, files, modes={"users.csv": "delta"})
    assert export.problems == [
        Problem("users.csv", 2, "status", "status must be active or tobedeleted in a delta file"),
        Problem("users.csv", 3, "dateLastModified", "not an ISO 8601 date and time"),
    ]


# --- round trip ----------------------------------------------------------------------------

KEYS = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=8)
NAMES = st.text(
    st.characters(categories=("L", "Zs", "Pd", "Po", "Pi", "Pf"), codec="utf-8"), max_size=20
)
DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
YEAR_TITLES = NAMES.filter(lambda title: 0 < len(title) <= 9)  # SchoolYear.title holds 9
BIRTH_DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2025, 12, 31))


@st.composite
def exports(draw: st.DrawFn) -> RosterExport:
    def schools_() -> list[SchoolRecord]:
        keys = draw(st.lists(KEYS, min_size=1, max_size=3, unique=True))
        return [
            SchoolRecord(
                key=key,
                brin=draw(st.from_regex(r"[0-9]{2}[A-Z]{2}", fullmatch=True)),
                vestiging=draw(st.sampled_from(["", "00", "01", "12"])),
                name=draw(NAMES.filter(bool)),
                sector=draw(st.none() | st.sampled_from(Sector)),
            )
            for key in keys
        ]

    schools = schools_()
    school_keys = [school.key for school in schools]
    years = [
        SchoolYearRecord(key, draw(YEAR_TITLES), start, start + timedelta(days=length))
        for key in draw(st.lists(KEYS, max_size=2, unique=True))
        for start, length in [(draw(DATES), draw(st.integers(0, 400)))]
    ]
    groups = [
        GroupRecord(
            key=key,
            school_key=draw(st.sampled_from(school_keys)),
            name=draw(NAMES.filter(bool)),
            kind=draw(st.sampled_from(GroupKind)),
            year_level=draw(st.sampled_from(["", "1", "5", "8"])),
            school_year_key=draw(st.sampled_from(["", *(year.key for year in years)])),
        )
        for key in draw(st.lists(KEYS, max_size=5, unique=True))
    ]
    users = draw(st.lists(KEYS, max_size=12, unique=True))
    cut_1 = draw(st.integers(0, len(users)))
    cut_2 = draw(st.integers(cut_1, len(users)))

    def groups_of(school: str) -> tuple[str, ...]:
        choices = [group.key for group in groups if group.school_key == school]
        return tuple(draw(st.lists(st.sampled_from(choices), unique=True))) if choices else ()

    students = []
    for number, key in enumerate(users[:cut_1]):
        school = draw(st.sampled_from(school_keys))
        students.append(
            StudentRecord(
                key=key,
                school_key=school,
                roepnaam=draw(NAMES.filter(bool)),
                voornamen=draw(NAMES),
                voorvoegsel=draw(st.sampled_from(["", "van", "de", "van der", "'t"])),
                achternaam=draw(NAMES),
                birth_date=draw(st.none() | BIRTH_DATES),
                gender=draw(st.sampled_from(Gender)),
                year_level=draw(st.sampled_from(["", "3", "7"])),
                group_keys=groups_of(school),
                eck_id=draw(st.sampled_from(["", ECK_1, ECK_2])),
                pgn=draw(st.sampled_from(["", make_bsn(random.Random(number))])),  # one each
            )
        )
    staff = []
    for key in users[cut_1:cut_2]:
        school = draw(st.sampled_from(school_keys))
        staff.append(
            StaffRecord(
                key=key,
                school_key=school,
                voornamen=draw(NAMES),
                voorvoegsel=draw(st.sampled_from(["", "de"])),
                achternaam=draw(NAMES),
                email=draw(st.sampled_from(["", f"{key}@school.example"])),
                roles=(
                    roles := tuple(
                        draw(st.lists(st.sampled_from(StaffRole), min_size=1, unique=True))
                    )
                ),
                group_keys=groups_of(school),
                # Roles that OneRoster's role column cannot say alone need regie's roles column,
                # which states them all.
                all_roles=draw(st.booleans())
                or len(roles) > 1
                or roles[0] is StaffRole.PRIVACY_OFFICER,
            )
        )
    student_keys = [student.key for student in students]
    guardians = [
        GuardianRecord(
            key=key,
            voornamen=draw(NAMES),
            voorvoegsel="",
            achternaam=draw(NAMES),
            email=draw(st.sampled_from(["", f"{key}@mail.example"])),
            relation=draw(st.sampled_from(["parent", "guardian", "relative"])),
            student_keys=tuple(draw(st.lists(st.sampled_from(student_keys), unique=True)))
            if student_keys
            else (),
        )
        for key in users[cut_2:]
    ]
    return RosterExport(
        source_format="test",
        schools=schools,
        school_years=years,
        groups=groups,
        students=students,
        guardians=guardians,
        staff=staff,
    )


@settings(deadline=None)
@given(export=exports())
def test_it_reads_back_what_it_writes(export: RosterExport) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "export.zip"
        write_oneroster(export, path)
        parsed = parse_oneroster(path, LIMITS)
    assert parsed.source_format == "oneroster-1.2-csv"
    assert without_lines(parsed) == without_lines(export)


def test_it_writes_a_manifest_for_every_file_of_the_binding(tmp_path: Path) -> None:
    export = parse(tmp_path, good_files())
    path = tmp_path / "written.zip"
    write_oneroster(export, path)
    with zipfile.ZipFile(path) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("manifest.csv").decode())))
        names = sorted(archive.namelist())
        users = archive.read("users.csv").decode().splitlines()
    assert rows[:3] == [
        ["propertyName", "value"],
        ["manifest.version", "1.0"],
        ["oneroster.version", "1.2"],
    ]
    assert len(rows) == 4 + 21  # header, three properties, one line per file of the binding
    assert ["file.courses", "bulk"] in rows
    assert ["file.roles", "absent"] in rows
    assert names == sorted(
        header(
            "manifest.csv orgs.csv academicSessions.csv courses.csv classes.csv users.csv "
            "enrollments.csv demographics.csv"
        )
    )
    assert users[0].startswith("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,")
    assert users[0].endswith(",primaryOrgSourcedId,pronouns,metadata.regie.roles")


def test_it_leaves_out_files_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    school = SchoolRecord("school-a", "12AB", "", "OBS De Vlinder", Sector.PO)
    write_oneroster(RosterExport(source_format="test", schools=[school]), path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["manifest.csv", "orgs.csv"]
        assert "file.users,absent" in archive.read("manifest.csv").decode().splitlines()
    assert parse_oneroster(path, LIMITS).schools == [dataclasses.replace(school, line=2)]


# --- the bad-input corpus ------------------------------------------------------------------

Mutation = Callable[[dict[str, Table]], None]


def set_cell(file: str, row: int, column: str, value: str) -> Mutation:
    def mutate(files: dict[str, Table]) -> None:
        files[file][row][files[file][0].index(column)] = value

    return mutate


def drop_column(file: str, column: str) -> Mutation:
    def mutate(files: dict[str, Table]) -> None:
        index = files[file][0].index(column)
        for row in files[file]:
            del row[index]

    return mutate


def add_column(file: str, column: str) -> Mutation:
    def mutate(files: dict[str, Table]) -> None:
        files[file][0].append(column)
        for row in files[file][1:]:
            row.append("")

    return mutate


def append_row(file: str, row: list[str]) -> Mutation:
    return lambda files: files[file].append(row)


def replace_row(file: str, index: int, row: list[str]) -> Mutation:
    def mutate(files: dict[str, Table]) -> None:
        files[file][index] = row

    return mutate


BAD_PGN = PGN[:8] + str((int(PGN[8]) + 1) % 10)

CORPUS: dict[str, tuple[Mutation, Problem]] = {
    "missing column": (
        drop_column("users.csv", "familyName"),
        Problem("users.csv", 1, "familyName", "missing column"),
    ),
    "unknown column": (
        add_column("orgs.csv", "colour"),
        Problem("orgs.csv", 1, "colour", "unknown column"),
    ),
    "duplicate column": (
        add_column("demographics.csv", "sex"),
        Problem("demographics.csv", 1, "sex", "duplicate column"),
    ),
    "duplicate id": (
        append_row(
            "academicSessions.csv",
            ["term-1", "P2", "term", "2027-02-01", "2027-07-31", "sy-2026", "2027"],
        ),
        Problem("academicSessions.csv", 4, "sourcedId", "duplicate sourcedId (first on line 3)"),
    ),
    "dangling class": (
        set_cell("enrollments.csv", 3, "classSourcedId", "class-9z"),
        Problem("enrollments.csv", 4, "classSourcedId", "no class has this sourcedId"),
    ),
    "dangling user": (
        set_cell("enrollments.csv", 1, "userSourcedId", "stu-404"),
        Problem("enrollments.csv", 2, "userSourcedId", "no user has this sourcedId"),
    ),
    "dangling school": (
        set_cell("classes.csv", 1, "schoolSourcedId", "school-z"),
        Problem("classes.csv", 2, "schoolSourcedId", "no org has this sourcedId"),
    ),
    "org that is no school": (
        set_cell("users.csv", 3, "orgSourcedIds", "board-1"),
        Problem("users.csv", 4, "orgSourcedIds", "this org is not a school"),
    ),
    "dangling parent org": (
        set_cell("orgs.csv", 2, "parentSourcedId", "board-9"),
        Problem("orgs.csv", 3, "parentSourcedId", "no org has this sourcedId"),
    ),
    "dangling term": (
        set_cell("classes.csv", 2, "termSourcedIds", "term-7"),
        Problem("classes.csv", 3, "termSourcedIds", "no session has this sourcedId"),
    ),
    "dangling agent": (
        set_cell("users.csv", 1, "agentSourcedIds", "par-1,par-404"),
        Problem("users.csv", 2, "agentSourcedIds", "no user has this sourcedId"),
    ),
    "agent who is no guardian": (
        set_cell("users.csv", 1, "agentSourcedIds", "tea-1"),
        Problem("users.csv", 2, "agentSourcedIds", "an agent is no parent, guardian or relative"),
    ),
    "class of another school": (
        append_row("enrollments.csv", ["enr-5", "class-1b", "school-b", "stu-1", "student", ""]),
        Problem("enrollments.csv", 6, "classSourcedId", "a class of another school"),
    ),
    "enrollment school differs from the class": (
        set_cell("enrollments.csv", 3, "schoolSourcedId", "school-a"),
        Problem("enrollments.csv", 4, "schoolSourcedId", "not the school of the class"),
    ),
    "bad birth date": (
        set_cell("demographics.csv", 1, "birthDate", "2017-02-30"),
        Problem("demographics.csv", 2, "birthDate", "not a date (YYYY-MM-DD)"),
    ),
    "Dutch birth date": (
        set_cell("demographics.csv", 2, "birthDate", "02-11-2013"),
        Problem("demographics.csv", 3, "birthDate", "not a date (YYYY-MM-DD)"),
    ),
    "bad start date": (
        set_cell("academicSessions.csv", 1, "startDate", "2026-8-1"),
        Problem("academicSessions.csv", 2, "startDate", "not a date (YYYY-MM-DD)"),
    ),
    "session that ends before it starts": (
        set_cell("academicSessions.csv", 2, "endDate", "2026-07-01"),
        Problem("academicSessions.csv", 3, "endDate", "ends before it starts"),
    ),
    "bad dateLastModified": (
        set_cell("orgs.csv", 1, "dateLastModified", "1 augustus"),
        Problem("orgs.csv", 2, "dateLastModified", "not an ISO 8601 date and time"),
    ),
    "invalid BRIN": (
        set_cell("orgs.csv", 3, "identifier", "34CD1"),
        Problem("orgs.csv", 4, "identifier", "not a BRIN"),
    ),
    "BSN failing the 11-proef": (
        set_cell("users.csv", 1, "userIds", f"{{eckid:{ECK_1}}},{{BSN:{BAD_PGN}}}"),
        Problem("users.csv", 2, "userIds", "fails the BSN 11-proef"),
    ),
    "PGN of 8 digits": (
        set_cell("users.csv", 1, "userIds", f"{{pgn:{PGN[1:]}}}"),
        Problem("users.csv", 2, "userIds", "exactly 9 digits"),
    ),
    "two PGNs": (
        set_cell("users.csv", 1, "userIds", f"{{pgn:{PGN}}},{{onderwijsnummer:{OTHER_PGN}}}"),
        Problem("users.csv", 2, "userIds", "more than one PGN"),
    ),
    "malformed ECK iD": (
        set_cell("users.csv", 1, "userIds", f"{{eckid:{PGN}}}"),
        Problem("users.csv", 2, "userIds", "an ECK iD is an https URI"),
    ),
    "ECK iD over http": (
        set_cell("users.csv", 2, "userIds", "{eckid:http://ketenid.example/1/3d4e5f}"),
        Problem("users.csv", 3, "userIds", "an ECK iD is an https URI"),
    ),
    "the same PGN for two pupils": (
        set_cell("users.csv", 2, "userIds", f"{{eckid:{ECK_2}}},{{bsn:{PGN}}}"),
        Problem(
            "users.csv", 3, "userIds", "the same BSN or onderwijsnummer as the pupil on line 2"
        ),
    ),
    "surname of 201 characters": (
        set_cell("users.csv", 1, "familyName", "B" * 201),
        Problem("users.csv", 2, "familyName", "longer than 200 characters"),
    ),
    "given names of 10,000 characters": (
        set_cell("users.csv", 5, "givenName", "Pieter " * 1428 + "Jans"),
        Problem("users.csv", 6, "givenName", "longer than 200 characters"),
    ),
    "birth date in the future": (
        set_cell("demographics.csv", 2, "birthDate", "2999-11-02"),
        Problem("demographics.csv", 3, "birthDate", "a birth date in the future"),
    ),
    "userIds not a list": (
        set_cell("users.csv", 1, "userIds", f"pgn={PGN}"),
        Problem("users.csv", 2, "userIds", "must be a list of {type:identifier}"),
    ),
    "tobedeleted in bulk": (
        set_cell("orgs.csv", 2, "status", "tobedeleted"),
        Problem("orgs.csv", 3, "status", "tobedeleted is for deltas"),
    ),
    "unknown status": (
        set_cell("orgs.csv", 2, "status", "inactive"),
        Problem("orgs.csv", 3, "status", "must be empty or active"),
    ),
    "unknown role": (
        set_cell("users.csv", 3, "role", "leraar"),
        Problem("users.csv", 4, "role", "not a user role of OneRoster 1.2"),
    ),
    "unknown regie role": (
        set_cell("users.csv", 4, "metadata.regie.roles", "school_admin conciërge"),
        Problem("users.csv", 5, "metadata.regie.roles", "not a list of regie roles"),
    ),
    "bad enabledUser": (
        set_cell("users.csv", 3, "enabledUser", "ja"),
        Problem("users.csv", 4, "enabledUser", "must be true or false"),
    ),
    "unknown org type": (
        set_cell("orgs.csv", 1, "type", "bestuur"),
        Problem("orgs.csv", 2, "type", "not an org type"),
    ),
    "unknown class type": (
        set_cell("classes.csv", 3, "classType", "stamgroep"),
        Problem("classes.csv", 4, "classType", "must be homeroom or scheduled"),
    ),
    "bad sector": (
        set_cell("orgs.csv", 2, "metadata.sector", "BO"),
        Problem("orgs.csv", 3, "metadata.sector", "must be PO, VO, MBO or HO"),
    ),
    "bad sex": (
        set_cell("demographics.csv", 2, "sex", "m"),
        Problem("demographics.csv", 3, "sex", "must be male, female, other or unspecified"),
    ),
    "missing value": (
        set_cell("classes.csv", 2, "title", ""),
        Problem("classes.csv", 3, "title", "missing value"),
    ),
    "missing sourcedId": (
        set_cell("demographics.csv", 1, "sourcedId", ""),
        Problem("demographics.csv", 2, "sourcedId", "missing value"),
    ),
    "row with too few fields": (
        replace_row("enrollments.csv", 2, ["enr-2", "class-rek", "school-a", "stu-1", "student"]),
        Problem("enrollments.csv", 3, None, "the line has 5 fields; the header has 6"),
    ),
    "bad primary": (
        set_cell("enrollments.csv", 4, "primary", "yes"),
        Problem("enrollments.csv", 5, "primary", "must be true or false"),
    ),
}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_it_reports_each_bad_input_exactly(tmp_path: Path, case: str) -> None:
    mutate, expected = CORPUS[case]
    files = good_files()
    mutate(files)
    export = parse(tmp_path, files)
    assert len(export.problems) == 1, export.problems
    (problem,) = export.problems
    assert (problem.file, problem.line, problem.field) == (
        expected.file,
        expected.line,
        expected.field,
    )
    assert expected.reason in problem.reason
    for number in (PGN, OTHER_PGN, BAD_PGN, PGN[1:]):
        assert number not in str(problem)
        assert number not in repr(problem)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {
                "users.csv": b'sourcedId,enabledUser,role,givenName,familyName\r\nstu-1,true,"student\r\n'
            },
            Problem("users.csv", 2, None, "malformed CSV"),
        ),
        (
            {"users.csv": b"\r\n"},
            Problem("users.csv", 1, None, "the header line is missing"),
        ),
    ],
)
def test_it_reports_malformed_csv(tmp_path: Path, raw: dict[str, bytes], expected: Problem) -> None:
    export = parse(tmp_path, {}, raw=raw)
    (problem,) = export.problems
    assert (problem.file, problem.line, problem.field) == (expected.file, expected.line, None)
    assert expected.reason in problem.reason


def test_it_reports_a_file_missing_from_the_manifest(tmp_path: Path) -> None:
    files = good_files()
    modes = dict.fromkeys(files, "bulk")
    del modes["demographics.csv"]
    export = parse(tmp_path, files, modes=modes)
    assert export.problems == [
        Problem("demographics.csv", None, None, "in the zip, but not in the manifest")
    ]


def test_it_reports_a_file_the_manifest_lists_but_the_zip_lacks(tmp_path: Path) -> None:
    files = good_files()
    del files["demographics.csv"]
    modes = dict.fromkeys([*files, "demographics.csv"], "bulk")
    export = parse(tmp_path, files, modes=modes)
    assert export.problems == [
        Problem("demographics.csv", None, None, "the manifest says bulk, but the zip lacks it")
    ]


def test_it_does_not_require_a_file_marked_absent(tmp_path: Path) -> None:
    files = good_files()
    del files["demographics.csv"]
    modes = dict.fromkeys(files, "bulk") | {"demographics.csv": "absent"}
    export = parse(tmp_path, files, modes=modes)
    assert export.problems == []
    assert [student.birth_date for student in export.students] == [None, None]


def test_it_does_not_cascade_from_a_file_with_a_missing_column(tmp_path: Path) -> None:
    files = good_files()
    drop_column("orgs.csv", "type")(files)
    export = parse(tmp_path, files)
    assert export.problems == [Problem("orgs.csv", 1, "type", "missing column")]


def test_it_caps_the_problems_it_lists(tmp_path: Path) -> None:
    files = good_files()
    files["enrollments.csv"] += [
        [f"bad-{number}", "class-none", "school-a", "stu-1", "student", ""]
        for number in range(1500)
    ]
    export = parse(tmp_path, files)
    assert len(export.problems) == MAX_PROBLEMS + 1
    assert export.problems[0] == Problem(
        "enrollments.csv", 6, "classSourcedId", "no class has this sourcedId"
    )
    assert export.problems[-1] == Problem("export.zip", None, None, "and 500 more problems")


# --- refusals: the upload cannot be read at all ----------------------------------------------


def refused(path: Path, limits: Limits = LIMITS) -> Problem:
    with pytest.raises(ImportRefused) as error:
        parse_oneroster(path, limits)
    assert PGN not in str(error.value)
    return error.value.problem


def test_it_refuses_a_zip_without_manifest(tmp_path: Path) -> None:
    path = zip_export(tmp_path / "export.zip", good_files(), raw={"manifest.csv": b""})
    with zipfile.ZipFile(path) as archive:
        members = {
            name: archive.read(name) for name in archive.namelist() if name != "manifest.csv"
        }
    path.unlink()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    assert refused(path) == Problem("export.zip", None, None, "the zip has no manifest.csv")


def test_it_refuses_another_oneroster_version(tmp_path: Path) -> None:
    old = b"propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.1\r\nfile.users,bulk\r\n"
    path = zip_export(tmp_path / "export.zip", good_files(), raw={"manifest.csv": old})
    assert refused(path) == Problem(
        "manifest.csv", None, "oneroster.version", "only OneRoster 1.2 is supported"
    )


def test_it_refuses_a_manifest_with_the_wrong_header(tmp_path: Path) -> None:
    path = zip_export(tmp_path / "export.zip", {}, raw={"manifest.csv": b"name,mode\r\n"})
    assert refused(path) == Problem(
        "manifest.csv", 1, None, "the header must be propertyName,value"
    )


def test_it_refuses_a_binary_member(tmp_path: Path) -> None:
    garbage = random.Random(5).randbytes(4096) + b"\x00"
    files = good_files()
    del files["users.csv"]
    path = zip_export(tmp_path / "export.zip", files, raw={"users.csv": garbage})
    assert refused(path) == Problem("users.csv", None, None, "not a text file (binary content)")


def test_it_refuses_a_member_in_no_known_encoding(tmp_path: Path) -> None:
    files = good_files()
    del files["orgs.csv"]
    path = zip_export(
        tmp_path / "export.zip", files, raw={"orgs.csv": b"sourcedId\r\n\x81\x8d\r\n"}
    )
    assert refused(path) == Problem(
        "orgs.csv", 2, None, "the text is neither UTF-8 nor Windows-1252"
    )


def test_it_refuses_an_empty_member(tmp_path: Path) -> None:
    path = zip_export(tmp_path / "export.zip", {}, raw={"users.csv": b""})
    assert refused(path) == Problem("users.csv", None, None, "the file is empty")


def test_it_refuses_an_empty_upload(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(b"")
    assert refused(path) == Problem("export.zip", None, None, "the file is empty")


def test_it_refuses_what_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_text(csv_text(good_files()["users.csv"]))
    assert refused(path) == Problem("export.zip", None, None, "not a zip file")


def test_it_refuses_a_zip_with_path_traversal(tmp_path: Path) -> None:
    path = zip_export(tmp_path / "export.zip", good_files(), raw={"../users.csv": b"x\r\n"})
    assert refused(path).reason == "a member's name contains .. (path traversal)"


def test_it_refuses_a_zip_bomb(tmp_path: Path) -> None:
    bomb = b"sourcedId\r\n" + b"0" * 2**22
    path = zip_export(tmp_path / "export.zip", {}, raw={"users.csv": bomb})
    assert refused(path).reason == "users.csv is compressed more than 200 to 1 (a zip bomb)"


def test_it_refuses_a_1_gib_upload_under_the_default_limits(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with path.open("wb") as handle:
        handle.truncate(2**30)  # sparse: costs no disk
    with pytest.raises(ImportRefused) as error:
        parse_oneroster(path)
    assert error.value.problem == Problem(
        "export.zip", None, None, "the file is 1 GiB; the largest accepted is 256 MiB"
    )
