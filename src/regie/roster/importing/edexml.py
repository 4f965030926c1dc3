"""EDEXML import and export: the XML in which Dutch LAS products export a school's roster.

EDEXML is Edustandaard's exchange format for pupil and group data ("EDEXML 2.x", the XML of the
UWLR afspraak, "Uitwisseling Leerlinggegevens"). One file describes one school (one BRIN plus
dependance) in one school year. regie reads this subset of it, matching local names so that a file
works with or without a namespace, and ignores every other element:

- ``school``: ``schooljaar`` (``YYYY-YYYY``), ``brincode``, ``dependancecode`` (``00`` or absent:
  no vestiging), ``schoolnaam`` and ``sector`` (optional; ``sector`` is a regie extension).
- ``groepen/groep[@key]`` and ``samengestelde_groepen/samengestelde_groep[@key]``: ``naam``,
  ``jaargroep``.
- ``leerlingen/leerling[@key, @eckid]``: ``achternaam``, ``voorvoegsel``, ``roepnaam``,
  ``voornamen``, ``geboortedatum``, ``geslacht`` (1 man, 2 vrouw, 0/9 onbekend, X), ``jaargroep``,
  ``bsn_ondwnr`` (the PGN), ``groep[@key]`` and ``samengestelde_groepen/samengestelde_groep[@key]``.
- ``leerkrachten/leerkracht[@key]``: ``achternaam``, ``voorvoegsel``, ``roepnaam``, ``voornamen``,
  ``emailadres`` and ``groepen/(groep|samengestelde_groep)[@key]``.

EDEXML has no guardians. The parser streams (expat through defusedxml, one record in memory at a
time), refuses DTDs and entities, and reports content problems by file, line, field and reason,
never with a value from the file.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import IO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from regie.lib.identifiers import InvalidIdentifier, check_brin, check_pgn
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

SOURCE_FORMAT = "edexml"
ROOT = "EDEX"
MAX_PROBLEMS = 1000
MAX_VALUE_CHARACTERS = 10_000  # of one element's text
MAX_RECORD_ELEMENTS = 5_000  # elements inside one school, groep, leerling or leerkracht
_CHUNK_BYTES = 64 * 1024

# container element → its record element
_CONTAINERS = {
    "groepen": "groep",
    "samengestelde_groepen": "samengestelde_groep",
    "leerlingen": "leerling",
    "leerkrachten": "leerkracht",
}
_GENDERS = {"1": Gender.MALE, "2": Gender.FEMALE, "0": Gender.UNKNOWN, "9": Gender.UNKNOWN}
_GENDERS |= {"X": Gender.OTHER, "x": Gender.OTHER}
_GENDER_CODES = {Gender.MALE: "1", Gender.FEMALE: "2", Gender.OTHER: "X", Gender.UNKNOWN: "0"}
_KIND_NAMES = {GroupKind.GROUP: "groep", GroupKind.COMPOSITE: "samengestelde_groep"}
_GROUP_CONTAINERS = ((GroupKind.GROUP, "groepen"), (GroupKind.COMPOSITE, "samengestelde_groepen"))

_BOM = b"\xef\xbb\xbf"
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
_DECLARED_ENCODING = re.compile(
    rb"<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']"
)
_EXPAT_ENCODINGS = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "iso8859-1", "ascii"}
_SCHOOL_YEAR = re.compile(r"([0-9]{4})-([0-9]{4})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TWO_DIGITS = re.compile(r"[0-9]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(slots=True, eq=False)
class _Node:
    """One element inside a record: its local name, attributes, start line, children, text."""

    name: str
    attributes: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    def first(self, name: str) -> _Node | None:
        return next((child for child in self.children if child.name == name), None)


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _refused(file: str, line: int | None, reason: str) -> ImportRefused:
    return ImportRefused(Problem(file=file, line=line, field=None, reason=reason))


class _Reader:
    """The parser's target: turns expat's start/data/end events into records, one at a time."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.line_number: Callable[[], int] = lambda: 0  # the parser's, once it exists
        self.export = RosterExport(source_format=SOURCE_FORMAT)
        self._depth = 0
        self._container = ""
        self._open: list[_Node | None] = []  # the open elements of the current record
        self._record_elements = 0
        self._record_start = (0, "")
        self._root_line = 1
        self._school_key: str | None = None
        self._school_year_key = ""
        self._groups: dict[str, GroupRecord] = {}
        self._students: dict[str, StudentRecord] = {}
        self._staff: dict[str, StaffRecord] = {}
        self._pending: list[tuple[int, str, str, GroupKind]] = []  # references not yet resolved
        self._suppressed = 0
        self._strings: dict[str, str] = {}
        self._dates: dict[str, date] = {}
        self._key_tuples: dict[tuple[str, ...], tuple[str, ...]] = {}

    # -- expat events ------------------------------------------------------------------------

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self._depth += 1
        name = _local(tag)
        if self._open:
            self._start_inside_record(name, attributes)
        elif self._depth == 1:
            if name != ROOT:
                shown = name[:40] + ("…" if len(name) > 40 else "")
                reason = f"not an EDEXML file: the root element is {shown}"
                raise _refused(self.file, self.line_number(), reason)
            self._root_line = self.line_number()
        elif self._depth == 2 and name == "school":
            self._open_record(name, attributes)
        elif self._depth == 2:
            self._container = name if name in _CONTAINERS else ""
        elif self._depth == 3 and self._container and name == _CONTAINERS[self._container]:
            self._open_record(name, attributes)

    def data(self, text: str) -> None:
        node = self._open[-1] if self._open else None
        if node is None:
            return
        if node.size + len(text) > MAX_VALUE_CHARACTERS:
            if node.size <= MAX_VALUE_CHARACTERS:
                reason = f"the value is longer than {MAX_VALUE_CHARACTERS:,} characters"
                self._problem(node.line, self._field_of(node), reason)
                node.parts.append(text[: MAX_VALUE_CHARACTERS - node.size])  # not empty, then
            node.size = MAX_VALUE_CHARACTERS + 1
            return
        node.parts.append(text)
        node.size += len(text)

    def end(self, tag: str) -> None:
        if self._open:
            node = self._open.pop()
            if not self._open and node is not None:
                self._dispatch(node)
        elif self._depth == 2:
            self._container = ""
        self._depth -= 1

    def close(self) -> None:
        return None

    # -- records -----------------------------------------------------------------------------

    def _open_record(self, name: str, attributes: dict[str, str]) -> None:
        self._record_elements = 0
        self._record_start = (self.line_number(), name)
        self._open.append(_Node(name, _local_attributes(attributes), self._record_start[0]))

    def _start_inside_record(self, name: str, attributes: dict[str, str]) -> None:
        self._record_elements += 1
        parent = self._open[-1]
        if parent is None or self._record_elements > MAX_RECORD_ELEMENTS:
            if self._record_elements == MAX_RECORD_ELEMENTS + 1:
                line, name = self._record_start
                reason = f"the element holds more than {MAX_RECORD_ELEMENTS:,} elements"
                self._problem(line, name, reason)
            self._open.append(None)
            return
        node = _Node(name, _local_attributes(attributes), self.line_number())
        parent.children.append(node)
        self._open.append(node)

    def _field_of(self, node: _Node) -> str:
        names = [open_node.name for open_node in self._open if open_node is not None]
        return "/".join(names) if names else node.name

    def _dispatch(self, node: _Node) -> None:
        if node.name == "school":
            self._read_school(node)
        elif node.name == "groep":
            self._read_group(node, GroupKind.GROUP)
        elif node.name == "samengestelde_groep":
            self._read_group(node, GroupKind.COMPOSITE)
        elif node.name == "leerling":
            self._read_student(node)
        else:
            self._read_staff(node)

    def _read_school(self, node: _Node) -> None:
        if self._school_key is not None:
            reason = "a second school element: an EDEXML file describes one school"
            self._problem(node.line, "school", reason)
            return
        self._school_key = ""
        brin = self._required(node, "brincode")
        vestiging = ""
        if brin:
            try:
                check_brin(brin)
            except InvalidIdentifier as error:
                self._problem(self._line_of(node, "brincode"), "school/brincode", str(error))
                brin = ""
            brin, vestiging = brin[:4], brin[4:]
        dependance = self._optional(node, "dependancecode")
        if dependance and not _TWO_DIGITS.fullmatch(dependance):
            reason = "a dependancecode is 2 digits"
            self._problem(self._line_of(node, "dependancecode"), "school/dependancecode", reason)
        elif dependance and dependance != "00":
            vestiging = dependance
        sector = self._sector(node)
        school_year = self._school_year(node)
        if brin:
            self._school_key = brin + vestiging
            name = self._optional(node, "schoolnaam")
            school = SchoolRecord(self._school_key, brin, vestiging, name, sector, node.line)
            self.export.schools.append(school)
        if school_year is not None:
            self._school_year_key = school_year.key
            self.export.school_years.append(school_year)

    def _sector(self, node: _Node) -> Sector | None:
        value = self._optional(node, "sector")
        if not value:
            return None
        if value not in Sector.__members__:
            reason = "unknown sector; expected PO, VO, MBO or HO"
            self._problem(self._line_of(node, "sector"), "school/sector", reason)
            return None
        return Sector(value)

    def _school_year(self, node: _Node) -> SchoolYearRecord | None:
        title = self._required(node, "schooljaar")
        if not title:
            return None
        match = _SCHOOL_YEAR.fullmatch(title)
        if not match or int(match[2]) != int(match[1]) + 1:
            reason = "a schooljaar is two consecutive years, written YYYY-YYYY"
            self._problem(self._line_of(node, "schooljaar"), "school/schooljaar", reason)
            return None
        first = int(match[1])
        return SchoolYearRecord(title, title, date(first, 8, 1), date(first + 1, 7, 31), node.line)

    def _read_group(self, node: _Node, kind: GroupKind) -> None:
        key = self._key(node)
        name = self._required(node, "naam")
        if key is None or not self._unique(key, node, self._groups):
            return
        year_level = self._optional(node, "jaargroep")
        group = GroupRecord(
            key, self._school_key or "", name, kind, year_level, self._school_year_key, node.line
        )
        self._groups[key] = group
        self.export.groups.append(group)

    def _read_student(self, node: _Node) -> None:
        key = self._key(node)
        achternaam = self._required(node, "achternaam")
        student = StudentRecord(
            key=key or "",
            school_key=self._school_key or "",
            roepnaam=self._optional(node, "roepnaam"),
            voornamen=self._optional(node, "voornamen"),
            voorvoegsel=self._optional(node, "voorvoegsel"),
            achternaam=achternaam,
            birth_date=self._birth_date(node),
            gender=self._gender(node),
            year_level=self._optional(node, "jaargroep"),
            group_keys=self._references(_student_references(node)),
            eck_id=self._eck_id(node),
            pgn=self._pgn(node),
            line=node.line,
        )
        if key is not None and self._unique(key, node, self._students):
            self._students[key] = student
            self.export.students.append(student)

    def _read_staff(self, node: _Node) -> None:
        key = self._key(node)
        achternaam = self._required(node, "achternaam")
        email = self._optional(node, "emailadres")
        if email and not _EMAIL.fullmatch(email):
            reason = "not an e-mail address"
            self._problem(self._line_of(node, "emailadres"), "leerkracht/emailadres", reason)
        groups = node.first("groepen")
        references = groups.children if groups is not None else []
        staff = StaffRecord(
            key=key or "",
            school_key=self._school_key or "",
            voornamen=self._optional(node, "voornamen") or self._optional(node, "roepnaam"),
            voorvoegsel=self._optional(node, "voorvoegsel"),
            achternaam=achternaam,
            email=email,
            roles=(StaffRole.TEACHER,),
            group_keys=self._references(references, prefix="leerkracht/groepen"),
            line=node.line,
        )
        if key is not None and self._unique(key, node, self._staff):
            self._staff[key] = staff
            self.export.staff.append(staff)

    # -- fields ------------------------------------------------------------------------------

    def _optional(self, node: _Node, name: str) -> str:
        child = node.first(name)
        return self._shared(child.text) if child is not None else ""

    def _shared(self, value: str) -> str:
        """One string object per distinct value (names repeat): keeps large exports small."""
        return self._strings.setdefault(value, value)

    def _required(self, node: _Node, name: str) -> str:
        child = node.first(name)
        if child is None:
            self._problem(node.line, f"{node.name}/{name}", "required element is missing")
            return ""
        if not child.text:
            self._problem(child.line, f"{node.name}/{name}", "required element is empty")
        return self._shared(child.text)

    def _line_of(self, node: _Node, name: str) -> int:
        child = node.first(name)
        return child.line if child is not None else node.line

    def _key(self, node: _Node) -> str | None:
        key = node.attributes.get("key", "").strip()
        if not key:
            self._problem(node.line, f"{node.name}/@key", "required attribute is missing or empty")
            return None
        return key

    def _unique(self, key: str, node: _Node, seen: Mapping[str, Record]) -> bool:
        earlier = seen.get(key)
        if earlier is None:
            return True
        reason = f"duplicate key: the {_record_noun(earlier)} on line {earlier.line} has it too"
        self._problem(node.line, f"{node.name}/@key", reason)
        return False

    def _birth_date(self, node: _Node) -> date | None:
        value = self._optional(node, "geboortedatum")
        if not value or value in self._dates:
            return self._dates.get(value)
        try:
            if not _ISO_DATE.fullmatch(value):
                raise ValueError
            return self._dates.setdefault(value, date.fromisoformat(value))
        except ValueError:
            reason = "not a date in the form YYYY-MM-DD"
            self._problem(self._line_of(node, "geboortedatum"), "leerling/geboortedatum", reason)
            return None

    def _gender(self, node: _Node) -> Gender:
        value = self._optional(node, "geslacht")
        if not value:
            return Gender.UNKNOWN
        gender = _GENDERS.get(value)
        if gender is None:
            reason = "unknown gender code; expected 1 (man), 2 (vrouw), 0 or 9 (onbekend) or X"
            self._problem(self._line_of(node, "geslacht"), "leerling/geslacht", reason)
            return Gender.UNKNOWN
        return gender

    def _pgn(self, node: _Node) -> str:
        child = node.first("bsn_ondwnr")
        if child is None or not child.text:
            return ""
        try:
            return check_pgn(child.text)
        except InvalidIdentifier as error:
            self._problem(child.line, "leerling/bsn_ondwnr", str(error))
            return ""

    def _eck_id(self, node: _Node) -> str:
        eck_id = node.attributes.get("eckid", "").strip()
        if eck_id and (not eck_id.startswith("https://") or any(c.isspace() for c in eck_id)):
            self._problem(node.line, "leerling/@eckid", "an ECK iD is an https URI")
            return ""
        return eck_id

    def _references(self, references: Iterable[_Node], prefix: str = "leerling") -> tuple[str, ...]:
        keys: list[str] = []
        for reference in references:
            kind = {"groep": GroupKind.GROUP, "samengestelde_groep": GroupKind.COMPOSITE}.get(
                reference.name
            )
            if kind is None:
                continue
            field_name = f"{prefix}/{reference.name}/@key"
            key = reference.attributes.get("key", "").strip()
            if not key:
                self._problem(reference.line, field_name, "required attribute is missing or empty")
            elif key in keys:
                self._problem(reference.line, field_name, "the same group is listed twice")
            else:
                keys.append(self._resolve(reference.line, field_name, key, kind))
        found = tuple(keys)
        return self._key_tuples.setdefault(found, found)  # pupils of one group share it

    def _resolve(self, line: int, field_name: str, key: str, kind: GroupKind) -> str:
        group = self._groups.get(key)
        if group is None:  # perhaps defined further on: checked when the file has been read
            self._pending.append((line, field_name, key, kind))
            return key
        self._check_kind(line, field_name, group, kind)
        return group.key  # the group's own string, so that references share it

    def _check_kind(self, line: int, field_name: str, group: GroupRecord, kind: GroupKind) -> None:
        if group.kind is not kind:
            reason = f"refers to a {_KIND_NAMES[group.kind]} where a {_KIND_NAMES[kind]} belongs"
            self._problem(line, field_name, reason)

    def _problem(self, line: int | None, field_name: str | None, reason: str) -> None:
        if len(self.export.problems) >= MAX_PROBLEMS:
            self._suppressed += 1
            return
        self.export.problems.append(Problem(self.file, line, field_name, reason))

    # -- the end -----------------------------------------------------------------------------

    def finish(self) -> RosterExport:
        if self._school_key is None:
            self._problem(self._root_line, "school", "required element is missing")
        for line, field_name, key, kind in self._pending:
            group = self._groups.get(key)
            if group is None:
                self._problem(line, field_name, "refers to a group that the file does not define")
            else:
                self._check_kind(line, field_name, group, kind)
        self._pending.clear()
        self._fill_in_school()
        if self._suppressed:
            more = f"and {self._suppressed:,} more problems"
            self.export.problems.append(Problem(self.file, None, None, more))
        return self.export

    def _fill_in_school(self) -> None:
        """Give records read before the school element the school's key and school year."""
        school_key, year_key = self._school_key or "", self._school_year_key
        export = self.export
        if any(
            (group.school_key, group.school_year_key) != (school_key, year_key)
            for group in export.groups
        ):
            export.groups = [
                replace(group, school_key=school_key, school_year_key=year_key)
                for group in export.groups
            ]
        if any(student.school_key != school_key for student in export.students):
            export.students = [
                replace(student, school_key=school_key) for student in export.students
            ]
        if any(staff.school_key != school_key for staff in export.staff):
            export.staff = [replace(staff, school_key=school_key) for staff in export.staff]


Record = GroupRecord | StudentRecord | StaffRecord


def _record_noun(record: Record) -> str:
    if isinstance(record, GroupRecord):
        return _KIND_NAMES[record.kind]
    return "leerling" if isinstance(record, StudentRecord) else "leerkracht"


def _student_references(leerling: _Node) -> list[_Node]:
    """A pupil's ``groep`` and ``samengestelde_groepen/samengestelde_groep``, in document order."""
    references: list[_Node] = []
    for child in leerling.children:
        if child.name == "groep":
            references.append(child)
        elif child.name == "samengestelde_groepen":
            references += [sub for sub in child.children if sub.name == "samengestelde_groep"]
    return references


def _local_attributes(attributes: dict[str, str]) -> dict[str, str]:
    return {_local(name): value for name, value in attributes.items()}


# -- reading the bytes -------------------------------------------------------------------------


def parse_edexml(
    source: Path, limits: Limits | None = None, *, name: str | None = None
) -> RosterExport:
    """Read and validate one EDEXML file. Content problems are in ``problems``, naming the file
    as ``name`` (the name it was uploaded under; default: its own name on disk).

    Raises :class:`ImportRefused` when the file cannot be read as EDEXML at all: empty, too
    large, not XML, badly encoded, malformed, declaring a DTD or entities, or another root.
    """
    limits = limits or Limits.from_settings()
    file = name or source.name
    size = source.stat().st_size
    if size == 0:
        raise _refused(file, None, "the file is empty")
    if size > limits.max_upload_bytes:
        reason = f"the file is {size:,} bytes; at most {limits.max_upload_bytes:,} are accepted"
        raise _refused(file, None, reason)
    reader = _Reader(file)
    parser = DefusedXMLParser(target=reader, forbid_dtd=True)
    reader.line_number = lambda: parser.parser.CurrentLineNumber
    with source.open("rb") as stream:
        try:
            _feed(stream, parser, file, limits.max_upload_bytes)
        except ParseError as error:
            message = str(error).rsplit(": line ", 1)[0]
            reason = f"the file is not well-formed XML: {message}"
            raise _refused(file, error.position[0], reason) from None
        except DefusedXmlException:
            line = parser.parser.CurrentLineNumber
            reason = "the XML declares a DTD or entities, which are not allowed"
            raise _refused(file, line, reason) from None
    return reader.finish()


def _feed(stream: IO[bytes], parser: DefusedXMLParser, file: str, max_bytes: int) -> None:
    chunk = stream.read(_CHUNK_BYTES)
    utf8_reason = _sniff(chunk, file)
    decoder = codecs.getincrementaldecoder("utf-8")() if utf8_reason else None
    lines_before = 0
    total = 0
    while chunk:
        total += len(chunk)
        if total > max_bytes:
            raise _refused(file, None, f"the file is larger than {max_bytes:,} bytes")
        if decoder is not None:
            _check_utf8(decoder, chunk, lines_before, file, utf8_reason)
            lines_before += chunk.count(b"\n")
        parser.feed(chunk)
        chunk = stream.read(_CHUNK_BYTES)
    if decoder is not None:
        _check_utf8(decoder, b"", lines_before, file, utf8_reason, final=True)
    parser.close()


def _sniff(first: bytes, file: str) -> str:
    """Refuse what is not XML or names an unusable encoding; say whether to check UTF-8.

    Returns ``""`` when expat alone can be trusted with the encoding, else the reason to give
    when the bytes are not UTF-8.
    """
    if first.startswith(_UTF16_STARTS):
        return ""
    body = first.removeprefix(_BOM).lstrip(b" \t\r\n")
    if not body:
        raise _refused(file, None, "the file is empty: it holds only white space")
    if not body.startswith(b"<") or b"\x00" in first:
        raise _refused(file, None, "not an XML file")
    declared = _DECLARED_ENCODING.match(body)
    if declared is None:
        return "the file is not valid UTF-8, and its XML declaration names no other encoding"
    try:
        codec = codecs.lookup(declared[1].decode("ascii")).name
    except LookupError:
        reason = "the XML declaration names an unknown encoding; use UTF-8 or windows-1252"
        raise _refused(file, 1, reason) from None
    if codec == "utf-8":
        return "the file declares UTF-8 but is not valid UTF-8"
    if codec not in _EXPAT_ENCODINGS and len(bytes(range(256)).decode(codec, "replace")) != 256:
        reason = "the XML declaration names a multi-byte encoding; use UTF-8 or windows-1252"
        raise _refused(file, 1, reason)
    return ""


def _check_utf8(
    decoder: codecs.IncrementalDecoder,
    chunk: bytes,
    lines_before: int,
    file: str,
    reason: str,
    final: bool = False,
) -> None:
    pending = decoder.getstate()[0]
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError as error:
        # ``pending`` is the start of a multi-byte sequence: it holds no newline.
        line = lines_before + chunk[: max(0, error.start - len(pending))].count(b"\n") + 1
        raise _refused(file, line, reason) from None


# -- writing -----------------------------------------------------------------------------------


def write_edexml(export: RosterExport, school_key: str, target: Path) -> None:
    """Write one school of ``export`` as an EDEXML file that :func:`parse_edexml` reads back.

    EDEXML holds one school: only that school's groups, pupils and staff are written, the
    ``groepen`` before the ``samengestelde_groepen``, and in each pupil the ``groep`` before the
    ``samengestelde_groep`` references. Guardians are not part
    of EDEXML. Raises ``ValueError`` when the school or its school year is not in the export.
    """
    school = next((school for school in export.schools if school.key == school_key), None)
    if school is None:
        raise ValueError("the export has no school with that key")
    groups = [group for group in export.groups if group.school_key == school_key]
    year_keys = [group.school_year_key for group in groups if group.school_year_key]
    years = [year for year in export.school_years if not year_keys or year.key == year_keys[0]]
    if not years:
        raise ValueError("EDEXML needs the school year of the school's groups")
    kinds = {group.key: group.kind for group in groups}
    with target.open("w", encoding="utf-8", newline="\n") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<EDEX>\n')
        _write_school(out, school, years[0].title)
        for kind, container in _GROUP_CONTAINERS:
            out.write(f"  <{container}>\n")
            for group in groups:
                if group.kind is kind:
                    _write_group(out, group)
            out.write(f"  </{container}>\n")
        out.write("  <leerlingen>\n")
        for student in export.students:
            if student.school_key == school_key:
                _write_student(out, student, kinds)
        out.write("  </leerlingen>\n  <leerkrachten>\n")
        for staff in export.staff:
            if staff.school_key == school_key:
                _write_staff(out, staff, kinds)
        out.write("  </leerkrachten>\n</EDEX>\n")


def _write_school(out: IO[str], school: SchoolRecord, school_year: str) -> None:
    created = datetime.now().replace(microsecond=0).isoformat()
    out.write("  <school>\n")
    out.write(_element(4, "schooljaar", school_year))
    out.write(_element(4, "brincode", school.brin))
    out.write(_element(4, "dependancecode", school.vestiging or "00"))
    out.write(_element(4, "aanmaakdatum", created))
    out.write(_element(4, "auteur", "regie"))
    out.write(_element(4, "xsdversie", "2.1"))
    out.write(_element(4, "schoolnaam", school.name))
    if school.sector is not None:
        out.write(_element(4, "sector", school.sector.value))
    out.write("  </school>\n")


def _write_group(out: IO[str], group: GroupRecord) -> None:
    name = _KIND_NAMES[group.kind]
    out.write(f"    <{name} key={_attribute(group.key)}>\n")
    out.write(_element(6, "naam", group.name))
    out.write(_element(6, "jaargroep", group.year_level))
    out.write(f"    </{name}>\n")


def _write_student(out: IO[str], student: StudentRecord, kinds: dict[str, GroupKind]) -> None:
    eck_id = f" eckid={_attribute(student.eck_id)}" if student.eck_id else ""
    out.write(f"    <leerling key={_attribute(student.key)}{eck_id}>\n")
    out.write(_element(6, "achternaam", student.achternaam))
    out.write(_element(6, "voorvoegsel", student.voorvoegsel))
    out.write(_element(6, "roepnaam", student.roepnaam))
    out.write(_element(6, "voornamen", student.voornamen))
    initials = "".join(f"{name[0]}." for name in student.voornamen.split())
    out.write(_element(6, "voorletters-1", initials))
    if student.birth_date is not None:
        out.write(_element(6, "geboortedatum", student.birth_date.isoformat()))
    out.write(_element(6, "geslacht", _GENDER_CODES[student.gender]))
    out.write(_element(6, "jaargroep", student.year_level))
    if student.pgn:
        out.write(_element(6, "bsn_ondwnr", student.pgn))
    composites = [key for key in student.group_keys if kinds.get(key) is GroupKind.COMPOSITE]
    for key in student.group_keys:
        if key not in composites:
            out.write(f"      <groep key={_attribute(key)}/>\n")
    if composites:
        out.write("      <samengestelde_groepen>\n")
        for key in composites:
            out.write(f"        <samengestelde_groep key={_attribute(key)}/>\n")
        out.write("      </samengestelde_groepen>\n")
    out.write("    </leerling>\n")


def _write_staff(out: IO[str], staff: StaffRecord, kinds: dict[str, GroupKind]) -> None:
    out.write(f"    <leerkracht key={_attribute(staff.key)}>\n")
    out.write(_element(6, "achternaam", staff.achternaam))
    out.write(_element(6, "voorvoegsel", staff.voorvoegsel))
    out.write(_element(6, "voornamen", staff.voornamen))
    out.write(_element(6, "emailadres", staff.email))
    out.write("      <groepen>\n")
    for key in staff.group_keys:
        name = _KIND_NAMES[kinds.get(key, GroupKind.GROUP)]
        out.write(f"        <{name} key={_attribute(key)}/>\n")
    out.write("      </groepen>\n    </leerkracht>\n")


def _element(indent: int, name: str, text: str) -> str:
    if not text:
        return f"{' ' * indent}<{name}/>\n"
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"{' ' * indent}<{name}>{escaped}</{name}>\n"


def _attribute(value: str) -> str:
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    for character, reference in (("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;")):
        escaped = escaped.replace(character, reference)
    return f'"{escaped}"'
