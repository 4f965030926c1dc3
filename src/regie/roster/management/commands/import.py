"""``regie import FILE --board N``: import a LAS export (OneRoster 1.2 CSV zip or EDEXML).

The same three steps as the upload page: validate and plan (``--dry-run`` stops here), obtain
pseudonyms for PGN-bearing pupils (progress bar; an interrupted run resumes without hashing them
again), apply in one transaction. Problems are printed by file, line, field and reason, never a
value. An export that removes more than ``REGIE_IMPORT_MASS_REMOVAL_PERCENT`` of a school's
pupils (or all of them) is applied only with ``--allow-mass-removal`` (the safety stop).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from tqdm import tqdm

from regie.core.models import Board
from regie.roster import services
from regie.roster.importing.plan import ImportPlan, RemovalConsent
from regie.roster.models import ImportStatus

EXIT_PROBLEMS = 2


class Command(BaseCommand):
    help = "Import a LAS export (OneRoster 1.2 CSV zip or EDEXML) for a board, as a diff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--board", required=True, help="The board's bestuursnummer.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and show what would change; stop."
        )
        parser.add_argument(
            "--allow-mass-removal",
            action="store_true",
            help="Apply even when the export removes more than REGIE_IMPORT_MASS_REMOVAL_PERCENT "
            "of a school's pupils (or all of them): the safety stop's confirmation.",
        )

    # The CLI speaks English (an operator's tool, like its other output): the importer's
    # problems, Dutch msgids, are printed in their English translation.
    @translation.override("en")
    def handle(self, *args: Any, **options: Any) -> None:
        board = Board.objects.filter(bestuursnummer=options["board"]).first()
        if board is None:
            raise CommandError("no board with this bestuursnummer: create it first (regie admin)")
        source: Path = options["file"]
        if not source.is_file():
            raise CommandError(f"{source} is not a file")
        run, export = services.upload_export(source, source.name, board, user=None)
        if run.status == ImportStatus.REFUSED:
            for problem in services.problems_from_json(run.problems):
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(run.problems)} problems; nothing was changed", returncode=EXIT_PROBLEMS
            )
        plan = ImportPlan.from_json(run.plan)
        self._show(plan)
        if options["dry_run"]:
            services.discard(run, user=None)
            return
        with tqdm(
            desc="pseudonyms", unit="pupil", file=sys.stderr, disable=not sys.stderr.isatty()
        ) as progress:

            def on_progress(done: int, total: int) -> None:
                progress.total = total
                progress.n = done
                progress.refresh()

            try:
                consent = RemovalConsent(any=options["allow_mass_removal"])
                services.apply(
                    run, user=None, on_progress=on_progress, export=export, consent=consent
                )
            except services.ExportRefused as error:
                for problem in error.problems:
                    self.stderr.write(str(problem))
                raise CommandError("nothing was changed", returncode=EXIT_PROBLEMS) from None
        self.stdout.write("applied")

    def _show(self, plan: ImportPlan) -> None:
        for file, encoding in plan.encodings.items():
            self.stdout.write(f"{file} is read as {encoding} (not UTF-8): check accented names")
        percent = settings.IMPORT_MASS_REMOVAL_PERCENT
        for school in plan.schools:
            label = f"{school.name} ({school.code}, {school.sector})" + (
                " [new]" if school.is_new else ""
            )
            self.stdout.write(label)
            for kind, counts in school.counts.items():
                self.stdout.write(
                    f"  {kind:10} new {counts.new:6}  changed {counts.changed:6}  "
                    f"leaving {counts.leaving:6}  unchanged {counts.unchanged:6}"
                )
            if school.pgns_to_exchange:
                self.stdout.write(f"  PGNs to exchange for pseudonyms: {school.pgns_to_exchange}")
            if school.without_identifier:
                self.stdout.write(
                    f"  pupils without BSN, onderwijsnummer or ECK iD: {school.without_identifier}"
                    " (no pseudonym: no supplier receives anything about them)"
                )
            if school.removes_many(percent):
                self.stdout.write(
                    f"  SAFETY STOP: this export removes {school.students_leaving:,} of "
                    f"{school.active_students:,} pupils; applying it needs --allow-mass-removal"
                )
        if not plan.has_changes:
            self.stdout.write("no changes")
