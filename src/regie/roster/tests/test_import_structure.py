"""The importer's own house rules: one vocabulary with the models, no private names across modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from regie.core import models as core_models
from regie.roster import models
from regie.roster.importing import records

IMPORTING = Path(__file__).resolve().parents[1] / "importing"


@pytest.mark.parametrize(
    ("name", "model_enum"),
    [
        ("Sector", core_models.Sector),
        ("Gender", models.Gender),
        ("GroupKind", models.GroupKind),
        ("StaffRole", models.StaffRole),
    ],
)
def test_the_records_speak_the_models_vocabulary(name: str, model_enum: type) -> None:
    """A second enum next to the model's could drift from it; the records use the model's own."""
    assert getattr(records, name) is model_enum


def private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(IMPORTING)}: {node.module}.{alias.name}")
    return found


def test_no_module_of_the_importer_imports_a_private_name_of_another() -> None:
    modules = sorted(IMPORTING.rglob("*.py"))
    assert len(modules) > 10
    assert [found for path in modules for found in private_imports(path)] == []
