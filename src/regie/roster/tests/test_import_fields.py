"""Every imported field is checked against its database column, in both formats, before writing.

The limits are the model fields' own (``importing/fields.py``); on PostgreSQL an over-long value
used to crash the import (with the start of the name in the traceback) or be cut silently, on
SQLite it was stored. These tests go over every field the importer writes.
"""

from __future__ import annotations

import random
import traceback
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import models, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from regie.core.models import School
from regie.roster import services
from regie.roster.importing.edexml import parse_edexml, write_edexml
from regie.roster.importing.fields import NOT_WRITTEN, WRITTEN, column_problem, declared
from regie.roster.importing.oneroster import parse_oneroster, write_oneroster
from regie.roster.importing.plan import ExportRefused, apply_export, plan_import
from regie.roster.importing.plan.sql import ImportWriteFailed, insert_rows
from regie.roster.importing.records import (
    GroupRecord,
    GuardianRecord,
    Limits,
    RosterExport,
    SchoolRecord,
    SchoolYearRecord,
    StaffRecord,
    StudentRecord,
)
from regie.roster.models import Group, ImportStatus, Staff, Student
from regie.roster.tests.exports import (
    in_english,
    make_board,
    problems_in_english,
    school_export,
)

LIMITS = Limits(max_upload_bytes=2**26, max_uncompressed_bytes=2**27, max_compression_ratio=200)
RECORDS = (SchoolRecord, SchoolYearRecord, GroupRecord, StudentRecord, GuardianRecord, StaffRecord)


def test_every_field_of_every_record_is_declared_written_or_not() -> None:
    assert set(WRITTEN) == set(NOT_WRITTEN) == set(RECORDS)
    for record in RECORDS:
        names = {item.name for item in dataclass_fields(record)}
        assert declared(record) == names, record.__name__
        assert not set(WRITTEN[record]) & set(NOT_WRITTEN[record]), record.__name__


@pytest.mark.parametrize(
    ("record", "attribute"),
    [(record, attribute) for record in RECORDS for attribute in WRITTEN[record]],
)
def test_the_limit_of_each_field_is_its_columns_max_length(record: type, attribute: str) -> None:
    column = WRITTEN[record][attribute]
    field = column.model._meta.get_field(column.name)
    assert isinstance(field, models.Field)
    limit = field.max_length
    assert isinstance(limit, int)
    reason = column_problem(record, attribute, "7" * (limit + 1))
    assert reason == (
        "langer dan %(limit)s tekens, het meeste dat dit veld kan bevatten",
        {"limit": limit},
    )


def test_a_value_at_the_limit_fits() -> None:
    limit = Student._meta.get_field("achternaam").max_length
    assert limit == 200
    assert column_problem(StudentRecord, "achternaam", "a" * 200) is None
    assert column_problem(StudentRecord, "achternaam", "a" * 201) is not None


def test_an_e_mail_address_is_checked_by_the_columns_own_validator() -> None:
    assert column_problem(StaffRecord, "email", "f.bakker@school.example") is None
    assert column_problem(GuardianRecord, "email", "") is None
    assert column_problem(StaffRecord, "email", "f.bakker(at)school") == ("geen e-mailadres", {})


# --- both parsers, over every written field --------------------------------------------------

Format = str
# (format, record, field) → (file, field) the problem must name
ONEROSTER_LABELS: dict[tuple[type, str], tuple[str, str]] = {
    (SchoolRecord, "name"): ("orgs.csv", "name"),
    (SchoolYearRecord, "title"): ("academicSessions.csv", "title"),
    (GroupRecord, "key"): ("classes.csv", "sourcedId"),
    (GroupRecord, "name"): ("classes.csv", "title"),
    (GroupRecord, "year_level"): ("classes.csv", "grades"),
    (StudentRecord, "key"): ("users.csv", "sourcedId"),
    (StudentRecord, "roepnaam"): ("users.csv", "preferredGivenName"),
    (StudentRecord, "voornamen"): ("users.csv", "givenName"),
    (StudentRecord, "voorvoegsel"): ("users.csv", "middleName"),
    (StudentRecord, "achternaam"): ("users.csv", "familyName"),
    (StudentRecord, "year_level"): ("users.csv", "grades"),
    (StudentRecord, "eck_id"): ("users.csv", "userIds"),
    (GuardianRecord, "key"): ("users.csv", "sourcedId"),
    (GuardianRecord, "voornamen"): ("users.csv", "givenName"),
    (GuardianRecord, "voorvoegsel"): ("users.csv", "middleName"),
    (GuardianRecord, "achternaam"): ("users.csv", "familyName"),
    (GuardianRecord, "email"): ("users.csv", "email"),
    (StaffRecord, "key"): ("users.csv", "sourcedId"),
    (StaffRecord, "voornamen"): ("users.csv", "givenName"),
    (StaffRecord, "voorvoegsel"): ("users.csv", "middleName"),
    (StaffRecord, "achternaam"): ("users.csv", "familyName"),
    (StaffRecord, "email"): ("users.csv", "email"),
}
EDEXML_LABELS: dict[tuple[type, str], tuple[str, str]] = {
    (SchoolRecord, "name"): ("las.xml", "school/schoolnaam"),
    (GroupRecord, "key"): ("las.xml", "groep/@key"),
    (GroupRecord, "name"): ("las.xml", "groep/naam"),
    (GroupRecord, "year_level"): ("las.xml", "groep/jaargroep"),
    (StudentRecord, "key"): ("las.xml", "leerling/@key"),
    (StudentRecord, "roepnaam"): ("las.xml", "leerling/roepnaam"),
    (StudentRecord, "voornamen"): ("las.xml", "leerling/voornamen"),
    (StudentRecord, "voorvoegsel"): ("las.xml", "leerling/voorvoegsel"),
    (StudentRecord, "achternaam"): ("las.xml", "leerling/achternaam"),
    (StudentRecord, "year_level"): ("las.xml", "leerling/jaargroep"),
    (StudentRecord, "eck_id"): ("las.xml", "leerling/@eckid"),
    (StaffRecord, "key"): ("las.xml", "leerkracht/@key"),
    (StaffRecord, "voornamen"): ("las.xml", "leerkracht/voornamen"),
    (StaffRecord, "voorvoegsel"): ("las.xml", "leerkracht/voorvoegsel"),
    (StaffRecord, "achternaam"): ("las.xml", "leerkracht/achternaam"),
    (StaffRecord, "email"): ("las.xml", "leerkracht/emailadres"),
}
# Written fields a format cannot make too long, and why.
NOT_CARRIED: dict[tuple[Format, type, str], str] = {
    ("oneroster", SchoolRecord, "brin"): "orgs.csv identifier: check_brin fixes its form",
    ("oneroster", SchoolRecord, "vestiging"): "orgs.csv identifier: check_brin fixes its form",
    ("oneroster", GuardianRecord, "relation"): "the user's role: parent, guardian or relative",
    ("edexml", SchoolRecord, "brin"): "brincode: check_brin fixes its form",
    ("edexml", SchoolRecord, "vestiging"): "dependancecode: 2 digits",
    ("edexml", SchoolYearRecord, "title"): "schooljaar: YYYY-YYYY",
    **{
        ("edexml", GuardianRecord, name): "EDEXML has no guardians"
        for name in WRITTEN[GuardianRecord]
    },
}
CASES = [
    (form, record, attribute)
    for form in ("oneroster", "edexml")
    for record in RECORDS
    for attribute in WRITTEN[record]
    if (form, record, attribute) not in NOT_CARRIED
]


def too_long(record: type, attribute: str) -> str:
    column = WRITTEN[record][attribute]
    limit = column.max_length
    assert isinstance(limit, int)
    if attribute == "eck_id":
        return "https://ketenid.example/1/" + "ab" * limit
    if attribute == "email":
        return "x" * limit + "@ouders.example"
    return "Q" * (limit + 1)


def with_value(export: RosterExport, record: type, attribute: str, value: str) -> RosterExport:
    """``export`` with ``attribute`` of the first record of ``record``'s kind set to ``value``;
    a changed key is changed in the references to it too."""
    kinds: dict[type, str] = {
        SchoolRecord: "schools",
        SchoolYearRecord: "school_years",
        GroupRecord: "groups",
        StudentRecord: "students",
        GuardianRecord: "guardians",
        StaffRecord: "staff",
    }
    records: list[Any] = list(getattr(export, kinds[record]))
    old = records[0]
    records[0] = replace(old, **{attribute: value})
    changed = replace(export)
    setattr(changed, kinds[record], records)
    if attribute != "key":
        return changed

    def rename(keys: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(value if key == old.key else key for key in keys)

    if record is GroupRecord:
        changed.students = [replace(s, group_keys=rename(s.group_keys)) for s in changed.students]
        changed.staff = [replace(s, group_keys=rename(s.group_keys)) for s in changed.staff]
    if record is StudentRecord:
        changed.guardians = [
            replace(g, student_keys=rename(g.student_keys)) for g in changed.guardians
        ]
    return changed


def parse(form: Format, export: RosterExport, directory: Path) -> RosterExport:
    if form == "oneroster":
        path = directory / "las.zip"
        write_oneroster(export, path)
        return problems_in_english(parse_oneroster(path, LIMITS))
    path = directory / "las.xml"
    write_edexml(export, export.schools[0].key, path)
    return problems_in_english(parse_edexml(path, LIMITS))


@pytest.mark.parametrize(
    ("form", "record", "attribute"),
    CASES,
    ids=[f"{form}-{record.__name__}.{attribute}" for form, record, attribute in CASES],
)
def test_each_parser_refuses_a_value_longer_than_its_column(
    tmp_path: Path, rng: random.Random, form: Format, record: type, attribute: str
) -> None:
    value = too_long(record, attribute)
    export = with_value(school_export(rng, pupils=2), record, attribute, value)

    parsed = parse(form, export, tmp_path)

    labels = ONEROSTER_LABELS if form == "oneroster" else EDEXML_LABELS
    column = WRITTEN[record][attribute]
    limit = column.max_length
    found = [
        problem
        for problem in parsed.problems
        if (problem.file, problem.field) == labels[(record, attribute)]
    ]
    assert found, parsed.problems
    assert found[0].line is not None
    assert f"longer than {limit} characters" in found[0].reason
    for problem in parsed.problems:
        assert "QQQQ" not in str(problem)
        assert "abab" not in str(problem)
        assert "xxxx" not in str(problem)


def test_the_labels_cover_every_carried_field() -> None:
    for form, record, attribute in CASES:
        labels = ONEROSTER_LABELS if form == "oneroster" else EDEXML_LABELS
        assert (record, attribute) in labels, (form, record.__name__, attribute)


# --- the plan checks every record again, whatever built the export -------------------------


@pytest.mark.django_db
def test_the_plan_refuses_an_over_long_value_of_an_export_built_in_code(rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=2)
    long_name = replace(export.students[1], achternaam="Q" * 201)
    export.students = [export.students[0], long_name]

    plan = plan_import(export, board)

    assert [(p.line, p.field, in_english(p).reason) for p in plan.problems] == [
        (None, "achternaam", "longer than 200 characters, the most this field holds")
    ]
    with pytest.raises(ExportRefused) as refused, transaction.atomic():
        apply_export(export, board, actor="test", pseudonyms={})
    assert "QQQQ" not in str(refused.value)
    assert not School.objects.exists()
    assert not Student.objects.exists()


# --- end to end, on SQLite and on PostgreSQL --------------------------------------------------


def over_long(export: RosterExport, length: int) -> RosterExport:
    return replace(
        export,
        students=[
            replace(export.students[0], achternaam="Lang" * (length // 4)),
            *export.students[1:],
        ],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("length", [204, 10_000])
@pytest.mark.parametrize("form", ["oneroster", "edexml"])
def test_a_new_pupil_with_an_over_long_name_is_refused_and_nothing_is_written(
    tmp_path: Path,
    rng: random.Random,
    capsys: pytest.CaptureFixture[str],
    form: Format,
    length: int,
) -> None:
    from django.core.management import CommandError, call_command

    board = make_board()
    export = over_long(school_export(rng, pupils=3), length)
    path = tmp_path / ("las.zip" if form == "oneroster" else "las.xml")
    if form == "oneroster":
        write_oneroster(export, path)
    else:
        write_edexml(export, export.schools[0].key, path)

    with pytest.raises(CommandError) as error:
        call_command("import", str(path), "--board", board.bestuursnummer)

    assert error.value.returncode == 2
    output = capsys.readouterr()
    assert "longer than 200 characters" in output.err
    assert "LangLang" not in output.err + output.out + str(error.value)
    assert not Student.objects.exists()
    assert not Staff.objects.exists()


@pytest.mark.django_db
def test_an_existing_pupils_name_is_not_cut_to_fit(tmp_path: Path, rng: random.Random) -> None:
    board = make_board()
    export = school_export(rng, pupils=3)
    path = tmp_path / "las.zip"
    write_oneroster(export, path)
    run = services.upload(path, "las.zip", board, user=None)
    services.apply(run, user=None)
    before = Student.objects.get(las_key=export.students[0].key).achternaam

    write_oneroster(over_long(export, 204), path)
    later = services.upload(path, "las.zip", board, user=None)

    assert later.status == ImportStatus.REFUSED
    assert [(p["file"], p["line"], p["field"]) for p in later.problems] == [
        ("users.csv", 2, "familyName")
    ]
    assert Student.objects.get(las_key=export.students[0].key).achternaam == before


def test_a_birth_date_in_the_future_is_refused_in_both_formats(
    tmp_path: Path, rng: random.Random
) -> None:
    export = school_export(rng, pupils=2)
    export.students = [replace(export.students[0], birth_date=date(2999, 1, 1)), export.students[1]]
    for form, label in (("oneroster", "birthDate"), ("edexml", "leerling/geboortedatum")):
        parsed = parse(form, export, tmp_path)
        assert [(p.field, p.reason) for p in parsed.problems] == [
            (label, "a birth date in the future")
        ]


@pytest.mark.django_db
def test_a_database_error_while_writing_quotes_no_value() -> None:
    """PostgreSQL's message for a refused row quotes it (``Key (…)=(…)``, ``COPY … column x:
    "…"``); the importer's error names the table and the kind of error only."""
    board = make_board()
    school = School.objects.create(board=board, brin="99XA", name="School", sector="PO")
    row = (school.pk, "SENTINEL-Zoë-Jansen", "Groep 5", "group", "5", None, True)
    columns = ["school_id", "las_key", "name", "kind", "year_level", "school_year_id", "is_active"]
    insert_rows(Group._meta.db_table, columns, [row])

    with pytest.raises(ImportWriteFailed) as error, transaction.atomic():
        insert_rows(Group._meta.db_table, columns, [row])

    shown = "".join(traceback.format_exception(error.value))
    assert "roster_group" in str(error.value)
    assert "SENTINEL" not in shown
    assert "Zoë" not in shown


EMAIL_CHARACTERS = "aZ09._%+-@é!#'\"[]:x. "


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(EMAIL_CHARACTERS, max_size=30),
        st.from_regex(r"[a-z0-9._%+-]{1,12}@[a-z0-9.-]{1,12}\.[a-zA-Z0-9-]{1,5}", fullmatch=True),
    )
)
def test_the_fast_e_mail_check_accepts_only_what_the_fields_validator_accepts(value: str) -> None:
    column = WRITTEN[StaffRecord]["email"]
    assert column.passes is not None
    if column.passes(value):
        for check in column.checks:
            check(value)  # raises ValidationError if the fast check let too much through


@pytest.mark.parametrize("value", ["f.bakker@school.example", "o'neil@school.example", "a@b.nl"])
def test_an_address_the_fast_check_does_not_know_goes_to_the_validator(value: str) -> None:
    assert column_problem(StaffRecord, "email", value) is None
