"""CSV for people: no cell is read as a formula, and every CSV writer goes through csvsafe."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest

from regie.lib import csvsafe

SOURCE = Path(__file__).resolve().parents[2]  # src/regie


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=2+5+cmd|' /C calc'!A0", "'=2+5+cmd|' /C calc'!A0"),
        ("+31 6 1234", "'+31 6 1234"),
        ("-1", "'-1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("users.csv", "users.csv"),
        ("Zoë de Vries", "Zoë de Vries"),
        ("a=b", "a=b"),
        (12, "12"),
        (None, ""),
        ("", ""),
    ],
)
def test_it_neutralises_a_formula_and_nothing_else(value: object, written: str) -> None:
    assert csvsafe.cell(value) == written


def test_its_writer_writes_every_cell_safely() -> None:
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(["bestand", "regel"])
    writer.writerows([["=2+5+cmd|' /C calc'!A0", 3], ["export.zip", None]])
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert rows == [["bestand", "regel"], ["'=2+5+cmd|' /C calc'!A0", "3"], ["export.zip", ""]]


def csv_writers(path: Path) -> list[str]:
    """Where ``path`` makes a CSV writer of the csv module itself (or imports one)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "csv"
            and node.attr in ("writer", "DictWriter")
        ):
            found.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
        if isinstance(node, ast.ImportFrom) and node.module == "csv":
            names = {alias.name for alias in node.names}
            if names & {"writer", "DictWriter"}:
                found.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    return found


def test_every_csv_writer_of_the_code_goes_through_csvsafe() -> None:
    allowed = {"lib/csvsafe.py", *csvsafe.MACHINE_CSV}
    modules = [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if "tests" not in path.relative_to(SOURCE).parts
    ]
    assert len(modules) > 100
    unsafe = [
        where
        for path in modules
        if str(path.relative_to(SOURCE)) not in allowed
        for where in csv_writers(path)
    ]
    assert unsafe == []
    for name in csvsafe.MACHINE_CSV:
        assert csv_writers(SOURCE / name), f"{name} writes no CSV: drop it from MACHINE_CSV"
