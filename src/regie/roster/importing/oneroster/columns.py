"""The vocabulary of OneRoster 1.2 CSV (§2, §3) that regie reads and writes, and header layouts.

:data:`TABLES` lists, for each file regie reads, the columns of §3 and those whose value may
not be empty; :class:`UserRow` holds the columns of ``users.csv`` that regie reads. A
:class:`Layout` is one file's header, read once: rows are lists of cells, and columns are found by
index, so no row needs a dict of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple

from regie.roster.importing.records import Gender, GroupKind, Sector, StaffRole


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MANIFEST = "manifest.csv"
# §2: every data file of the binding. regie reads six; the others are accepted, not read.
SPEC_FILES = words(
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
ENROLLMENT_ROLES = words("student teacher administrator aide guardian parent proctor relative")
SEXES = {"male": Gender.MALE, "female": Gender.FEMALE, "other": Gender.OTHER}
SEXES |= {"unspecified": Gender.UNKNOWN, "": Gender.UNKNOWN}
PGN_TYPES = ("pgn", "bsn", "onderwijsnummer")
ROLES_COLUMN = "metadata.regie.roles"
SECTOR_COLUMN = "metadata.sector"
SECTORS = frozenset(sector.value for sector in Sector)
REGIE_ROLES = frozenset(role.value for role in StaffRole)


# The columns of users.csv that regie reads: :class:`UserRow`'s fields after ``key``, in order.
USER_COLUMNS = (
    *("role", "enabledUser", "givenName", "preferredGivenName", "middleName", "familyName"),
    *("email", "grades", "orgSourcedIds", "primaryOrgSourcedId", "userIds", "agentSourcedIds"),
    ROLES_COLUMN,
)
# A user's role → where regie puts it ("ignored": a role regie does not import).
USER_KINDS = {"student": "students"} | dict.fromkeys(STAFF_ROLES, "staff")
USER_KINDS |= dict.fromkeys(GUARDIAN_ROLES, "guardians") | dict.fromkeys(IGNORED_ROLES, "ignored")


class UserRow(NamedTuple):
    """One row of users.csv: its line, its sourcedId, then :data:`USER_COLUMNS` in order."""

    line: int
    key: str
    role: str
    enabled: str
    given_name: str
    preferred_given_name: str
    middle_name: str
    family_name: str
    email: str
    grades: str
    orgs: str
    primary_org: str
    user_ids: str
    agents: str
    regie_roles: str


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
            words("sourcedId name type"),
            (*COMMON, "identifier", "parentSourcedId"),
            words("sourcedId name type"),
        ),
        Table(
            "academicSessions.csv",
            words("sourcedId title type startDate endDate schoolYear"),
            (*COMMON, "parentSourcedId"),
            words("sourcedId title type startDate endDate schoolYear"),
        ),
        Table(
            "classes.csv",
            words("sourcedId title classType schoolSourcedId termSourcedIds"),
            (
                *COMMON,
                *words("grades courseSourcedId classCode location subjects subjectCodes"),
                *words("periods resourceSourcedIds"),
            ),
            words("sourcedId title classType schoolSourcedId"),
        ),
        Table(
            "users.csv",
            words("sourcedId enabledUser role givenName familyName"),
            (
                *COMMON,
                *words("orgSourcedIds username userIds middleName identifier email sms phone"),
                *words("agentSourcedIds grades password userMasterIdentifier"),
                *words("resourceSourcedIds preferredGivenName preferredMiddleName"),
                *words("preferredFamilyName primaryOrgSourcedId pronouns"),
            ),
            words("sourcedId enabledUser role"),
        ),
        Table(
            "enrollments.csv",
            words("sourcedId classSourcedId schoolSourcedId userSourcedId role"),
            (*COMMON, "primary", "beginDate", "endDate"),
            words("sourcedId classSourcedId schoolSourcedId userSourcedId role"),
        ),
        Table(
            "demographics.csv",
            ("sourcedId",),
            (
                *COMMON,
                *words("birthDate sex americanIndianOrAlaskaNative asian blackOrAfricanAmerican"),
                *words("nativeHawaiianOrOtherPacificIslander white demographicRaceTwoOrMoreRaces"),
                *words("hispanicOrLatinoEthnicity countryOfBirthCode stateOfBirthAbbreviation"),
                *words("cityOfBirth publicSchoolResidenceStatus"),
            ),
            ("sourcedId",),
        ),
    )
}

Cells = Sequence[str]
Picker = Callable[[Cells], tuple[str, ...]]


def picker(indices: Sequence[int]) -> Picker:
    """``cells → tuple(cells[i] for i in indices)``, done by :func:`operator.itemgetter`."""
    if len(indices) == 1:
        (index,) = indices
        return lambda cells: (cells[index],)
    pick: Picker = itemgetter(*indices)
    return pick


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each column of one file's header is (a checked header: no duplicate columns).

    A row's cells get one blank cell appended (at index :attr:`width`), where every column the
    header lacks points, so an absent column reads as "" like an empty one.
    """

    width: int
    index: dict[str, int]

    @classmethod
    def of(cls, header: Sequence[str]) -> Layout:
        return cls(len(header), {column: number for number, column in enumerate(header)})

    def __getitem__(self, column: str) -> int:
        return self.index.get(column, self.width)

    def picker(self, columns: Sequence[str]) -> Picker:
        """Read ``columns``, in that order, from a row's cells (with the blank cell appended)."""
        return picker([self[column] for column in columns])


def many(value: str) -> list[str]:
    """A multi-value field (§2): comma-separated, no empty values."""
    if "," not in value:
        value = value.strip()
        return [value] if value else []
    return [part for part in map(str.strip, value.split(",")) if part]
