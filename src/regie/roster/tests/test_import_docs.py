"""docs/import.md states every field limit of the importer, as the model columns have it."""

from __future__ import annotations

import re
from pathlib import Path

from regie.lib.env import REGISTRY
from regie.roster.importing.fields import WRITTEN

DOC = Path(__file__).resolve().parents[4] / "docs" / "import.md"
ROW = re.compile(r"^\| `(\w+)\.(\w+)` \|.*\| (\d+) \|$")


def documented_limits() -> dict[tuple[str, str], int]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- limits -->", 1)[1].split("<!-- /limits -->", 1)[0]
    rows = [ROW.match(line) for line in block.splitlines()]
    return {(row[1], row[2]): int(row[3]) for row in rows if row}


def test_the_import_doc_lists_every_column_with_its_limit() -> None:
    columns = {
        (column.model.__name__, column.name): column.max_length
        for record in WRITTEN.values()
        for column in record.values()
    }
    assert documented_limits() == columns


def test_the_import_doc_states_the_default_share_of_the_safety_stop() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert REGISTRY["REGIE_IMPORT_MASS_REMOVAL_PERCENT"].default == "20"  # as the doc says
    assert text.count("20 %") == 2
    assert "REGIE_IMPORT_MASS_REMOVAL_PERCENT" in text
