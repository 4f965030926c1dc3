"""The format-independent result of parsing a LAS export (OneRoster CSV or EDEXML).

A parser reads the whole export, validates it, and returns one :class:`RosterExport`: the schools,
school years, groups, pupils, guardians and staff it describes, plus every :class:`Problem` it
found. Nothing is applied while ``problems`` is not empty. Records refer to each other by the
LAS's own keys (``key`` fields), scoped to the export.

Personal data is in these records only in memory. A ``pgn`` (BSN or onderwijsnummer) is carried
until the importer has exchanged it for pseudonyms, and then dropped; it never goes into a
:class:`Problem`, a log line or an exception message (problems name the file, line, field and
reason, never a value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from dataclasses import field as dataclass_field
from datetime import date

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop

# The vocabularies are the models' own, so that records and the hub cannot drift apart.
from regie.core.models import Sector
from regie.roster.models import Gender, GroupKind, StaffRole

__all__ = [
    "Gender",
    "GroupKind",
    "GroupRecord",
    "GuardianRecord",
    "ImportRefused",
    "Limits",
    "Problem",
    "Reason",
    "RosterExport",
    "SchoolRecord",
    "SchoolYearRecord",
    "Sector",
    "StaffRecord",
    "StaffRole",
    "StudentRecord",
]


# A reason as the importer gives it: a Dutch msgid (marked with ``gettext_noop``, so that it is
# translated where it is shown, in the language of whoever reads it) and the values of its
# ``%(name)s`` placeholders. A placeholder named ``reason`` holds a reason's msgid itself, one
# named ``file`` a file's name or a msgid standing for one ("(een bestand met een ongewone naam)").
Reason = tuple[str, Mapping[str, str | int]]


# A field shown instead of a column's name that could carry anything (a name is data too).
UNUSUAL_COLUMN = gettext_noop("(een kolom met een ongewone naam)")
_TRANSLATED = frozenset({"reason", "file"})


def reason_text(reason: str, params: Mapping[str, str | int]) -> str:
    """``reason`` with ``params`` filled in, in the active language."""
    text = gettext(reason)
    if not params:
        return text
    values = {name: _value_text(name, value) for name, value in params.items()}
    return text % values


def _value_text(name: str, value: str | int) -> str:
    if isinstance(value, int):  # 10.000 in Dutch, 10,000 in English; a line number as it is
        return str(value) if name == "line" else number_format(value, force_grouping=True)
    return gettext(value) if name in _TRANSLATED and value else value


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the export cannot be applied. Never holds a value from the file.

    ``reason`` is a Dutch msgid and ``params`` the values of its placeholders (see
    :data:`Reason`): stored so, an import's problems read in the language of the page that shows
    them (:attr:`text`), not in the language of whoever uploaded the file.
    """

    file: str
    line: int | None
    field: str | None
    reason: str
    params: Mapping[str, str | int] = dataclass_field(default_factory=dict, hash=False)

    @property
    def text(self) -> str:
        """The reason in the active language."""
        return reason_text(self.reason, self.params)

    @property
    def file_text(self) -> str:
        """The file's name; "de export" (a problem of no one file) in the active language."""
        return gettext(self.file) if self.file else ""

    @property
    def field_text(self) -> str:
        """The field's name ("(een kolom met een ongewone naam)" in the active language)."""
        return gettext(UNUSUAL_COLUMN) if self.field == UNUSUAL_COLUMN else self.field or ""

    def __str__(self) -> str:
        where = self.file_text
        if self.line is not None:
            where += gettext(", regel %(line)s") % {"line": self.line}
        if self.field:
            where += f", {self.field_text}"
        return f"{where}: {self.text}"


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    key: str  # the export's own id of the school (OneRoster org sourcedId; EDEXML: the BRIN)
    brin: str  # 4 characters, checked with regie.lib.identifiers.check_brin
    vestiging: str  # "" or 2 digits
    name: str
    sector: Sector | None  # None when the export does not say: the hub's School record decides
    line: int | None = None


@dataclass(frozen=True, slots=True)
class SchoolYearRecord:
    key: str
    title: str  # e.g. "2026-2027"
    start: date
    end: date
    line: int | None = None


@dataclass(frozen=True, slots=True)
class GroupRecord:
    key: str
    school_key: str
    name: str
    kind: GroupKind
    year_level: str  # jaargroep (PO, "1".."8") or leerjaar (VO, "1".."6"); "" when none
    school_year_key: str  # "" when the export has no school years
    line: int | None = None


@dataclass(frozen=True, slots=True)
class StudentRecord:
    key: str  # the LAS key of the pupil: stable across exports
    school_key: str
    roepnaam: str
    voornamen: str
    voorvoegsel: str
    achternaam: str
    birth_date: date | None
    gender: Gender
    year_level: str
    group_keys: tuple[str, ...]
    eck_id: str = ""  # when the export carries one (UWLR 2.3 and later)
    pgn: str = field(default="", repr=False)  # BSN/onderwijsnummer: used once, never stored
    line: int | None = None


@dataclass(frozen=True, slots=True)
class GuardianRecord:
    key: str
    voornamen: str
    voorvoegsel: str
    achternaam: str
    email: str
    relation: str  # "parent", "guardian", "other" (OneRoster's relationship vocabulary)
    student_keys: tuple[str, ...]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class StaffRecord:
    key: str
    school_key: str
    voornamen: str
    voorvoegsel: str
    achternaam: str
    email: str
    roles: tuple[StaffRole, ...]
    group_keys: tuple[str, ...]  # the groups they teach
    line: int | None = None
    # Whether ``roles`` are all of the member's roles (regie's OneRoster extension column says
    # so). Otherwise the export speaks only for the teacher role and the roles it names: an
    # import adds those and leaves every other role the hub gave as it is.
    all_roles: bool = False


@dataclass(slots=True)
class RosterExport:
    """Everything one export describes. ``delta`` is true for a OneRoster delta export."""

    source_format: str  # "oneroster-1.2-csv" or "edexml"
    schools: list[SchoolRecord] = field(default_factory=list)
    school_years: list[SchoolYearRecord] = field(default_factory=list)
    groups: list[GroupRecord] = field(default_factory=list)
    students: list[StudentRecord] = field(default_factory=list)
    guardians: list[GuardianRecord] = field(default_factory=list)
    staff: list[StaffRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    delta: bool = False
    # In a delta export: the keys of records marked ``tobedeleted``, per kind.
    deleted: dict[str, set[str]] = field(default_factory=dict)
    # The files read in an encoding other than UTF-8, and its name: the preview names it.
    encodings: dict[str, str] = field(default_factory=dict)
    # What the format carries, so what an import of it may change (EDEXML: no guardians, and of
    # the staff only the teachers, so a member it leaves out stops teaching but does not leave).
    carries_guardians: bool = True
    carries_all_staff: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems


def without_student(export: RosterExport, key: str) -> RosterExport:
    """``export`` as the school's next export after the pupil ``key`` left: without the pupil,
    and without guardians who had no other child in it."""
    return replace(
        export,
        students=[student for student in export.students if student.key != key],
        guardians=[
            replace(guardian, student_keys=tuple(k for k in guardian.student_keys if k != key))
            for guardian in export.guardians
            if guardian.student_keys != (key,)
        ],
    )


@dataclass(frozen=True, slots=True)
class Limits:
    """What an upload may be: checked before and while reading it (REGIE_IMPORT_* settings)."""

    max_upload_bytes: int
    max_uncompressed_bytes: int
    max_compression_ratio: int

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        return cls(
            max_upload_bytes=settings.IMPORT_MAX_UPLOAD_BYTES,
            max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
            max_compression_ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
        )


class ImportRefused(Exception):
    """The upload cannot even be parsed (too large, not a zip, a zip bomb, …). Names no value."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
