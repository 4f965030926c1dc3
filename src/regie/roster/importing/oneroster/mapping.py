"""regie's Dutch profile of OneRoster 1.2 (§3 → :mod:`regie.roster.importing.records`).

The files are read in dependency order: orgs, academic sessions, classes, users, enrollments,
demographics. Schools, school years and groups are complete when their row is read. A pupil,
staff member or guardian is kept as a light :class:`typing.NamedTuple` until the later files have
given it its groups, demographics and guardian links, and its record is built once, at the end.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import NamedTuple, TypeVar

from django.utils.translation import gettext_noop

from regie.lib.identifiers import InvalidIdentifier, check_brin
from regie.roster.importing.checks import (
    MORE_THAN_ONE_PGN,
    birth_date_problem,
    eck_id_problem,
    identifier_reason,
    pgn_problem,
    repeated_pgns,
    same_pgn,
    today,
)
from regie.roster.importing.fields import Record, column_problem
from regie.roster.importing.files import SafeZip, check_upload_size, open_zip
from regie.roster.importing.records import (
    Gender,
    GroupRecord,
    GuardianRecord,
    Limits,
    RosterExport,
    SchoolRecord,
    SchoolYearRecord,
    Sector,
    StaffRecord,
    StaffRole,
    StudentRecord,
)

from .columns import (
    CLASS_TYPES,
    ENROLLMENT_ROLES,
    ORG_TYPES,
    PGN_TYPES,
    REGIE_ROLES,
    ROLES_COLUMN,
    SECTOR_COLUMN,
    SECTORS,
    SESSION_TYPES,
    SEXES,
    STAFF_ROLES,
    USER_COLUMNS,
    USER_KINDS,
    UserRow,
    many,
    words,
)
from .reader import Reader

_YEAR = re.compile(r"[0-9]{4}")
_USER_IDS = re.compile(r"\{[^{}]*\}(,\{[^{}]*\})*")
_USER_ID = re.compile(r"\{([^{}]*)\}")

USERS = "users.csv"
_Value = TypeVar("_Value")


class Pupil(NamedTuple):
    """A :class:`StudentRecord` without what later files give it."""

    school_key: str
    roepnaam: str
    voornamen: str
    voorvoegsel: str
    achternaam: str
    year_level: str
    eck_id: str
    pgn: str
    line: int


class Member(NamedTuple):
    """A :class:`StaffRecord` without its groups."""

    school_key: str
    voornamen: str
    voorvoegsel: str
    achternaam: str
    email: str
    roles: tuple[StaffRole, ...]
    line: int
    all_roles: bool  # listed in metadata.regie.roles: all of the member's roles


class Guardian(NamedTuple):
    """A :class:`GuardianRecord` without its pupils."""

    voornamen: str
    voorvoegsel: str
    achternaam: str
    email: str
    relation: str
    line: int


class Parser(Reader):
    """One parse: every file read into light tuples, then each record built once."""

    def __init__(self, archive: SafeZip, upload: str) -> None:
        super().__init__(archive, upload)
        self.org_types: dict[str, str] = {}
        self.sessions: dict[str, tuple[str, str]] = {}  # key → (type, parent)
        self.class_schools: dict[str, str] = {}
        self.students: dict[str, Pupil] = {}
        self.staff: dict[str, Member] = {}
        self.guardians: dict[str, Guardian] = {}
        # user → (line, agentSourcedIds), the guardians' and the pupils' side apart
        self.guardian_agents: dict[str, tuple[int, str]] = {}
        self.student_agents: dict[str, tuple[int, str]] = {}
        self.students_of: dict[str, list[str]] = {}  # guardian → pupils
        self.groups_of: dict[str, list[str]] = {}
        self.demographics: dict[str, tuple[date | None, Gender]] = {}
        self.today = today()  # no birth date after it

    def parse(self) -> RosterExport:
        self.manifest()
        self.orgs()
        self.academic_sessions()
        self.classes()
        self.users()
        self.enrollments()
        self.demographics_file()
        for name in ("enrollments.csv", "demographics.csv"):
            self.seen[name].clear()  # nothing refers to their rows
        self._assemble()
        self.export.problems = self.problems.result(self.upload)
        return self.export

    # --- orgs, sessions, classes ----------------------------------------------------------

    def orgs(self) -> None:
        name = "orgs.csv"
        parents: list[tuple[int, str]] = []
        columns = ("type", "parentSourcedId", "identifier", "name", SECTOR_COLUMN)
        for line, key, deleted, values in self.rows(name, columns):
            kind, parent, identifier, title, sector = values
            if kind not in ORG_TYPES:
                self.problem(
                    name, line, "type", gettext_noop("geen organisatietype van OneRoster 1.2")
                )
                continue
            if deleted:
                if kind == "school":
                    self.delete("schools", key)
                continue
            self.org_types[key] = kind
            if parent:
                parents.append((line, parent))
            if kind == "school":
                self._school(line, key, identifier, title, sector)
        for line, parent in parents:
            if self.dangling(name, parent):
                self.problem(
                    name,
                    line,
                    "parentSourcedId",
                    gettext_noop("geen organisatie heeft deze sourcedId"),
                )

    def _school(self, line: int, key: str, identifier: str, title: str, sector: str) -> None:
        name = "orgs.csv"
        try:
            check_brin(identifier)
        except InvalidIdentifier as error:
            self.problem(
                name,
                line,
                "identifier",
                gettext_noop("geen BRIN-nummer: %(reason)s"),
                {"reason": identifier_reason(error)},
            )
            return
        if sector and sector not in SECTORS:
            self.problem(name, line, SECTOR_COLUMN, gettext_noop("moet PO, VO, MBO of HO zijn"))
            return
        if not self.fits(name, line, SchoolRecord, [("name", "name", title)]):
            return
        self.export.schools.append(
            SchoolRecord(
                key=key,
                brin=identifier[:4],
                vestiging=identifier[4:],
                name=title,
                sector=Sector(sector) if sector else None,
                line=line,
            )
        )

    def school_ref(self, file: str, line: int, column: str, key: str) -> bool:
        """Check that ``key`` names a school; report and return False when it does not."""
        if not key:
            self.problem(file, line, column, gettext_noop("waarde ontbreekt"))
            return False
        kind = self.org_types.get(key)
        if kind is not None and kind != "school":
            self.problem(file, line, column, gettext_noop("deze organisatie is geen school"))
            return False
        if kind is None and self.dangling("orgs.csv", key):
            self.problem(file, line, column, gettext_noop("geen organisatie heeft deze sourcedId"))
            return False
        return True

    def academic_sessions(self) -> None:
        name = "academicSessions.csv"
        columns = ("type", "startDate", "endDate", "schoolYear", "parentSourcedId", "title")
        for line, key, deleted, values in self.rows(name, columns):
            kind, start_text, end_text, year, parent, title = values
            if kind not in SESSION_TYPES:
                self.problem(name, line, "type", gettext_noop("geen sessietype van OneRoster 1.2"))
                continue
            if deleted:
                if kind == "schoolYear":
                    self.delete("school_years", key)
                continue
            start = self.date_field(name, line, "startDate", start_text)
            end = self.date_field(name, line, "endDate", end_text)
            year_ok = _YEAR.fullmatch(year) is not None
            if not year_ok:
                self.problem(name, line, "schoolYear", gettext_noop("geen jaar (JJJJ)"))
            if start is None or end is None or not year_ok:
                continue
            if end < start:
                self.problem(name, line, "endDate", gettext_noop("eindigt voordat het begint"))
                continue
            self.sessions[key] = (kind, parent)
            if kind == "schoolYear" and self.fits(
                name, line, SchoolYearRecord, [("title", "title", title)]
            ):
                self.export.school_years.append(SchoolYearRecord(key, title, start, end, line=line))
        for key, (_kind, parent) in self.sessions.items():
            if parent and self.dangling(name, parent):
                line = self.seen[name][key]
                self.problem(
                    name, line, "parentSourcedId", gettext_noop("geen sessie heeft deze sourcedId")
                )

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
        columns = ("classType", "schoolSourcedId", "termSourcedIds", "grades", "title")
        for line, key, deleted, values in self.rows(name, columns):
            class_type, school, term_ids, grades, title = values
            if deleted:
                self.delete("groups", key)
                continue
            kind = CLASS_TYPES.get(class_type)
            if kind is None:
                self.problem(
                    name, line, "classType", gettext_noop("moet homeroom of scheduled zijn")
                )
            school_ok = self.school_ref(name, line, "schoolSourcedId", school)
            terms = many(term_ids)
            unknown = [term for term in terms if self.dangling(sessions, term)]
            if unknown:
                self.problem(
                    name, line, "termSourcedIds", gettext_noop("geen sessie heeft deze sourcedId")
                )
            year_levels = many(grades)
            year_level = year_levels[0] if year_levels else ""
            cells = [("key", "sourcedId", key), ("name", "title", title)]
            fits = self.fits(
                name, line, GroupRecord, [*cells, ("year_level", "grades", year_level)]
            )
            if kind is None or not school_ok or unknown or not fits:
                continue
            self.class_schools[key] = school
            self.export.groups.append(
                GroupRecord(
                    key=key,
                    school_key=school,
                    name=title,
                    kind=kind,
                    year_level=year_level,
                    school_year_key=self.school_year_of(terms[0]) if terms else "",
                    line=line,
                )
            )

    # --- users ----------------------------------------------------------------------------

    def users(self) -> None:
        for line, key, deleted, values in self.rows(USERS, USER_COLUMNS):
            role, enabled = values[0], values[1]
            kind = USER_KINDS.get(role)
            if kind is None:
                self.problem(
                    USERS, line, "role", gettext_noop("geen gebruikersrol van OneRoster 1.2")
                )
            elif kind == "ignored":
                continue
            elif deleted:
                self.delete(kind, key)
            elif enabled.lower() not in ("true", "false"):
                self.problem(USERS, line, "enabledUser", gettext_noop("moet true of false zijn"))
            elif kind == "students":
                self._student(UserRow(line, key, *values))
            elif kind == "staff":
                self._staff_member(UserRow(line, key, *values))
            else:
                self._guardian(UserRow(line, key, *values))
        self._link_agents()
        pgns = ((pupil.pgn, pupil.line) for pupil in self.students.values())
        for line, first in repeated_pgns(pgns):
            self.problem(USERS, line, "userIds", *same_pgn(first))

    def _user_school(self, user: UserRow, orgs: list[str]) -> str | None:
        school = user.primary_org or (orgs[0] if orgs else "")
        column = "primaryOrgSourcedId" if user.primary_org else "orgSourcedIds"
        if not self.school_ref(USERS, user.line, column, school):
            return None
        return sys.intern(school)  # one string for all its pupils

    def _orgs_ok(self, user: UserRow, orgs: list[str]) -> bool:
        seen = self.seen["orgs.csv"]
        for org in orgs:
            if org not in seen and self.checkable("orgs.csv"):
                self.problem(
                    USERS,
                    user.line,
                    "orgSourcedIds",
                    gettext_noop("geen organisatie heeft deze sourcedId"),
                )
                return False
        return True

    def _user_ids(self, user: UserRow) -> tuple[str, str] | None:
        """The ECK iD and PGN in ``userIds``; None (after a problem) when they are bad."""
        value = user.user_ids
        if not value:
            return "", ""
        if not _USER_IDS.fullmatch(value):
            self.problem(
                USERS,
                user.line,
                "userIds",
                gettext_noop("moet een lijst van {type:identifier} zijn"),
            )
            return None
        pgn: tuple[str, str] | None = None  # (type, identifier)
        eck_ids: list[str] = []
        for entry in _USER_ID.findall(value):
            kind, _colon, identifier = entry.partition(":")
            kind = kind.strip().lower()
            if kind == "eckid":
                eck_ids.append(identifier)
            elif kind in PGN_TYPES and pgn is not None:
                self.problem(USERS, user.line, "userIds", MORE_THAN_ONE_PGN)
                return None
            elif kind in PGN_TYPES:
                pgn = (kind, identifier)
        if len(eck_ids) > 1:
            self.problem(USERS, user.line, "userIds", gettext_noop("meer dan één eckid"))
            return None
        if pgn is not None and (reason := pgn_problem(*pgn)) is not None:
            self.problem(
                USERS,
                user.line,
                "userIds",
                gettext_noop("de %(type)s is niet geldig: %(reason)s"),
                {"type": pgn[0], "reason": reason},
            )
            return None
        if eck_ids and (reason := eck_id_problem(eck_ids[0])) is not None:
            self.problem(
                USERS,
                user.line,
                "userIds",
                gettext_noop("de eckid is niet geldig: %(reason)s"),
                {"reason": reason},
            )
            return None
        return (eck_ids[0] if eck_ids else ""), (pgn[1] if pgn else "")

    def _student(self, user: UserRow) -> None:
        orgs = many(user.orgs)
        school = self._user_school(user, orgs)
        identifiers = self._user_ids(user)
        if school is None or identifiers is None or not self._orgs_ok(user, orgs):
            return
        eck_id, pgn = identifiers
        given = user.given_name
        grades = many(user.grades)
        roepnaam = user.preferred_given_name or next(iter(given.split()), "")
        year_level = grades[0] if grades else ""
        cells = [
            *self._person_cells(user),
            (
                "roepnaam",
                "preferredGivenName" if user.preferred_given_name else "givenName",
                roepnaam,
            ),
            ("year_level", "grades", year_level),
            ("eck_id", "userIds", eck_id),
        ]
        if not self.fits(USERS, user.line, StudentRecord, cells):
            return
        self.students[user.key] = Pupil(
            school_key=school,
            roepnaam=roepnaam,
            voornamen=given,
            voorvoegsel=user.middle_name,
            achternaam=user.family_name,
            year_level=year_level,
            eck_id=eck_id,
            pgn=pgn,
            line=user.line,
        )
        if user.agents:
            self.student_agents[user.key] = (user.line, user.agents)

    def _staff_member(self, user: UserRow) -> None:
        orgs = many(user.orgs)
        school = self._user_school(user, orgs)
        roles: tuple[StaffRole, ...] = (STAFF_ROLES[user.role],)
        if user.regie_roles:
            values = user.regie_roles.split()
            if not all(value in REGIE_ROLES for value in values):
                self.problem(
                    USERS, user.line, ROLES_COLUMN, gettext_noop("geen lijst van rollen van regie")
                )
                return
            roles = tuple(StaffRole(value) for value in dict.fromkeys(values))
        if school is None or not self._orgs_ok(user, orgs):
            return
        cells = [*self._person_cells(user), ("email", "email", user.email)]
        if not self.fits(USERS, user.line, StaffRecord, cells):
            return
        self.staff[user.key] = Member(
            school_key=school,
            voornamen=user.given_name,
            voorvoegsel=user.middle_name,
            achternaam=user.family_name,
            email=user.email,
            roles=roles,
            line=user.line,
            all_roles=bool(user.regie_roles),
        )

    def _guardian(self, user: UserRow) -> None:
        if not self._orgs_ok(user, many(user.orgs)):
            return
        cells = [*self._person_cells(user), ("email", "email", user.email)]
        cells.append(("relation", "role", user.role))
        if not self.fits(USERS, user.line, GuardianRecord, cells):
            return
        self.guardians[user.key] = Guardian(
            voornamen=user.given_name,
            voorvoegsel=user.middle_name,
            achternaam=user.family_name,
            email=user.email,
            relation=sys.intern(user.role),
            line=user.line,
        )
        if user.agents:
            self.guardian_agents[user.key] = (user.line, user.agents)

    @staticmethod
    def _person_cells(user: UserRow) -> list[tuple[str, str, str]]:
        """(record field, column, value) of a user's key and names, for :meth:`fits`."""
        return [
            ("key", "sourcedId", user.key),
            ("voornamen", "givenName", user.given_name),
            ("voorvoegsel", "middleName", user.middle_name),
            ("achternaam", "familyName", user.family_name),
        ]

    def fits(
        self, file: str, line: int, record: type[Record], cells: Iterable[tuple[str, str, str]]
    ) -> bool:
        """Whether each ``(record field, column, value)`` fits the database column the field is
        written to (:mod:`regie.roster.importing.fields`); a problem for each that does not."""
        fits = True
        for attribute, column, value in cells:
            reason = column_problem(record, attribute, value)
            if reason is not None:
                self.problem(file, line, column, *reason)
                fits = False
        return fits

    def _link_agents(self) -> None:
        """Merge ``agentSourcedIds`` from both sides into each guardian's pupils.

        A guardian's own list first, in its order; then links only the pupil's side names.
        """
        students, guardians, links = self.students, self.guardians, self.students_of
        for guardian, (line, agents) in self.guardian_agents.items():
            for agent in many(agents):
                if agent in students:
                    pupils = links.setdefault(guardian, [])
                    if agent not in pupils:
                        pupils.append(agent)
                else:
                    self._bad_agent(line, agent, gettext_noop("een agent is geen leerling"))
        for student, (line, agents) in self.student_agents.items():
            for agent in many(agents):
                if agent in guardians:
                    pupils = links.setdefault(agent, [])
                    if student not in pupils:
                        pupils.append(student)
                else:
                    self._bad_agent(
                        line,
                        agent,
                        gettext_noop("een agent is geen ouder, voogd of familielid"),
                    )
        self.guardian_agents.clear()
        self.student_agents.clear()

    def _bad_agent(self, line: int, agent: str, reason: str) -> None:
        if agent in self.students or agent in self.guardians or agent in self.staff:
            self.problem(USERS, line, "agentSourcedIds", reason)
        elif self.dangling(USERS, agent):
            self.problem(
                USERS, line, "agentSourcedIds", gettext_noop("geen gebruiker heeft deze sourcedId")
            )

    def user_ref(self, file: str, line: int, column: str, user: str) -> str | None:
        """The user a row is about; None (after a problem, if one is due) when unusable."""
        if user in self.students or user in self.staff or user in self.guardians:
            return user
        if user in self.seen[USERS]:
            return None  # a row with its own problem, deleted, or not imported
        if self.checkable(USERS):
            self.problem(file, line, column, gettext_noop("geen gebruiker heeft deze sourcedId"))
        elif USERS not in self.broken:
            self.problem(
                file,
                line,
                column,
                gettext_noop("de gebruiker moet in users.csv staan, ook in een delta"),
            )
        return None

    # --- enrollments, demographics --------------------------------------------------------

    def enrollments(self) -> None:
        name = "enrollments.csv"
        columns = words(
            "role userSourcedId classSourcedId schoolSourcedId beginDate endDate primary"
        )
        for line, _key, deleted, values in self.rows(name, columns):
            role, user_key, group, school_key, begin, end, primary = values
            if role not in ENROLLMENT_ROLES:
                self.problem(
                    name, line, "role", gettext_noop("geen inschrijvingsrol van OneRoster 1.2")
                )
                continue
            if deleted:
                continue
            user = self.user_ref(name, line, "userSourcedId", user_key)
            school_ok = self.school_ref(name, line, "schoolSourcedId", school_key)
            school = self.class_schools.get(group)
            if school is None and self.dangling("classes.csv", group):
                self.problem(
                    name, line, "classSourcedId", gettext_noop("geen klas heeft deze sourcedId")
                )
                continue
            if begin:
                self.date_field(name, line, "beginDate", begin)
            if end:
                self.date_field(name, line, "endDate", end)
            if primary not in ("", "true", "false"):
                self.problem(name, line, "primary", gettext_noop("moet true of false zijn"))
            if school is None and group in self.seen["classes.csv"]:
                continue  # a class row with its own problem, or deleted
            if school is not None and school_key != school:
                self.problem(
                    name, line, "schoolSourcedId", gettext_noop("niet de school van de klas")
                )
            elif user is not None and school_ok:
                self._enroll(line, role, user, group, school)

    def _enroll(self, line: int, role: str, user: str, group: str, school: str | None) -> None:
        """Add ``group`` to the user's groups; ``school`` is None for a class outside a delta."""
        name = "enrollments.csv"
        if role == "student":
            pupil = self.students.get(user)
            if pupil is None:
                self.problem(
                    name, line, "userSourcedId", gettext_noop("de gebruiker is geen leerling")
                )
                return
            if school is not None and pupil.school_key != school:
                self.problem(
                    name, line, "classSourcedId", gettext_noop("een klas van een andere school")
                )
                return
        elif role == "teacher":
            if user not in self.staff:
                self.problem(
                    name, line, "userSourcedId", gettext_noop("de gebruiker is geen medewerker")
                )
                return
        else:
            return
        groups = self.groups_of.get(user)
        if groups is None:
            self.groups_of[user] = [sys.intern(group)]  # one string for all its members
        elif group not in groups:
            groups.append(sys.intern(group))

    def demographics_file(self) -> None:
        name = "demographics.csv"
        for line, key, deleted, (birth, sex_name) in self.rows(name, ("birthDate", "sex")):
            if deleted:
                continue
            user = self.user_ref(name, line, "sourcedId", key)
            birth_date = self.date_field(name, line, "birthDate", birth)
            if (
                birth_date is not None
                and (reason := birth_date_problem(birth_date, self.today)) is not None
            ):
                self.problem(name, line, "birthDate", reason)
                continue
            sex = SEXES.get(sex_name)
            if sex is None:
                self.problem(
                    name, line, "sex", gettext_noop("moet male, female, other of unspecified zijn")
                )
            elif user in self.students and (birth_date is not None or not birth):
                self.demographics[key] = (birth_date, sex)

    # --- assembly -------------------------------------------------------------------------

    def _assemble(self) -> None:
        """Build each pupil, staff member and guardian record once, now that all is known.

        What a record is built from is let go of as it is built, so that the light tuples and
        the records do not fill memory together.
        """
        no_demographics: tuple[date | None, Gender] = (None, Gender.UNKNOWN)
        demographics, groups_of = self.demographics, self.groups_of
        for key, pupil in _drain(self.students):
            birth_date, gender = demographics.pop(key, no_demographics)
            self.export.students.append(
                StudentRecord(
                    key=key,
                    school_key=pupil.school_key,
                    roepnaam=pupil.roepnaam,
                    voornamen=pupil.voornamen,
                    voorvoegsel=pupil.voorvoegsel,
                    achternaam=pupil.achternaam,
                    birth_date=birth_date,
                    gender=gender,
                    year_level=pupil.year_level,
                    group_keys=tuple(groups_of.pop(key, ())),
                    eck_id=pupil.eck_id,
                    pgn=pupil.pgn,
                    line=pupil.line,
                )
            )
        for key, member in _drain(self.staff):
            self.export.staff.append(
                StaffRecord(
                    key=key,
                    school_key=member.school_key,
                    voornamen=member.voornamen,
                    voorvoegsel=member.voorvoegsel,
                    achternaam=member.achternaam,
                    email=member.email,
                    roles=member.roles,
                    group_keys=tuple(groups_of.pop(key, ())),
                    line=member.line,
                    all_roles=member.all_roles,
                )
            )
        for key, guardian in _drain(self.guardians):
            self.export.guardians.append(
                GuardianRecord(
                    key=key,
                    voornamen=guardian.voornamen,
                    voorvoegsel=guardian.voorvoegsel,
                    achternaam=guardian.achternaam,
                    email=guardian.email,
                    relation=guardian.relation,
                    student_keys=tuple(self.students_of.pop(key, ())),
                    line=guardian.line,
                )
            )


def _drain(items: dict[str, _Value]) -> Iterator[tuple[str, _Value]]:
    """``items.items()``, in order, emptying ``items`` on the way."""
    for key in list(items):
        yield key, items.pop(key)


def parse_oneroster(
    source: Path, limits: Limits | None = None, *, name: str | None = None
) -> RosterExport:
    """Parse and validate a OneRoster 1.2 CSV zip; see the package docstring for the mapping.

    Problems about the zip itself name it as ``name`` (the name it was uploaded under; default:
    its own name on disk); problems in its files name those files.

    Raises :class:`ImportRefused` when the upload is too large or empty, not a safe zip, or has
    no usable manifest. Every other problem is in the result's ``problems``.
    """
    limits = limits or Limits.from_settings()
    upload = name or source.name
    check_upload_size(source, limits, upload)
    with open_zip(source, limits, upload) as archive:
        return Parser(archive, upload).parse()
