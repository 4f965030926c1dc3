"""Reading a OneRoster 1.2 CSV zip (§2): the manifest, each file's header and the common checks
on every row (``sourcedId``, ``status``, ``dateLastModified``, values that may not be empty).

:class:`Reader` keeps the problems and the bookkeeping that reference checks need; the mapping to
regie's records (:mod:`.mapping`) builds on it. Rows come out of :meth:`Reader.rows` as plain
tuples of the columns a caller asks for, found by index in the header.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.translation import gettext_noop

from regie.roster.importing.files import SafeZip, open_text, shown_name
from regie.roster.importing.records import UNUSUAL_COLUMN, ImportRefused, Problem, RosterExport

from .columns import COMMON, MANIFEST, MODES, SPEC_FILES, TABLES, Layout, Picker, Table

SOURCE_FORMAT = "oneroster-1.2-csv"
MAX_PROBLEMS = 1000

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].*)?")
# Python's csv module explains in English, and may quote the file: the reason stays general.
MISSING_VALUE = gettext_noop("waarde ontbreekt")
MALFORMED_CSV = gettext_noop("ongeldige CSV (kijk aanhalingstekens en scheidingstekens na)")
_COLUMN_NAME = re.compile(r"[A-Za-z][A-Za-z_.]{0,63}")

# One usable data row: (line, sourcedId, tobedeleted, the cells of the columns asked for).
Row = tuple[int, str, bool, tuple[str, ...]]


@dataclass
class Problems:
    """Every problem found, keeping the first :data:`MAX_PROBLEMS`."""

    kept: list[Problem] = field(default_factory=list)
    more: int = 0

    def add(
        self,
        file: str,
        line: int | None,
        column: str | None,
        reason: str,
        params: Mapping[str, str | int] | None = None,
    ) -> None:
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(Problem(file, line, column, reason, dict(params or {})))
        else:
            self.more += 1

    def result(self, file: str) -> list[Problem]:
        if not self.more:
            return list(self.kept)
        more = gettext_noop("en nog %(count)s fouten")
        return [*self.kept, Problem(file, None, None, more, {"count": self.more})]


def _column_label(name: str) -> str:
    return name if _COLUMN_NAME.fullmatch(name) else UNUSUAL_COLUMN


def parse_date(value: str) -> date | None:
    if not value or not _DATE.fullmatch(value):
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


@dataclass(frozen=True, slots=True)
class _RowCheck:
    """The common checks of one file's rows, with the columns found once in its header."""

    table: Table
    layout: Layout
    delta: bool
    key: int
    status: int
    modified: int
    values: Picker  # the cells that may not be empty (table.values)

    @classmethod
    def of(cls, table: Table, header: Sequence[str], delta: bool) -> _RowCheck:
        layout = Layout.of(header)
        key, status, modified = (layout[column] for column in ("sourcedId", *COMMON))
        return cls(table, layout, delta, key, status, modified, layout.picker(table.values))


class Reader:
    """The state of reading one zip: the manifest's modes, problems, and every key seen."""

    def __init__(self, archive: SafeZip, upload: str) -> None:
        self.archive = archive
        self.upload = upload
        self.problems = Problems()
        self.modes: dict[str, str] = {}
        self.broken: set[str] = set()
        self.seen: dict[str, dict[str, int]] = {name: {} for name in TABLES}
        self.export = RosterExport(source_format=SOURCE_FORMAT)

    def problem(
        self,
        file: str,
        line: int | None,
        column: str | None,
        reason: str,
        params: Mapping[str, str | int] | None = None,
    ) -> None:
        """Note a problem: ``reason`` a Dutch msgid (``gettext_noop``), see :data:`Reason`."""
        self.problems.add(file, line, column, reason, params)

    def checkable(self, name: str) -> bool:
        """Whether a reference into ``name`` must resolve (see the package docstring)."""
        if name in self.broken:
            return False
        mode = self.modes.get(name, "absent")
        return mode == "bulk" or (mode == "absent" and not self.export.delta)

    def dangling(self, name: str, key: str) -> bool:
        """True when ``key`` must be in ``name`` and is not (a problem for the caller)."""
        return key not in self.seen[name] and self.checkable(name)

    def delete(self, kind: str, key: str) -> None:
        self.export.deleted.setdefault(kind, set()).add(key)

    def date_field(self, name: str, line: int, column: str, value: str) -> date | None:
        parsed = parse_date(value)
        if parsed is None and value:
            self.problem(name, line, column, gettext_noop("geen datum (JJJJ-MM-DD)"))
        return parsed

    # --- the files, row by row ------------------------------------------------------------

    def rows(self, name: str, columns: Sequence[str]) -> Iterator[Row]:
        """Each usable data row of ``name``: ``(line, sourcedId, tobedeleted, values)``.

        ``values`` holds the cells of ``columns``, in that order; a column the header lacks
        reads as "". A row with a problem of its own is reported and left out.
        """
        if self.modes.get(name, "absent") == "absent" or name in self.broken:
            return
        table = TABLES[name]
        delta = self.modes[name] == "delta"
        with open_text(self.archive.opener(name), name, self.export.encodings) as lines:
            reader = csv.reader(lines, strict=True)
            try:
                header = next(reader, None)
                if not header:
                    self.problem(name, 1, None, gettext_noop("de kopregel ontbreekt"))
                if not header or not self._header_ok(table, header, delta):
                    self.broken.add(name)
                    return
                check = _RowCheck.of(table, header, delta)
                pick = check.layout.picker(columns)
                start = reader.line_num + 1
                for cells in reader:
                    line, start = start, reader.line_num + 1
                    if not cells:
                        continue
                    deleted = self._row(check, cells, line)
                    if deleted is not None:
                        yield line, cells[check.key], deleted, pick(cells)
            except csv.Error:
                self.problem(name, reader.line_num, None, MALFORMED_CSV)
                self.broken.add(name)

    def _header_ok(self, table: Table, header: list[str], delta: bool) -> bool:
        known = set(table.required) | set(table.optional)
        seen: set[str] = set()
        for column in header:
            label = _column_label(column)
            if column in seen:
                self.problem(table.name, 1, label, gettext_noop("dubbele kolom"))
            elif column not in known and not column.startswith("metadata."):
                self.problem(
                    table.name,
                    1,
                    label,
                    gettext_noop("onbekende kolom (niet in OneRoster 1.2, geen metadata.*)"),
                )
            seen.add(column)
        required = table.required + (COMMON if delta else ())
        missing = [column for column in required if column not in seen]
        for column in missing:
            self.problem(table.name, 1, column, gettext_noop("kolom ontbreekt"))
        return not missing and len(seen) == len(header)

    def _row(self, check: _RowCheck, cells: list[str], line: int) -> bool | None:
        """Whether the row is ``tobedeleted``; None (after a problem) when it is unusable.

        Appends the blank cell that the columns the header lacks point at (:class:`Layout`).
        """
        name, width = check.table.name, check.layout.width
        if len(cells) != width:
            self.problem(
                name,
                line,
                None,
                gettext_noop("de regel heeft %(fields)s velden; de kopregel heeft er %(width)s"),
                {"fields": len(cells), "width": width},
            )
            return None
        cells.append("")
        key = cells[check.key]
        if not key:
            self.problem(name, line, "sourcedId", MISSING_VALUE)
            return None
        seen = self.seen[name]
        if key in seen:
            self.problem(
                name,
                line,
                "sourcedId",
                gettext_noop("dubbele sourcedId (eerst op regel %(line)s)"),
                {"line": seen[key]},
            )
            return None
        seen[key] = line
        deleted = self._status_ok(check, cells[check.status], cells[check.modified], line)
        if deleted is None:
            return None
        if not deleted and not all(check.values(cells)):
            values = zip(check.table.values, check.values(cells), strict=True)
            for column, value in values:
                if not value:
                    self.problem(name, line, column, MISSING_VALUE)
            return None
        return deleted

    def _status_ok(self, check: _RowCheck, status: str, modified: str, line: int) -> bool | None:
        """Whether the row is ``tobedeleted``; None when status or dateLastModified is bad."""
        name, delta = check.table.name, check.delta
        allowed = ("active", "tobedeleted") if delta else ("", "active")
        if status not in allowed:
            reason = (
                gettext_noop("status moet active of tobedeleted zijn in een delta-bestand")
                if delta
                else gettext_noop(
                    "status moet leeg of active zijn in een bulkbestand (tobedeleted is voor "
                    "delta's)"
                )
            )
            self.problem(name, line, "status", reason)
            return None
        if (modified or delta) and not _valid_datetime(modified):
            self.problem(
                name, line, "dateLastModified", gettext_noop("geen datum en tijd volgens ISO 8601")
            )
            return None
        return status == "tobedeleted"

    # --- the manifest ---------------------------------------------------------------------

    def manifest(self) -> None:
        if MANIFEST not in self.archive.names:
            raise ImportRefused(
                Problem(self.upload, None, None, gettext_noop("de zip bevat geen manifest.csv"))
            )
        properties: dict[str, str] = {}
        with open_text(self.archive.opener(MANIFEST), MANIFEST, self.export.encodings) as lines:
            reader = csv.reader(lines, strict=True)
            try:
                if next(reader, None) != ["propertyName", "value"]:
                    raise ImportRefused(
                        Problem(
                            MANIFEST,
                            1,
                            None,
                            gettext_noop("de kopregel moet propertyName,value zijn"),
                        )
                    )
                for cells in reader:
                    self._property(cells, reader.line_num, properties)
            except csv.Error:
                raise ImportRefused(
                    Problem(MANIFEST, reader.line_num, None, MALFORMED_CSV)
                ) from None
        if properties.get("oneroster.version") != "1.2":
            raise ImportRefused(
                Problem(
                    MANIFEST,
                    None,
                    "oneroster.version",
                    gettext_noop("alleen OneRoster 1.2 wordt ondersteund"),
                )
            )
        if properties.get("manifest.version") != "1.0":
            self.problem(MANIFEST, None, "manifest.version", gettext_noop("moet 1.0 zijn"))
        self.export.delta = "delta" in self.modes.values()
        self._compare_with_zip()

    def _property(self, cells: list[str], line: int, properties: dict[str, str]) -> None:
        if not cells:
            return
        if len(cells) != 2:
            self.problem(
                MANIFEST, line, None, gettext_noop("een regel bevat een propertyName en een value")
            )
            return
        name, value = cells
        if name in properties:
            self.problem(MANIFEST, line, "propertyName", gettext_noop("dubbele property"))
            return
        properties[name] = value
        if name.startswith("file."):
            file = name.removeprefix("file.")
            if file not in SPEC_FILES:
                self.problem(
                    MANIFEST, line, "propertyName", gettext_noop("geen bestand van OneRoster 1.2")
                )
            elif value not in MODES:
                self.problem(
                    MANIFEST, line, "value", gettext_noop("moet bulk, delta of absent zijn")
                )
            else:
                self.modes[f"{file}.csv"] = value
        elif name not in ("manifest.version", "oneroster.version") and not name.startswith(
            "source."
        ):
            self.problem(MANIFEST, line, "propertyName", gettext_noop("onbekende property"))

    def _compare_with_zip(self) -> None:
        for name, mode in self.modes.items():
            if mode != "absent" and name not in self.archive.names:
                self.problem(
                    name,
                    None,
                    None,
                    gettext_noop(
                        "het manifest zegt %(mode)s, maar het bestand ontbreekt in de zip"
                    ),
                    {"mode": mode},
                )
                self.broken.add(name)
        for name in self.archive.names:
            if name != MANIFEST and self.modes.get(name, "absent") == "absent":
                self.problem(
                    shown_name(name),
                    None,
                    None,
                    gettext_noop("staat in de zip, maar niet in het manifest"),
                )
