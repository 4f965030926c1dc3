"""Every field of the import records, and the database column it is written to (issue: validate
every field against its column before writing, on both databases).

What a column accepts is read from the model field itself — its ``max_length`` and its own
validators (an e-mail field's, the BRIN's) — never written down a second time here, so a column
that changes changes what the importer accepts. :data:`WRITTEN` names the column of each record
field that is stored; :data:`NOT_WRITTEN` says for every other field why no column applies. A test
holds the two to the record classes: a new field must be declared in one of them.

Both parsers check each value with :func:`column_problem` where they read it (so the problem names
their file, line and field), and the plan checks every record once more with
:func:`record_problems` before anything is written. PostgreSQL refuses an over-long value (and
cuts one silently in an explicit cast); SQLite stores it: neither may decide.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from operator import attrgetter
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import (
    EmailValidator,
    MaxLengthValidator,
    ProhibitNullCharactersValidator,
)
from django.db import models
from django.utils.translation import gettext_noop

from regie.core.models import School, SchoolYear
from regie.roster.models import Group, Guardian, Staff, Student

from .records import (
    GroupRecord,
    GuardianRecord,
    Reason,
    SchoolRecord,
    SchoolYearRecord,
    StaffRecord,
    StudentRecord,
)

Record = (
    SchoolRecord | SchoolYearRecord | GroupRecord | StudentRecord | GuardianRecord | StaffRecord
)


# A plain e-mail address that the e-mail field's validator accepts: a strict subset of what it
# accepts (a dot-atom local part of common characters, host labels, a TLD of letters), checked
# without the validator's lazy regexes, so that a large export's addresses are checked fast. A
# test holds it to the subset; an address it does not match goes to the validator itself.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


@dataclass(frozen=True)
class Column:
    """The model field one record field is written to."""

    model: type[models.Model]
    name: str

    @cached_property
    def field(self) -> models.Field[Any, Any]:
        found = self.model._meta.get_field(self.name)
        if not isinstance(found, models.Field):
            raise TypeError(f"{self.model.__name__}.{self.name} is not a column")
        return found

    @cached_property
    def max_length(self) -> int | None:
        return self.field.max_length

    @cached_property
    def checks(self) -> tuple[Callable[[Any], None], ...]:
        """The field's own validators besides its length (reported with the limit) and NUL
        characters (never in a parsed export: files.py refuses them as binary, XML cannot hold
        them)."""
        skipped = (MaxLengthValidator, ProhibitNullCharactersValidator)
        return tuple(check for check in self.field.validators if not isinstance(check, skipped))

    @cached_property
    def passes(self) -> Callable[[str], object] | None:
        """A fast test whose success means every check passes (None: run the checks)."""
        if len(self.checks) == 1 and isinstance(self.checks[0], EmailValidator):
            return _PLAIN_EMAIL.fullmatch
        return None


def _columns(model: type[models.Model], **names: str) -> dict[str, Column]:
    return {attribute: Column(model, name) for attribute, name in names.items()}


_PERSON = {"voornamen": "voornamen", "voorvoegsel": "voorvoegsel", "achternaam": "achternaam"}

# record class → record field → the column it is written to
WRITTEN: Mapping[type[Record], Mapping[str, Column]] = {
    SchoolRecord: _columns(School, brin="brin", vestiging="vestiging", name="name"),
    SchoolYearRecord: _columns(SchoolYear, title="title"),
    GroupRecord: _columns(Group, key="las_key", name="name", year_level="year_level"),
    StudentRecord: _columns(
        Student,
        key="las_key",
        roepnaam="roepnaam",
        **_PERSON,
        year_level="year_level",
        eck_id="eck_id",
    ),
    GuardianRecord: _columns(
        Guardian, key="las_key", **_PERSON, email="email", relation="relation"
    ),
    StaffRecord: _columns(Staff, key="las_key", **_PERSON, email="email"),
}

_LINE = "where the record is in the file"
_REFERENCE = "a reference to another record of the export, checked to resolve"
# record class → record field → why no column check applies to it
NOT_WRITTEN: Mapping[type[Record], Mapping[str, str]] = {
    SchoolRecord: {
        "key": "the export's own reference to the school, not stored",
        "sector": "one of Sector's values (the model's choices)",
        "line": _LINE,
    },
    SchoolYearRecord: {"key": _REFERENCE, "start": "a date", "end": "a date", "line": _LINE},
    GroupRecord: {
        "school_key": _REFERENCE,
        "kind": "one of GroupKind's values (the model's choices)",
        "school_year_key": _REFERENCE,
        "line": _LINE,
    },
    StudentRecord: {
        "school_key": _REFERENCE,
        "birth_date": "a date, checked not to lie in the future (checks.birth_date_problem)",
        "gender": "one of Gender's values (the model's choices)",
        "group_keys": _REFERENCE,
        "pgn": "never stored: checked by regie.lib.identifiers, exchanged, dropped",
        "line": _LINE,
    },
    GuardianRecord: {"student_keys": _REFERENCE, "line": _LINE},
    StaffRecord: {
        "school_key": _REFERENCE,
        "roles": "StaffRole values (the model's choices), stored as a list",
        "all_roles": "whether ``roles`` are all of the member's roles (not stored)",
        "group_keys": _REFERENCE,
        "line": _LINE,
    },
}


def column_problem(record: type[Record], attribute: str, value: str) -> Reason | None:
    """Why ``value`` does not fit the column ``attribute`` of ``record`` is written to; None when
    it fits. The reason names the limit, never the value."""
    rules = _RULES.get(record)
    if rules is None:
        rules = _RULES[record] = {
            name: (column.max_length or sys.maxsize, column if column.checks else None)
            for name, column in WRITTEN[record].items()
        }
    limit, checked = rules[attribute]
    if len(value) > limit:
        return _too_long(limit)
    if checked is None or not value:
        return None
    return _checks_problem(checked, value)


# record class → field → (its column's length limit, the column when it has checks): for the
# parsers, which ask for every value they read.
_RULES: dict[type[Record], dict[str, tuple[int, Column | None]]] = {}


def _too_long(limit: int) -> Reason:
    return (
        gettext_noop("langer dan %(limit)s tekens, het meeste dat dit veld kan bevatten"),
        {"limit": limit},
    )


def _checks_problem(column: Column, value: str) -> Reason | None:
    passes = column.passes
    if passes is not None and passes(value):
        return None
    for check in column.checks:
        try:
            check(value)
        except ValidationError:
            return _reason(check), {}
    return None


def _reason(check: Callable[[Any], None]) -> str:
    if isinstance(check, EmailValidator):
        return gettext_noop("geen e-mailadres")
    return gettext_noop("geen waarde die dit veld accepteert")


def problems_of(records: Sequence[Record]) -> Iterator[tuple[Record, str, Reason]]:
    """``(record, field, reason)`` for each field of ``records`` (all of one class) that does
    not fit its column. Fast on a large export: each column's longest value is found first (in C),
    and only a column with one too long is gone through record by record."""
    if not records:
        return
    kind = type(records[0])
    for attribute, column in WRITTEN[kind].items():
        values: list[str] = list(map(attrgetter(attribute), records))
        limit = column.max_length
        if limit is not None and max(map(len, values)) > limit:
            for record, value in zip(records, values, strict=True):
                if len(value) > limit:
                    yield record, attribute, _too_long(limit)
        passes = column.passes
        if not column.checks or (passes is not None and all(map(passes, filter(None, values)))):
            continue
        for record, value in zip(records, values, strict=True):
            if value and (limit is None or len(value) <= limit):
                reason = _checks_problem(column, value)
                if reason is not None:
                    yield record, attribute, reason


def record_problems(record: Record) -> Iterator[tuple[str, Reason]]:
    """``(field, reason)`` for each field of ``record`` that does not fit its column."""
    kind = type(record)
    for attribute in WRITTEN[kind]:
        reason = column_problem(kind, attribute, getattr(record, attribute))
        if reason is not None:
            yield attribute, reason


def declared(record: type[Record]) -> set[str]:
    """The record fields this module accounts for (a test compares them with the class)."""
    return set(WRITTEN[record]) | set(NOT_WRITTEN[record])


def record_fields(record: type[Record]) -> set[str]:
    return {item.name for item in fields(record)}
