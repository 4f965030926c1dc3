"""The two ways in: :func:`plan_import` (the dry run) and :func:`apply_export` (the import)."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings

from regie.core.models import Board
from regie.roster.importing.records import Problem, RosterExport

from .check import check_against_hub, school_code, schools_file
from .summary import ExportRefused, ImportPlan, Pseudonyms, RemovalConsent
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
    consent: RemovalConsent = RemovalConsent(),  # noqa: B008 (frozen: shared safely)
) -> ImportPlan:
    """Apply ``export`` in the caller's transaction; returns what it changed.

    Raises :class:`ExportRefused` when the export has problems, or removes many pupils of a
    school without ``consent`` (the safety stop; see :mod:`.summary`): then nothing is changed.
    """
    problems = list(export.problems) or check_against_hub(export, board)
    if problems:
        raise ExportRefused(problems)
    diff = Diff(export, board, pseudonyms)
    unconfirmed = unconfirmed_removals(diff.plan, export, consent)
    if unconfirmed:
        raise ExportRefused(unconfirmed)
    diff.apply(actor)
    return diff.plan


def unconfirmed_removals(
    plan: ImportPlan, export: RosterExport | None, consent: RemovalConsent
) -> list[Problem]:
    """A problem for each mass removal of ``plan`` that ``consent`` does not allow."""
    lines = {school_code(record): record.line for record in export.schools} if export else {}
    file = schools_file(export) if export else "the export"
    return [
        school.removal_problem(file, lines.get(school.code))
        for school in plan.mass_removals(settings.IMPORT_MASS_REMOVAL_PERCENT)
        if not consent.allows(school)
    ]
