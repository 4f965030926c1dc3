"""The parser's target: expat's start/data/end events → EDEXML records, one record at a time.

Each record element (``school``, ``groep``, ``samengestelde_groep``, ``leerling``,
``leerkracht``) is gathered as a small tree of :class:`Node` and read when it closes; problems
name the file, the line, the field (``leerling/geboortedatum``) and the reason, never a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from django.utils.translation import gettext_noop

from regie.lib.identifiers import InvalidIdentifier, check_brin
from regie.roster.importing.checks import (
    MORE_THAN_ONE_PGN,
    PGN_CHECKS,
    birth_date_problem,
    eck_id_problem,
    identifier_reason,
    pgn_problem,
    repeated_pgns,
    same_pgn,
    today,
)
from regie.roster.importing.fields import Record, record_problems
from regie.roster.importing.records import (
    Gender,
    GroupKind,
    GroupRecord,
    ImportRefused,
    Problem,
    RosterExport,
    SchoolRecord,
    SchoolYearRecord,
    Sector,
    StaffRecord,
    StaffRole,
    StudentRecord,
)

from .vocabulary import (
    CONTAINERS,
    GENDERS,
    KIND_NAMES,
    MAX_PROBLEMS,
    MAX_RECORD_ELEMENTS,
    MAX_VALUE_CHARACTERS,
    ROOT,
    SOURCE_FORMAT,
)

_SCHOOL_YEAR = re.compile(r"([0-9]{4})-([0-9]{4})")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TWO_DIGITS = re.compile(r"[0-9]{2}")
# Where each field of a record is read from: an element of the record, or an @attribute.
_SCHOOL_SOURCES = {"brin": "brincode", "vestiging": "dependancecode", "name": "schoolnaam"}
_GROUP_SOURCES = {"key": "@key", "name": "naam", "year_level": "jaargroep"}
_PERSON_SOURCES = {"key": "@key", "voornamen": "voornamen", "voorvoegsel": "voorvoegsel"}
_PERSON_SOURCES["achternaam"] = "achternaam"
_STUDENT_SOURCES = {**_PERSON_SOURCES, "roepnaam": "roepnaam", "year_level": "jaargroep"}
_STUDENT_SOURCES["eck_id"] = "@eckid"
_STAFF_SOURCES = {**_PERSON_SOURCES, "email": "emailadres"}


@dataclass(slots=True, eq=False)
class Node:
    """One element inside a record: its local name, attributes, start line, children, text."""

    name: str
    attributes: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    def first(self, name: str) -> Node | None:
        return next((child for child in self.children if child.name == name), None)


def _local(name: str) -> str:
    return name.rpartition("}")[2]


REQUIRED_ELEMENT_MISSING = gettext_noop("verplicht element ontbreekt")
REQUIRED_ATTRIBUTE = gettext_noop("verplicht attribuut ontbreekt of is leeg")


def refused(
    file: str, line: int | None, reason: str, params: Mapping[str, str | int] | None = None
) -> ImportRefused:
    """The refusal of a file: ``reason`` a Dutch msgid (``gettext_noop``), see :data:`Reason`."""
    return ImportRefused(
        Problem(file=file, line=line, field=None, reason=reason, params=dict(params or {}))
    )


class Reader:
    """The parser's target: turns expat's start/data/end events into records, one at a time."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.line_number: Callable[[], int] = lambda: 0  # the parser's, once it exists
        # EDEXML lists no guardians, and of the staff only the teachers (leerkrachten).
        self.export = RosterExport(
            source_format=SOURCE_FORMAT, carries_guardians=False, carries_all_staff=False
        )
        self._depth = 0
        self._container = ""
        self._open: list[Node | None] = []  # the open elements of the current record
        self._record_elements = 0
        self._record_start = (0, "")
        self._root_line = 1
        self._school_key: str | None = None
        self._school_year_key = ""
        self._groups: dict[str, GroupRecord] = {}
        self._students: dict[str, StudentRecord] = {}
        self._staff: dict[str, StaffRecord] = {}
        self._pending: list[tuple[int, str, str, GroupKind]] = []  # references not yet resolved
        self._pgn_elements: list[tuple[str, int, str]] = []  # (PGN, line, field): duplicates?
        self._suppressed = 0
        self._strings: dict[str, str] = {}
        self._dates: dict[str, date] = {}
        self._today = today()  # no birth date after it
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
                reason = gettext_noop("geen EDEXML-bestand: het hoofdelement is %(element)s")
                raise refused(self.file, self.line_number(), reason, {"element": shown})
            self._root_line = self.line_number()
        elif self._depth == 2 and name == "school":
            self._open_record(name, attributes)
        elif self._depth == 2:
            self._container = name if name in CONTAINERS else ""
        elif self._depth == 3 and self._container and name == CONTAINERS[self._container]:
            self._open_record(name, attributes)

    def data(self, text: str) -> None:
        node = self._open[-1] if self._open else None
        if node is None:
            return
        if node.size + len(text) > MAX_VALUE_CHARACTERS:
            if node.size <= MAX_VALUE_CHARACTERS:
                reason = gettext_noop("de waarde is langer dan %(most)s tekens")
                self._problem(
                    node.line, self._field_of(node), reason, {"most": MAX_VALUE_CHARACTERS}
                )
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
        self._open.append(Node(name, _local_attributes(attributes), self._record_start[0]))

    def _start_inside_record(self, name: str, attributes: dict[str, str]) -> None:
        self._record_elements += 1
        parent = self._open[-1]
        if parent is None or self._record_elements > MAX_RECORD_ELEMENTS:
            if self._record_elements == MAX_RECORD_ELEMENTS + 1:
                line, name = self._record_start
                reason = gettext_noop("het element bevat meer dan %(most)s elementen")
                self._problem(line, name, reason, {"most": MAX_RECORD_ELEMENTS})
            self._open.append(None)
            return
        node = Node(name, _local_attributes(attributes), self.line_number())
        parent.children.append(node)
        self._open.append(node)

    def _field_of(self, node: Node) -> str:
        names = [open_node.name for open_node in self._open if open_node is not None]
        return "/".join(names) if names else node.name

    def _dispatch(self, node: Node) -> None:
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

    def _read_school(self, node: Node) -> None:
        if self._school_key is not None:
            reason = gettext_noop(
                "een tweede school-element: een EDEXML-bestand beschrijft één school"
            )
            self._problem(node.line, "school", reason)
            return
        self._school_key = ""
        brin = self._required(node, "brincode")
        vestiging = ""
        if brin:
            try:
                check_brin(brin)
            except InvalidIdentifier as error:
                self._problem(
                    self._line_of(node, "brincode"), "school/brincode", identifier_reason(error)
                )
                brin = ""
            brin, vestiging = brin[:4], brin[4:]
        dependance = self._optional(node, "dependancecode")
        if dependance and not _TWO_DIGITS.fullmatch(dependance):
            reason = gettext_noop("een dependancecode heeft 2 cijfers")
            self._problem(self._line_of(node, "dependancecode"), "school/dependancecode", reason)
        elif dependance and dependance != "00":
            vestiging = dependance
        sector = self._sector(node)
        school_year = self._school_year(node)
        if brin:
            self._school_key = brin + vestiging
            name = self._optional(node, "schoolnaam")
            school = SchoolRecord(self._school_key, brin, vestiging, name, sector, node.line)
            self._fits(node, school, _SCHOOL_SOURCES)
            self.export.schools.append(school)
        if school_year is not None:
            self._school_year_key = school_year.key
            self.export.school_years.append(school_year)

    def _sector(self, node: Node) -> Sector | None:
        value = self._optional(node, "sector")
        if not value:
            return None
        if value not in Sector.__members__:
            reason = gettext_noop("onbekende sector; verwacht PO, VO, MBO of HO")
            self._problem(self._line_of(node, "sector"), "school/sector", reason)
            return None
        return Sector(value)

    def _school_year(self, node: Node) -> SchoolYearRecord | None:
        title = self._required(node, "schooljaar")
        if not title:
            return None
        match = _SCHOOL_YEAR.fullmatch(title)
        if not match or int(match[2]) != int(match[1]) + 1:
            reason = gettext_noop(
                "een schooljaar is twee opeenvolgende jaren, geschreven als JJJJ-JJJJ"
            )
            self._problem(self._line_of(node, "schooljaar"), "school/schooljaar", reason)
            return None
        first = int(match[1])
        return SchoolYearRecord(title, title, date(first, 8, 1), date(first + 1, 7, 31), node.line)

    def _read_group(self, node: Node, kind: GroupKind) -> None:
        key = self._key(node)
        name = self._required(node, "naam")
        if key is None or not self._unique(key, node, self._groups):
            return
        year_level = self._optional(node, "jaargroep")
        group = GroupRecord(
            key, self._school_key or "", name, kind, year_level, self._school_year_key, node.line
        )
        self._fits(node, group, _GROUP_SOURCES)
        self._groups[key] = group
        self.export.groups.append(group)

    def _read_student(self, node: Node) -> None:
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
            pgn=pgn.text if (pgn := self._pgn(node)) else "",
            line=node.line,
        )
        self._fits(node, student, _STUDENT_SOURCES)
        if key is not None and self._unique(key, node, self._students):
            self._students[key] = student
            self.export.students.append(student)
            if pgn is not None:
                self._pgn_elements.append((pgn.text, pgn.line, f"leerling/{pgn.name}"))

    def _read_staff(self, node: Node) -> None:
        key = self._key(node)
        achternaam = self._required(node, "achternaam")
        email = self._optional(node, "emailadres")
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
        named = "voornamen" if self._optional(node, "voornamen") else "roepnaam"
        self._fits(node, staff, {**_STAFF_SOURCES, "voornamen": named})
        if key is not None and self._unique(key, node, self._staff):
            self._staff[key] = staff
            self.export.staff.append(staff)

    # -- fields ------------------------------------------------------------------------------

    def _fits(self, node: Node, record: Record, sources: Mapping[str, str]) -> None:
        """A problem for each field of ``record`` that does not fit its database column
        (:mod:`regie.roster.importing.fields`), at the element or ``@attribute`` of ``node`` it
        was read from (``sources``: record field → element)."""
        for attribute, reason in record_problems(record):
            source = sources[attribute]
            element = node.first(source)
            if element is not None and element.size > MAX_VALUE_CHARACTERS:
                continue  # reported as longer than any value may be (:meth:`data`)
            line = element.line if element is not None else node.line
            self._problem(line, f"{node.name}/{source}", *reason)

    def _optional(self, node: Node, name: str) -> str:
        child = node.first(name)
        return self._shared(child.text) if child is not None else ""

    def _shared(self, value: str) -> str:
        """One string object per distinct value (names repeat): keeps large exports small."""
        return self._strings.setdefault(value, value)

    def _required(self, node: Node, name: str) -> str:
        child = node.first(name)
        if child is None:
            self._problem(node.line, f"{node.name}/{name}", REQUIRED_ELEMENT_MISSING)
            return ""
        if not child.text:
            self._problem(
                child.line, f"{node.name}/{name}", gettext_noop("verplicht element is leeg")
            )
        return self._shared(child.text)

    def _line_of(self, node: Node, name: str) -> int:
        child = node.first(name)
        return child.line if child is not None else node.line

    def _key(self, node: Node) -> str | None:
        key = node.attributes.get("key", "").strip()
        if not key:
            self._problem(node.line, f"{node.name}/@key", REQUIRED_ATTRIBUTE)
            return None
        return key

    def _unique(self, key: str, node: Node, seen: Mapping[str, KeyedRecord]) -> bool:
        earlier = seen.get(key)
        if earlier is None:
            return True
        reason = gettext_noop("dubbele key: de %(element)s op regel %(line)s heeft die ook")
        params = {"element": _record_noun(earlier), "line": earlier.line or "?"}
        self._problem(node.line, f"{node.name}/@key", reason, params)
        return False

    def _birth_date(self, node: Node) -> date | None:
        value = self._optional(node, "geboortedatum")
        if not value or value in self._dates:  # only good dates are kept
            return self._dates.get(value)
        try:
            if not _ISO_DATE.fullmatch(value):
                raise ValueError
            birth_date = date.fromisoformat(value)
        except ValueError:
            reason = gettext_noop("geen datum in de vorm JJJJ-MM-DD")
            self._problem(self._line_of(node, "geboortedatum"), "leerling/geboortedatum", reason)
            return None
        future = birth_date_problem(birth_date, self._today)
        if future is not None:
            self._problem(self._line_of(node, "geboortedatum"), "leerling/geboortedatum", future)
            return None
        return self._dates.setdefault(value, birth_date)

    def _gender(self, node: Node) -> Gender:
        value = self._optional(node, "geslacht")
        if not value:
            return Gender.UNKNOWN
        gender = GENDERS.get(value)
        if gender is None:
            reason = gettext_noop(
                "onbekende geslachtscode; verwacht 1 (man), 2 (vrouw), 0 of 9 (onbekend) of X"
            )
            self._problem(self._line_of(node, "geslacht"), "leerling/geslacht", reason)
            return Gender.UNKNOWN
        return gender

    def _pgn(self, node: Node) -> Node | None:
        """The element holding the pupil's PGN: ``bsn``, ``onderwijsnummer`` or ``bsn_ondwnr``
        (one of them); None when there is none or it is not valid (after a problem)."""
        found = [child for child in node.children if child.name in PGN_CHECKS and child.text]
        if not found:
            return None
        first = found[0]
        if len(found) > 1:
            second = found[1]
            self._problem(second.line, f"leerling/{second.name}", MORE_THAN_ONE_PGN)
            return None
        reason = pgn_problem(first.name, first.text)
        if reason is not None:
            self._problem(first.line, f"leerling/{first.name}", reason)
            return None
        return first

    def _eck_id(self, node: Node) -> str:
        eck_id = node.attributes.get("eckid", "").strip()
        reason = eck_id_problem(eck_id) if eck_id else None
        if reason is not None:
            self._problem(node.line, "leerling/@eckid", reason)
            return ""
        return eck_id

    def _references(self, references: Iterable[Node], prefix: str = "leerling") -> tuple[str, ...]:
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
                self._problem(reference.line, field_name, REQUIRED_ATTRIBUTE)
            elif key in keys:
                self._problem(
                    reference.line, field_name, gettext_noop("dezelfde groep staat er twee keer")
                )
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
            reason = gettext_noop("verwijst naar een %(found)s waar een %(expected)s hoort")
            params = {"found": KIND_NAMES[group.kind], "expected": KIND_NAMES[kind]}
            self._problem(line, field_name, reason, params)

    def _problem(
        self,
        line: int | None,
        field_name: str | None,
        reason: str,
        params: Mapping[str, str | int] | None = None,
    ) -> None:
        """Note a problem: ``reason`` a Dutch msgid (``gettext_noop``), see :data:`Reason`."""
        if len(self.export.problems) >= MAX_PROBLEMS:
            self._suppressed += 1
            return
        problem = Problem(self.file, line, field_name, reason, dict(params or {}))
        self.export.problems.append(problem)

    # -- the end -----------------------------------------------------------------------------

    def finish(self) -> RosterExport:
        if self._school_key is None:
            self._problem(self._root_line, "school", REQUIRED_ELEMENT_MISSING)
        for line, field_name, key, kind in self._pending:
            group = self._groups.get(key)
            if group is None:
                self._problem(
                    line,
                    field_name,
                    gettext_noop("verwijst naar een groep die het bestand niet beschrijft"),
                )
            else:
                self._check_kind(line, field_name, group, kind)
        self._pending.clear()
        pgns = ((pgn, (line, field_name)) for pgn, line, field_name in self._pgn_elements)
        for (line, field_name), (first, _) in repeated_pgns(pgns):
            self._problem(line, field_name, *same_pgn(first))
        self._pgn_elements.clear()
        self._fill_in_school()
        if self._suppressed:
            more = gettext_noop("en nog %(count)s fouten")
            self.export.problems.append(
                Problem(self.file, None, None, more, {"count": self._suppressed})
            )
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


KeyedRecord = GroupRecord | StudentRecord | StaffRecord


def _record_noun(record: KeyedRecord) -> str:
    if isinstance(record, GroupRecord):
        return KIND_NAMES[record.kind]
    return "leerling" if isinstance(record, StudentRecord) else "leerkracht"


def _student_references(leerling: Node) -> list[Node]:
    """A pupil's ``groep`` and ``samengestelde_groepen/samengestelde_groep``, in document order."""
    references: list[Node] = []
    for child in leerling.children:
        if child.name == "groep":
            references.append(child)
        elif child.name == "samengestelde_groepen":
            references += [sub for sub in child.children if sub.name == "samengestelde_groep"]
    return references


def _local_attributes(attributes: dict[str, str]) -> dict[str, str]:
    return {_local(name): value for name, value in attributes.items()}
