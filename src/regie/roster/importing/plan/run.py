"""The two ways in: :func:`plan_import` (the dry run) and :func:`apply_export` (the import)."""

from __future__ import annotations

from collections.abc import Mapping

from regie.core.models import Board
from regie.roster.importing.records import RosterExport

from .check import check_against_hub
from .summary import ExportRefused, ImportPlan, Pseudonyms
from .write import Diff


def plan_import(export: RosterExport, board: Board) -> ImportPlan:
    """The dry run: problems, or what applying ``export`` would change, per school."""
    problems = list(export.problems) or check_against_hub(export, board)
    if problems:
        return ImportPlan(problems=problems, delta=export.delta)
    return Diff(export, board, {}).plan


def apply_export(
    export: RosterExport,
    board: Board,
    *,
    actor: str,
    pseudonyms: Mapping[tuple[str, str], Pseudonyms],
) -> ImportPlan:
    """Apply ``export`` in the caller's transaction; returns what it changed.

    Raises :class:`ExportRefused` when the export has problems (then nothing is changed).
    """
    problems = list(export.problems) or check_against_hub(export, board)
    if problems:
        raise ExportRefused(problems)
    diff = Diff(export, board, pseudonyms)
    diff.apply(actor)
    return diff.plan
