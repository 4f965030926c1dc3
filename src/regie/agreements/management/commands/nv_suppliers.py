"""``regie nv-suppliers``: the hub's suppliers at the number service.

- ``regie nv-suppliers sync`` declares the suppliers the hub's boards have a signed or active
  processing agreement with (by KvK number); the hub also does this after every lifecycle step
  that changes them, and when the number service refuses a supplier as undeclared. Run it by hand
  after an outage, or from a timer to be sure.
- ``regie nv-suppliers status`` shows the hub's registration at the number service (role and
  declared suppliers) next to the list the hub would declare.

Either exits with an error, saying why, when the number service cannot be reached or refuses.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.agreements.services import declarations
from regie.nummervoorziening import client as nv


class Command(BaseCommand):
    help = "Declare the hub's suppliers to the number service (sync), or compare them (status)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser(
            "sync", help="Declare the suppliers of every signed or active agreement."
        )
        actions.add_parser("status", help="The registration at the number service, compared.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "sync":
                self._sync()
            else:
                self._status()
        except nv.NummervoorzieningClientError as error:
            raise CommandError(f"the number service refused or did not answer: {error}") from None

    def _sync(self) -> None:
        declaration = declarations.declare_suppliers(why="sync")
        added = ", ".join(declaration.added) or "-"
        removed = ", ".join(declaration.removed) or "-"
        self.stdout.write(
            f"declared {len(declaration.suppliers)} suppliers (added: {added}; removed: {removed})"
        )

    def _status(self) -> None:
        registration = nv.get_client().registration()
        wanted = declarations.declared_suppliers()
        self.stdout.write(
            f"client {registration.oin} ({registration.name}), role {registration.role}"
        )
        if registration.role != "hub":
            self.stdout.write(
                "  this client is no hub: it obtains no supplier pseudonyms and cannot declare "
                "suppliers; ask the number service's operator to make it one (set-role)"
            )
        declared = set(registration.suppliers)
        for kvk in sorted(declared | set(wanted)):
            state = (
                "declared"
                if kvk in declared and kvk in wanted
                else ("missing: run sync" if kvk in wanted else "no agreement: run sync")
            )
            self.stdout.write(f"  {kvk}  {state}")
        if declared == set(wanted):
            self.stdout.write(f"in step: {len(wanted)} suppliers")
        else:
            self.stdout.write("not in step: run `regie nv-suppliers sync`")
