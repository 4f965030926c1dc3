"""``regie agreements``: processing agreements as code (format ``regie-agreement/1``).

- ``regie agreements export ID [--format yaml|json]`` writes an agreement (or offer) to stdout;
- ``regie agreements import FILE --board BESTUURSNUMMER`` creates a draft agreement of the board;
- ``regie agreements publish FILE`` publishes a supplier's offer that any board can adopt.

A refused file prints every problem (``path: reason``) on stderr, changes nothing and exits 2.
The command speaks English (the problems are rendered under ``translation.override("en")``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from regie.agreements import privacy_as_code
from regie.agreements.models import ProcessingAgreement
from regie.core.models import Board

EXIT_PROBLEMS = 2


class Command(BaseCommand):
    help = "Export, import or publish processing agreements as YAML/JSON (regie-agreement/1)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        export = actions.add_parser("export", help="Write an agreement or offer to stdout.")
        export.add_argument("id", type=int, help="The agreement's id.")
        export.add_argument("--format", choices=("yaml", "json"), default="yaml")
        load = actions.add_parser("import", help="Create a draft agreement of a board from FILE.")
        load.add_argument("file", type=Path)
        load.add_argument("--board", required=True, help="The board's bestuursnummer.")
        publish = actions.add_parser("publish", help="Publish FILE as a supplier's offer.")
        publish.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override("en"):
            self._handle(options)

    def _handle(self, options: dict[str, Any]) -> None:
        if options["action"] == "export":
            self._export(options["id"], options["format"])
            return
        board = None
        if options["action"] == "import":
            board = Board.objects.filter(bestuursnummer=options["board"]).first()
            if board is None:
                raise CommandError("no board with this bestuursnummer: create it first")
        source: Path = options["file"]
        if not source.is_file():
            raise CommandError(f"{source} is not a file")
        with source.open("rb") as handle:
            content = handle.read(privacy_as_code.MAX_BYTES + 1)
        try:
            document = privacy_as_code.parse(content, name=source.name)
            if board is None:
                agreement = privacy_as_code.publish_offer(document, user=None)
            else:
                agreement = privacy_as_code.import_agreement(document, board, user=None)
        except privacy_as_code.DocumentRefused as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            count = len(error.problems)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''}; nothing was changed",
                returncode=EXIT_PROBLEMS,
            ) from None
        kind = "offer" if agreement.is_offer else f"draft agreement of board {board}"
        self.stdout.write(f"created {kind}: id {agreement.pk}")

    def _export(self, agreement_id: int, fmt: str) -> None:
        agreement = ProcessingAgreement.objects.filter(pk=agreement_id).first()
        if agreement is None:
            raise CommandError(f"no agreement with id {agreement_id}")
        write = privacy_as_code.to_json if fmt == "json" else privacy_as_code.to_yaml
        self.stdout.write(write(agreement), ending="")
