"""Applying a parsed LAS export to the hub as a diff (DESIGN §6, "Import").

:func:`plan_import` checks a :class:`RosterExport` against what the hub holds (do its schools
belong to this board? is each sector known?) and counts, per school, what would be new, changed,
leaving and unchanged — the dry run. :func:`apply_export` makes exactly those changes in the
caller's transaction. Both compare by the LAS's own keys, so applying the same export twice
changes nothing the second time.

Nothing here calls the number service: pupils whose export carries a PGN instead of an ECK iD get
their pseudonyms from ``pseudonyms`` (obtained beforehand by ``roster.services``).
"""

from .check import check_against_hub, pgn_students, school_code, schools_file
from .compare import PERSON_FIELDS, STUDENT_FIELDS
from .run import apply_export, plan_import, unconfirmed_removals
from .sql import insert_rows
from .summary import (
    KINDS,
    Counts,
    ExportRefused,
    ImportPlan,
    Pseudonyms,
    RemovalConsent,
    SchoolPlan,
    count_summary,
)
from .write import BULK_BATCH

__all__ = [
    "BULK_BATCH",
    "KINDS",
    "PERSON_FIELDS",
    "STUDENT_FIELDS",
    "Counts",
    "ExportRefused",
    "ImportPlan",
    "Pseudonyms",
    "RemovalConsent",
    "SchoolPlan",
    "apply_export",
    "check_against_hub",
    "count_summary",
    "insert_rows",
    "pgn_students",
    "plan_import",
    "school_code",
    "schools_file",
    "unconfirmed_removals",
]
