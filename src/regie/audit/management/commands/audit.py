"""``regie audit integrate``: put every pending audit leaf into the tree (what ``regie serve`` and
``regie worker`` also do at start-up); ``regie audit check``: the tree's self-check."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.audit import log


class Command(BaseCommand):
    help = "The audit log's Merkle tree: integrate pending leaves, or check the stored tree."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        integrate = actions.add_parser("integrate", help="Put every pending leaf into the tree.")
        integrate.add_argument(
            "--batch", type=int, default=log.BATCH, help="Leaves per transaction."
        )
        actions.add_parser("check", help="Recompute the root from leaves and tiles; compare.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "integrate":
            if options["batch"] < 1:
                raise CommandError("--batch must be at least 1")
            size = log.integrate(
                batch=options["batch"],
                progress=lambda size: self.stdout.write(f"integrated: tree size {size}"),
            )
            self.stdout.write(f"the tree has {size} leaves")
            return
        problems = log.check()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"the audit tree has {len(problems)} problem(s)")
        self.stdout.write(f"the audit tree of {log.size()} leaves is sound")
