"""CSV that a spreadsheet opens safely: no cell is read as a formula (OWASP, "CSV Injection").

Excel and LibreOffice read a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
a tab or carriage return before one of those too; a formula can run commands (``=2+5+cmd|…``) or
send data away (``=HYPERLINK(…)``). :func:`cell` prefixes such a value with a single quote, which
a spreadsheet shows as text and does not display. Every CSV that regie writes for people — the
import's problems, the art. 30 register, conversion tables — goes through :func:`writer`.

A file for machines, whose values must stay exact (regie's OneRoster export, read by an importer,
never by a spreadsheet user), may use :mod:`csv` directly; :data:`MACHINE_CSV` lists those
modules, each with its reason, and a test fails on any other use of ``csv.writer``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Final, Protocol

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

# Modules (paths under src/regie) that write CSV for machines, and why they need exact values.
MACHINE_CSV: Final = {
    "roster/importing/oneroster/writer.py": (
        "a OneRoster 1.2 CSV export is read by importers (regie's own, a supplier's), which take "
        "every cell literally; a quote before a name would change the name"
    ),
}


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def cell(value: object) -> str:
    """``value`` as CSV text that no spreadsheet reads as a formula (``None`` is empty)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class SafeWriter:
    """:func:`csv.writer` whose every cell goes through :func:`cell`."""

    def __init__(self, stream: _Writable, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: _Writable, **options: Any) -> SafeWriter:
    """A CSV writer for a file people open in a spreadsheet (options as :func:`csv.writer`)."""
    return SafeWriter(stream, **options)
