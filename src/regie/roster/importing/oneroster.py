"""Import and export of 1EdTech OneRoster v1.2 CSV Binding zips, in regie's Dutch profile.

The spec: *1EdTech OneRoster v1.2 CSV Binding*, §2 "CSV Overview" (the zip, ``manifest.csv``,
bulk and delta processing, multi-value fields, ``metadata.*`` extension columns) and §3 "CSV
Format" (the files and their columns). :func:`parse_oneroster` validates a whole zip and returns a
:class:`RosterExport` holding every problem it found (capped at :data:`MAX_PROBLEMS`);
:func:`write_oneroster` writes a bulk zip that :func:`parse_oneroster` reads back equal.

Container (§2): ``manifest.csv`` (``propertyName,value``) is required, with ``manifest.version``
1.0 and ``oneroster.version`` 1.2, and ``file.<name>`` = ``bulk`` | ``delta`` | ``absent``. A file
in the zip that the manifest does not list is a problem; so is a listed file that is missing. If
every file is bulk, the export is bulk (``delta=False``); one delta file makes it a delta.
Reference checks: a reference into a bulk file (or, in a bulk export, an absent one) must
resolve; a reference into a delta or absent file of a delta export may point at what the hub
already holds and is not checked. Because ``group_keys``, ``birth_date`` and ``gender`` live on
the user's record, an enrollment or demographics row always needs its user in ``users.csv``.

Rows (§2, §3): each file's required columns must be in the header; a column that is neither
OneRoster 1.2 nor a ``metadata.*`` extension is a problem. The reader is lenient where nothing is
lost: columns may come in any order and a file may have no data rows. (The writer follows the
binding strictly: all columns in order, blank status in bulk, files without rows left out.)
``status`` is empty or ``active`` in bulk files, ``active`` or ``tobedeleted`` (with
``dateLastModified``) in delta files; a ``tobedeleted`` row puts its key in
``export.deleted[kind]`` (kinds ``schools``, ``school_years``, ``groups``, ``students``,
``guardians``, ``staff``; deleted enrollments are simply not listed in the user's ``group_keys``).
Duplicate ``sourcedId``s, bad dates and dangling references are problems. Line numbers are physical
lines; the header is line 1.

Mapping (regie's Dutch profile):

- ``orgs.csv``: ``type=school`` → :class:`SchoolRecord`: ``identifier`` is BRIN + optional
  vestiging (``check_brin``), extension ``metadata.sector`` is PO/VO/MBO/HO or empty. Other org
  types (a ``district`` is the board) are accepted and not imported; ``parentSourcedId`` must
  resolve.
- ``academicSessions.csv``: ``type=schoolYear`` → :class:`SchoolYearRecord`. Terms, semesters
  and grading periods are followed up their ``parentSourcedId`` to the school year of a class.
- ``classes.csv``: ``classType`` homeroom → :attr:`GroupKind.GROUP`, scheduled → ``COMPOSITE``;
  the first ``grades`` value is the year level; ``termSourcedIds`` gives the school year.
  ``courseSourcedId`` is optional (regie does not read ``courses.csv``).
- ``users.csv``: regie's profile keeps the ``role`` and ``orgSourcedIds`` columns of v1.1 (a
  ``roles.csv`` is not read). ``student`` → :class:`StudentRecord`; ``teacher`` → staff with
  role teacher; ``administrator``, ``principal``, ``siteAdministrator`` → school admin;
  ``districtAdministrator`` → board admin; ``counselor`` → care coordinator; ``parent``,
  ``guardian``, ``relative`` → :class:`GuardianRecord` with that relation; ``aide``, ``proctor``
  and ``systemAdministrator`` are not imported. Names: ``givenName`` → voornamen,
  ``preferredGivenName`` → roepnaam (else the first given name), ``middleName`` → voorvoegsel
  (tussenvoegsel), ``familyName`` → achternaam. ``userIds`` ``{eckid:…}`` → ECK iD; ``{pgn:…}``
  (or ``bsn``, ``onderwijsnummer``) → PGN, checked with the 11-proef. ``agentSourcedIds`` link
  pupils and guardians, from either side. ``primaryOrgSourcedId`` (else the first
  ``orgSourcedIds``) is the school. Extension ``metadata.regie.roles``, when not empty, lists
  all of a staff member's roles as space-separated :class:`StaffRole` values.
- ``enrollments.csv``: ``role=student`` → the pupil's ``group_keys`` (a class of their own
  school only); ``teacher`` → the staff member's ``group_keys``; other roles are not imported.
- ``demographics.csv``: ``birthDate`` → birth date; ``sex`` male/female/other/unspecified →
  :class:`Gender` M/V/X/"".

No problem ever holds a value from the file (a PGN least of all): only file, line, field, reason.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import chain
from pathlib import Path

from regie.lib.identifiers import InvalidIdentifier, check_brin, check_pgn
from regie.roster.importing.files import (
    SafeZip,
    check_upload_size,
    open_text,
    open_zip,
    shown_name,
)
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

SOURCE_FORMAT = "oneroster-1.2-csv"
MAX_PROBLEMS = 1000
MANIFEST = "manifest.csv"
# §2: every data file of the binding. regie reads six; the others are accepted, not read.


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SPEC_FILES = _words(
    "academicSessions categories classes classResources courses courseResources demographics "
    "enrollments lineItemLearningObjectiveIds lineItems lineItemScoreScales orgs resources "
    "resultLearningObjectiveIds results resultScoreScales roles scoreScales userProfiles "
    "userResources users"
)
MODES = ("bulk", "delta", "absent")
ORG_TYPES = ("department", "school", "district", "local", "state", "national")
SESSION_TYPES = ("schoolYear", "term", "semester", "gradingPeriod")
CLASS_TYPES = {"homeroom": GroupKind.GROUP, "scheduled": GroupKind.COMPOSITE}
GUARDIAN_ROLES = ("parent", "guardian", "relative")
STAFF_ROLES = {
    "teacher": StaffRole.TEACHER,
    "administrator": StaffRole.SCHOOL_ADMIN,
    "principal": StaffRole.SCHOOL_ADMIN,
    "siteAdministrator": StaffRole.SCHOOL_ADMIN,
    "districtAdministrator": StaffRole.BOARD_ADMIN,
    "counselor": StaffRole.CARE_COORDINATOR,
}
IGNORED_ROLES = ("aide", "proctor", "systemAdministrator")
ENROLLMENT_ROLES = _words("student teacher administrator aide guardian parent proctor relative")
SEXES = {"male": Gender.MALE, "female": Gender.FEMALE, "other": Gender.OTHER}
SEXES |= {"unspecified": Gender.UNKNOWN, "": Gender.UNKNOWN}
PGN_TYPES = ("pgn", "bsn", "onderwijsnummer")
ROLES_COLUMN = "metadata.regie.roles"
SECTOR_COLUMN = "metadata.sector"

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?")
_YEAR = re.compile(r"[0-9]{4}")
_USER_IDS = re.compile(r"\{[^{}]*\}(,\{[^{}]*\})*")
_COLUMN_NAME = re.compile(r"[A-Za-z][A-Za-z_.]{0,63}")


@dataclass(frozen=True)
class Table:
    """One CSV file of §3: its columns, and those whose value may not be empty."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    values: tuple[str, ...]


COMMON = ("status", "dateLastModified")
TABLES = {
    table.name: table
    for table in (
        Table(
            "orgs.csv",
            _words("sourcedId name type"),
            (*COMMON, "identifier", "parentSourcedId"),
            _words("sourcedId name type"),
        ),
        Table(
            "academicSessions.csv",
            _words("sourcedId title type startDate endDate schoolYear"),
            (*COMMON, "parentSourcedId"),
            _words("sourcedId title type startDate endDate schoolYear"),
        ),
        Table(
            "classes.csv",
            _words("sourcedId title classType schoolSourcedId termSourcedIds"),
            (
                *COMMON,
                *_words("grades courseSourcedId classCode location subjects subjectCodes"),
                *_words("periods resourceSourcedIds"),
            ),
            _words("sourcedId title classType schoolSourcedId"),
        ),
        Table(
            "users.csv",
            _words("sourcedId enabledUser role givenName familyName"),
            (
                *COMMON,
                *_words("orgSourcedIds username userIds middleName identifier email sms phone"),
                *_words("agentSourcedIds grades password userMasterIdentifier"),
                *_words("resourceSourcedIds preferredGivenName preferredMiddleName"),
                *_words("preferredFamilyName primaryOrgSourcedId pronouns"),
            ),
            _words("sourcedId enabledUser role"),
        ),
        Table(
            "enrollments.csv",
            _words("sourcedId classSourcedId schoolSourcedId userSourcedId role"),
            (*COMMON, "primary", "beginDate", "endDate"),
            _words("sourcedId classSourcedId schoolSourcedId userSourcedId role"),
        ),
        Table(
            "demographics.csv",
            ("sourcedId",),
            (
                *COMMON,
                *_words("birthDate sex americanIndianOrAlaskaNative asian blackOrAfricanAmerican"),
                *_words("nativeHawaiianOrOtherPacificIslander white demographicRaceTwoOrMoreRaces"),
                *_words("hispanicOrLatinoEthnicity countryOfBirthCode stateOfBirthAbbreviation"),
                *_words("cityOfBirth publicSchoolResidenceStatus"),
            ),
            ("sourcedId",),
        ),
    )
}


@dataclass(frozen=True)
class Row:
    line: int
    key: str
    deleted: bool
    values: Mapping[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")

    def many(self, column: str) -> list[str]:
        """A multi-value field (§2): comma-separated, no empty values."""
        return [value.strip() for value in self[column].split(",") if value.strip()]


@dataclass
class Problems:
    """Every problem found, keeping the first :data:`MAX_PROBLEMS`."""

    kept: list[Problem] = field(default_factory=list)
    more: int = 0

    def add(self, file: str, line: int | None, column: str | None, reason: str) -> None:
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(Problem(file, line, column, reason))
        else:
            self.more += 1

    def result(self, file: str) -> list[Problem]:
        if not self.more:
            return list(self.kept)
        return [*self.kept, Problem(file, None, None, f"and {self.more} more problems")]


def _column_label(name: str) -> str:
    return name if _COLUMN_NAME.fullmatch(name) else "(a column with an unusual name)"


def _parse_date(value: str) -> date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _valid_datetime(value: str) -> bool:
    if not _DATETIME.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


class Parser:
    """The state of one parse: files are read in dependency order, then records assembled."""

    def __init__(self, archive: SafeZip, upload: str) -> None:
        self.archive = archive
        self.upload = upload
        self.problems = Problems()
        self.modes: dict[str, str] = {}
        self.broken: set[str] = set()
        self.seen: dict[str, dict[str, int]] = {name: {} for name in TABLES}
        self.export = RosterExport(source_format=SOURCE_FORMAT)
        self.org_types: dict[str, str] = {}
        self.sessions: dict[str, tuple[str, str]] = {}  # key → (type, parent)
        self.class_schools: dict[str, str] = {}
        self.students: dict[str, StudentRecord] = {}
        self.staff: dict[str, StaffRecord] = {}
        self.guardians: dict[str, GuardianRecord] = {}
        self.agents: dict[str, tuple[int, list[str]]] = {}  # user → (line, agentSourcedIds)
        self.groups_of: dict[str, list[str]] = {}
        self.demographics: dict[str, tuple[date | None, Gender]] = {}

    # --- reading ---------------------------------------------------------------------------

    def problem(self, file: str, line: int | None, column: str | None, reason: str) -> None:
        self.problems.add(file, line, column, reason)

    def checkable(self, name: str) -> bool:
        """Whether a reference into ``name`` must resolve (see the module docstring)."""
        if name in self.broken:
            return False
        mode = self.modes.get(name, "absent")
        return mode == "bulk" or (mode == "absent" and not self.export.delta)

    def dangling(self, name: str, key: str) -> bool:
        """True when ``key`` must be in ``name`` and is not (a problem for the caller)."""
        return key not in self.seen[name] and self.checkable(name)

    def rows(self, name: str) -> Iterator[Row]:
        if self.modes.get(name, "absent") == "absent" or name in self.broken:
            return
        table = TABLES[name]
        delta = self.modes[name] == "delta"
        with open_text(self.archive.opener(name), name) as lines:
            reader = csv.reader(lines, strict=True)
            try:
                header = next(reader, None)
                if not header:
                    self.problem(name, 1, None, "the header line is missing")
                if not header or not self._header_ok(table, header, delta):
                    self.broken.add(name)
                    return
                start = reader.line_num + 1
                for cells in reader:
                    line, start = start, reader.line_num + 1
                    row = self._row(table, header, cells, line, delta) if cells else None
                    if row is not None:
                        yield row
            except csv.Error as error:
                self.problem(name, reader.line_num, None, f"malformed CSV ({error})")
                self.broken.add(name)

    def _header_ok(self, table: Table, header: list[str], delta: bool) -> bool:
        known = set(table.required) | set(table.optional)
        seen: set[str] = set()
        for column in header:
            label = _column_label(column)
            if column in seen:
                self.problem(table.name, 1, label, "duplicate column")
            elif column not in known and not column.startswith("metadata."):
                self.problem(
                    table.name, 1, label, "unknown column (not in OneRoster 1.2, not metadata.*)"
                )
            seen.add(column)
        required = table.required + (COMMON if delta else ())
        missing = [column for column in required if column not in seen]
        for column in missing:
            self.problem(table.name, 1, column, "missing column")
        return not missing and len(seen) == len(header)

    def _row(
        self, table: Table, header: list[str], cells: list[str], line: int, delta: bool
    ) -> Row | None:
        name = table.name
        if len(cells) != len(header):
            self.problem(
                name, line, None, f"the line has {len(cells)} fields; the header has {len(header)}"
            )
            return None
        values = dict(zip(header, cells, strict=True))
        key = values["sourcedId"]
        if not key:
            self.problem(name, line, "sourcedId", "missing value")
            return None
        if key in self.seen[name]:
            first = self.seen[name][key]
            self.problem(name, line, "sourcedId", f"duplicate sourcedId (first on line {first})")
            return None
        self.seen[name][key] = line
        deleted = self._status_ok(name, line, values, delta)
        if deleted is None:
            return None
        if not deleted:
            empty = [column for column in table.values if not values[column]]
            for column in empty:
                self.problem(name, line, column, "missing value")
            if empty:
                return None
        return Row(line, key, deleted, values)

    def _status_ok(self, name: str, line: int, values: dict[str, str], delta: bool) -> bool | None:
        """Whether the row is ``tobedeleted``; None when status or dateLastModified is bad."""
        status = values.get("status", "")
        modified = values.get("dateLastModified", "")
        allowed = ("active", "tobedeleted") if delta else ("", "active")
        if status not in allowed:
            reason = (
                "status must be active or tobedeleted in a delta file"
                if delta
                else "status must be empty or active in a bulk file (tobedeleted is for deltas)"
            )
            self.problem(name, line, "status", reason)
            return None
        if (modified or delta) and not _valid_datetime(modified):
            self.problem(name, line, "dateLastModified", "not an ISO 8601 date and time")
            return None
        return status == "tobedeleted"

    def delete(self, kind: str, key: str) -> None:
        self.export.deleted.setdefault(kind, set()).add(key)

    def date_field(self, name: str, row: Row, column: str) -> date | None:
        value = _parse_date(row[column])
        if value is None and row[column]:
            self.problem(name, row.line, column, "not a date (YYYY-MM-DD)")
        return value

    # --- the files -------------------------------------------------------------------------

    def manifest(self) -> None:
        if MANIFEST not in self.archive.names:
            raise ImportRefused(Problem(self.upload, None, None, "the zip has no manifest.csv"))
        properties: dict[str, str] = {}
        with open_text(self.archive.opener(MANIFEST), MANIFEST) as lines:
            reader = csv.reader(lines, strict=True)
            try:
                if next(reader, None) != ["propertyName", "value"]:
                    raise ImportRefused(
                        Problem(MANIFEST, 1, None, "the header must be propertyName,value")
                    )
                for cells in reader:
                    self._property(cells, reader.line_num, properties)
            except csv.Error as error:
                raise ImportRefused(
                    Problem(MANIFEST, reader.line_num, None, f"malformed CSV ({error})")
                ) from None
        if properties.get("oneroster.version") != "1.2":
            raise ImportRefused(
                Problem(MANIFEST, None, "oneroster.version", "only OneRoster 1.2 is supported")
            )
        if properties.get("manifest.version") != "1.0":
            self.problem(MANIFEST, None, "manifest.version", "must be 1.0")
        self.export.delta = "delta" in self.modes.values()
        self._compare_with_zip()

    def _property(self, cells: list[str], line: int, properties: dict[str, str]) -> None:
        if not cells:
            return
        if len(cells) != 2:
            self.problem(MANIFEST, line, None, "a line holds a propertyName and a value")
            return
        name, value = cells
        if name in properties:
            self.problem(MANIFEST, line, "propertyName", "duplicate property")
            return
        properties[name] = value
        if name.startswith("file."):
            file = name.removeprefix("file.")
            if file not in SPEC_FILES:
                self.problem(MANIFEST, line, "propertyName", "not a file of OneRoster 1.2")
            elif value not in MODES:
                self.problem(MANIFEST, line, "value", "must be bulk, delta or absent")
            else:
                self.modes[f"{file}.csv"] = value
        elif name not in ("manifest.version", "oneroster.version") and not name.startswith(
            "source."
        ):
            self.problem(MANIFEST, line, "propertyName", "unknown property")

    def _compare_with_zip(self) -> None:
        for name, mode in self.modes.items():
            if mode != "absent" and name not in self.archive.names:
                self.problem(name, None, None, f"the manifest says {mode}, but the zip lacks it")
                self.broken.add(name)
        for name in self.archive.names:
            if name != MANIFEST and self.modes.get(name, "absent") == "absent":
                self.problem(shown_name(name), None, None, "in the zip, but not in the manifest")

    def orgs(self) -> None:
        name = "orgs.csv"
        parents: list[tuple[int, str]] = []
        for row in self.rows(name):
            kind = row["type"]
            if kind not in ORG_TYPES:
                self.problem(name, row.line, "type", "not an org type of OneRoster 1.2")
                continue
            if row.deleted:
                if kind == "school":
                    self.delete("schools", row.key)
                continue
            self.org_types[row.key] = kind
            if row["parentSourcedId"]:
                parents.append((row.line, row["parentSourcedId"]))
            if kind == "school":
                self._school(row)
        for line, parent in parents:
            if self.dangling(name, parent):
                self.problem(name, line, "parentSourcedId", "no org has this sourcedId")

    def _school(self, row: Row) -> None:
        name = "orgs.csv"
        identifier = row["identifier"]
        try:
            check_brin(identifier)
        except InvalidIdentifier as error:
            self.problem(name, row.line, "identifier", f"not a BRIN: {error}")
            return
        sector: Sector | None = None
        if row[SECTOR_COLUMN]:
            if row[SECTOR_COLUMN] not in tuple(Sector):
                self.problem(name, row.line, SECTOR_COLUMN, "must be PO, VO, MBO or HO")
                return
            sector = Sector(row[SECTOR_COLUMN])
        self.export.schools.append(
            SchoolRecord(
                key=row.key,
                brin=identifier[:4],
                vestiging=identifier[4:],
                name=row["name"],
                sector=sector,
                line=row.line,
            )
        )

    def school_ref(self, file: str, line: int, column: str, key: str) -> bool:
        """Check that ``key`` names a school; report and return False when it does not."""
        if not key:
            self.problem(file, line, column, "missing value")
            return False
        if key in self.org_types and self.org_types[key] != "school":
            self.problem(file, line, column, "this org is not a school")
            return False
        if self.dangling("orgs.csv", key):
            self.problem(file, line, column, "no org has this sourcedId")
            return False
        return True

    def academic_sessions(self) -> None:
        name = "academicSessions.csv"
        for row in self.rows(name):
            kind = row["type"]
            if kind not in SESSION_TYPES:
                self.problem(name, row.line, "type", "not a session type of OneRoster 1.2")
                continue
            if row.deleted:
                if kind == "schoolYear":
                    self.delete("school_years", row.key)
                continue
            start = self.date_field(name, row, "startDate")
            end = self.date_field(name, row, "endDate")
            if not _YEAR.fullmatch(row["schoolYear"]):
                self.problem(name, row.line, "schoolYear", "not a year (YYYY)")
            if start is None or end is None or not _YEAR.fullmatch(row["schoolYear"]):
                continue
            if end < start:
                self.problem(name, row.line, "endDate", "ends before it starts")
                continue
            self.sessions[row.key] = (kind, row["parentSourcedId"])
            if kind == "schoolYear":
                record = SchoolYearRecord(row.key, row["title"], start, end, line=row.line)
                self.export.school_years.append(record)
        for key, (_kind, parent) in self.sessions.items():
            if parent and self.dangling(name, parent):
                line = self.seen[name][key]
                self.problem(name, line, "parentSourcedId", "no session has this sourcedId")

    def school_year_of(self, session: str) -> str:
        """Follow ``parentSourcedId`` up to a school year; "" when there is none."""
        visited: set[str] = set()
        while session in self.sessions and session not in visited:
            visited.add(session)
            kind, parent = self.sessions[session]
            if kind == "schoolYear":
                return session
            session = parent
        return ""

    def classes(self) -> None:
        name = "classes.csv"
        sessions = "academicSessions.csv"
        for row in self.rows(name):
            if row.deleted:
                self.delete("groups", row.key)
                continue
            kind = CLASS_TYPES.get(row["classType"])
            if kind is None:
                self.problem(name, row.line, "classType", "must be homeroom or scheduled")
            school_ok = self.school_ref(name, row.line, "schoolSourcedId", row["schoolSourcedId"])
            terms = row.many("termSourcedIds")
            unknown = [term for term in terms if self.dangling(sessions, term)]
            if unknown:
                self.problem(name, row.line, "termSourcedIds", "no session has this sourcedId")
            if kind is None or not school_ok or unknown:
                continue
            self.class_schools[row.key] = row["schoolSourcedId"]
            grades = row.many("grades")
            self.export.groups.append(
                GroupRecord(
                    key=row.key,
                    school_key=row["schoolSourcedId"],
                    name=row["title"],
                    kind=kind,
                    year_level=grades[0] if grades else "",
                    school_year_key=self.school_year_of(terms[0]) if terms else "",
                    line=row.line,
                )
            )

    def users(self) -> None:
        name = "users.csv"
        for row in self.rows(name):
            role = row["role"]
            kind = self._user_kind(role)
            if kind is None:
                self.problem(name, row.line, "role", "not a user role of OneRoster 1.2")
            elif kind == "ignored":
                continue
            elif row.deleted:
                self.delete(kind, row.key)
            elif row["enabledUser"].lower() not in ("true", "false"):
                self.problem(name, row.line, "enabledUser", "must be true or false")
            elif kind == "students":
                self._student(row)
            elif kind == "staff":
                self._staff_member(row)
            elif kind == "guardians":
                self._guardian(row)
        self._link_agents()

    @staticmethod
    def _user_kind(role: str) -> str | None:
        if role == "student":
            return "students"
        if role in STAFF_ROLES:
            return "staff"
        if role in GUARDIAN_ROLES:
            return "guardians"
        if role in IGNORED_ROLES:
            return "ignored"
        return None

    def _user_school(self, row: Row) -> str | None:
        school = row["primaryOrgSourcedId"] or next(iter(row.many("orgSourcedIds")), "")
        column = "primaryOrgSourcedId" if row["primaryOrgSourcedId"] else "orgSourcedIds"
        return school if self.school_ref("users.csv", row.line, column, school) else None

    def _orgs_ok(self, row: Row) -> bool:
        unknown = [org for org in row.many("orgSourcedIds") if self.dangling("orgs.csv", org)]
        if unknown:
            self.problem("users.csv", row.line, "orgSourcedIds", "no org has this sourcedId")
        return not unknown

    def _user_ids(self, row: Row) -> tuple[str, str] | None:
        """The ECK iD and PGN in ``userIds``; None (after a problem) when they are bad."""
        name, value = "users.csv", row["userIds"]
        if value and not _USER_IDS.fullmatch(value):
            self.problem(name, row.line, "userIds", "must be a list of {type:identifier}")
            return None
        found: dict[str, str] = {}
        for entry in re.findall(r"\{([^{}]*)\}", value):
            kind, _colon, identifier = entry.partition(":")
            kind = "pgn" if kind.strip().lower() in PGN_TYPES else kind.strip().lower()
            if kind not in ("pgn", "eckid"):
                continue
            if kind in found:
                self.problem(name, row.line, "userIds", f"more than one {kind} identifier")
                return None
            found[kind] = identifier
        if "pgn" in found:
            try:
                check_pgn(found["pgn"])
            except InvalidIdentifier as error:
                self.problem(name, row.line, "userIds", f"the pgn is not valid: {error}")
                return None
        return found.get("eckid", ""), found.get("pgn", "")

    def _student(self, row: Row) -> None:
        school = self._user_school(row)
        identifiers = self._user_ids(row)
        if school is None or identifiers is None or not self._orgs_ok(row):
            return
        eck_id, pgn = identifiers
        given = row["givenName"]
        grades = row.many("grades")
        self.students[row.key] = StudentRecord(
            key=row.key,
            school_key=school,
            roepnaam=row["preferredGivenName"] or next(iter(given.split()), ""),
            voornamen=given,
            voorvoegsel=row["middleName"],
            achternaam=row["familyName"],
            birth_date=None,
            gender=Gender.UNKNOWN,
            year_level=grades[0] if grades else "",
            group_keys=(),
            eck_id=eck_id,
            pgn=pgn,
            line=row.line,
        )
        self.agents[row.key] = (row.line, row.many("agentSourcedIds"))

    def _staff_member(self, row: Row) -> None:
        school = self._user_school(row)
        roles: list[StaffRole] = [STAFF_ROLES[row["role"]]]
        if row[ROLES_COLUMN]:
            values = row[ROLES_COLUMN].split()
            if not all(value in tuple(StaffRole) for value in values):
                self.problem("users.csv", row.line, ROLES_COLUMN, "not a list of regie roles")
                return
            roles = [StaffRole(value) for value in dict.fromkeys(values)]
        if school is None or not self._orgs_ok(row):
            return
        self.staff[row.key] = StaffRecord(
            key=row.key,
            school_key=school,
            voornamen=row["givenName"],
            voorvoegsel=row["middleName"],
            achternaam=row["familyName"],
            email=row["email"],
            roles=tuple(roles),
            group_keys=(),
            line=row.line,
        )

    def _guardian(self, row: Row) -> None:
        if not self._orgs_ok(row):
            return
        self.guardians[row.key] = GuardianRecord(
            key=row.key,
            voornamen=row["givenName"],
            voorvoegsel=row["middleName"],
            achternaam=row["familyName"],
            email=row["email"],
            relation=row["role"],
            student_keys=(),
            line=row.line,
        )
        self.agents[row.key] = (row.line, row.many("agentSourcedIds"))

    def _link_agents(self) -> None:
        """Merge ``agentSourcedIds`` from both sides into each guardian's ``student_keys``."""
        links: dict[str, list[str]] = {key: [] for key in self.guardians}
        # A guardian's own list first, in its order; then links only the pupil's side names.
        users = sorted(self.agents, key=lambda user: user in self.students)
        for user in users:
            line, agents = self.agents[user]
            is_student = user in self.students
            partners = self.guardians if is_student else self.students
            for agent in agents:
                if agent in partners:
                    guardian, student = (agent, user) if is_student else (user, agent)
                    if student not in links[guardian]:
                        links[guardian].append(student)
                elif agent in self.students or agent in self.guardians or agent in self.staff:
                    other = "parent, guardian or relative" if is_student else "student"
                    self.problem("users.csv", line, "agentSourcedIds", f"an agent is no {other}")
                elif self.dangling("users.csv", agent):
                    self.problem("users.csv", line, "agentSourcedIds", "no user has this sourcedId")
        for key, students in links.items():
            self.guardians[key] = replace(self.guardians[key], student_keys=tuple(students))

    def user_ref(self, file: str, row: Row, column: str) -> str | None:
        """The user a row is about; None (after a problem, if one is due) when unusable."""
        user = row[column]
        if user in self.students or user in self.staff or user in self.guardians:
            return user
        if user in self.seen["users.csv"]:
            return None  # a row with its own problem, deleted, or not imported
        if self.checkable("users.csv"):
            self.problem(file, row.line, column, "no user has this sourcedId")
        elif "users.csv" not in self.broken:
            self.problem(file, row.line, column, "the user must be in users.csv, also in a delta")
        return None

    def enrollments(self) -> None:
        name = "enrollments.csv"
        for row in self.rows(name):
            if row["role"] not in ENROLLMENT_ROLES:
                self.problem(name, row.line, "role", "not an enrollment role of OneRoster 1.2")
                continue
            if row.deleted:
                continue
            user = self.user_ref(name, row, "userSourcedId")
            group = row["classSourcedId"]
            school_ok = self.school_ref(name, row.line, "schoolSourcedId", row["schoolSourcedId"])
            if self.dangling("classes.csv", group):
                self.problem(name, row.line, "classSourcedId", "no class has this sourcedId")
                continue
            self._dates_ok(row)
            school = self.class_schools.get(group)
            if school is None and group in self.seen["classes.csv"]:
                continue  # a class row with its own problem, or deleted
            if school is not None and row["schoolSourcedId"] != school:
                self.problem(name, row.line, "schoolSourcedId", "not the school of the class")
            elif user is not None and school_ok:
                self._enroll(row, user, group, school)

    def _dates_ok(self, row: Row) -> None:
        name = "enrollments.csv"
        self.date_field(name, row, "beginDate")
        self.date_field(name, row, "endDate")
        if row["primary"] not in ("", "true", "false"):
            self.problem(name, row.line, "primary", "must be true or false")

    def _enroll(self, row: Row, user: str, group: str, school: str | None) -> None:
        """Add ``group`` to the user's groups; ``school`` is None for a class outside a delta."""
        name, role = "enrollments.csv", row["role"]
        if role == "student":
            if user not in self.students:
                self.problem(name, row.line, "userSourcedId", "the user is not a student")
                return
            if school is not None and self.students[user].school_key != school:
                self.problem(name, row.line, "classSourcedId", "a class of another school")
                return
        elif role == "teacher":
            if user not in self.staff:
                self.problem(name, row.line, "userSourcedId", "the user is not staff")
                return
        else:
            return
        groups = self.groups_of.setdefault(user, [])
        if group not in groups:
            groups.append(group)

    def demographics_file(self) -> None:
        name = "demographics.csv"
        for row in self.rows(name):
            if row.deleted:
                continue
            user = self.user_ref(name, row, "sourcedId")
            birth_date = self.date_field(name, row, "birthDate")
            sex = SEXES.get(row["sex"])
            if sex is None:
                self.problem(name, row.line, "sex", "must be male, female, other or unspecified")
            elif user in self.students and (birth_date is not None or not row["birthDate"]):
                self.demographics[user] = (birth_date, sex)

    # --- assembly --------------------------------------------------------------------------

    def parse(self) -> RosterExport:
        self.manifest()
        self.orgs()
        self.academic_sessions()
        self.classes()
        self.users()
        self.enrollments()
        self.demographics_file()
        for key, student in self.students.items():
            birth_date, gender = self.demographics.get(key, (None, Gender.UNKNOWN))
            groups = tuple(self.groups_of.get(key, ()))
            student = replace(student, birth_date=birth_date, gender=gender, group_keys=groups)
            self.export.students.append(student)
        for key, member in self.staff.items():
            member = replace(member, group_keys=tuple(self.groups_of.get(key, ())))
            self.export.staff.append(member)
        self.export.guardians.extend(self.guardians.values())
        self.export.problems = self.problems.result(self.upload)
        return self.export


def parse_oneroster(source: Path, limits: Limits | None = None) -> RosterExport:
    """Parse and validate a OneRoster 1.2 CSV zip; see the module docstring for the mapping.

    Raises :class:`ImportRefused` when the upload is too large or empty, not a safe zip, or has
    no usable manifest. Every other problem is in the result's ``problems``.
    """
    limits = limits or Limits.from_settings()
    upload = source.name
    check_upload_size(source, limits, upload)
    with open_zip(source, limits, upload) as archive:
        return Parser(archive, upload).parse()


# --- writing ---------------------------------------------------------------------------------

# Every column of each file, in the binding's order, extensions last (§3).
WRITTEN = {
    "orgs.csv": (
        *_words("sourcedId status dateLastModified name type identifier parentSourcedId"),
        SECTOR_COLUMN,
    ),
    "academicSessions.csv": _words(
        "sourcedId status dateLastModified title type startDate endDate parentSourcedId schoolYear"
    ),
    "courses.csv": _words(
        "sourcedId status dateLastModified schoolYearSourcedId title courseCode grades "
        "orgSourcedId subjects subjectCodes resourceSourcedIds"
    ),
    "classes.csv": _words(
        "sourcedId status dateLastModified title grades courseSourcedId classCode classType "
        "location schoolSourcedId termSourcedIds subjects subjectCodes periods resourceSourcedIds"
    ),
    "users.csv": (
        *_words(
            "sourcedId status dateLastModified enabledUser orgSourcedIds role username userIds "
            "givenName familyName middleName identifier email sms phone agentSourcedIds grades "
            "password userMasterIdentifier resourceSourcedIds preferredGivenName "
            "preferredMiddleName preferredFamilyName primaryOrgSourcedId pronouns"
        ),
        ROLES_COLUMN,
    ),
    "enrollments.csv": _words(
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
        role = "teacher" if StaffRole.TEACHER in member.roles else "administrator"
        implied = (STAFF_ROLES[role],)
        yield {
            **_person(member.key, role, member.school_key),
            "username": member.email or member.key,
            "givenName": member.voornamen,
            "familyName": member.achternaam,
            "middleName": member.voorvoegsel,
            "email": member.email,
            ROLES_COLUMN: "" if member.roles == implied else " ".join(member.roles),
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
    """Write ``export`` as a bulk OneRoster 1.2 CSV zip in regie's profile (module docstring).

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
