"""``regie sector``: the sector dashboard's hubs and supervisors.

- ``regie sector add-hub --name NAME --vkey VKEY`` registers a hub (its origin is the key's name;
  the same origin again replaces the key and activates the hub);
- ``regie sector list-hubs`` lists the hubs, their last report and whether they are silent;
- ``regie sector deactivate-hub --origin ORIGIN``: its reports are refused from now on;
- ``regie sector add-supervisor --username NAME --organisation ap|inspectie|sector`` makes a
  supervisor's login. The password comes from ``REGIE_SECTOR_PASSWORD`` or the first line of
  stdin (``--password-stdin``); without either, a password is generated and printed once (it is
  the only secret the command prints, and only the one it made).
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from regie.sector import services
from regie.sector.models import Hub, Organisation

PASSWORD_VARIABLE = "REGIE_SECTOR_PASSWORD"  # noqa: S105  (the name of a variable, not a secret)


class Command(BaseCommand):
    help = "Register hubs and supervisors of the sector dashboard."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add_hub = actions.add_parser("add-hub", help="Register a hub by its verifier key.")
        add_hub.add_argument("--name", required=True, help="The hub's name (the board's).")
        add_hub.add_argument("--vkey", required=True, help="The hub's log key (vkey).")
        actions.add_parser("list-hubs", help="List the hubs.")
        deactivate = actions.add_parser("deactivate-hub", help="Refuse a hub's reports.")
        deactivate.add_argument("--origin", required=True, help="The hub's key name.")
        supervisor = actions.add_parser("add-supervisor", help="Make a supervisor's login.")
        supervisor.add_argument("--username", required=True)
        supervisor.add_argument("--organisation", required=True, choices=Organisation.values)
        supervisor.add_argument(
            "--password-stdin", action="store_true", help="Read the password from stdin."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except services.SectorError as error:
            raise CommandError(str(error)) from None

    def _add_hub(self, options: dict[str, Any]) -> None:
        hub = services.register_hub(options["name"], options["vkey"])
        self.stdout.write(f"registered hub {hub.name} ({hub.origin})")

    def _list_hubs(self, options: dict[str, Any]) -> None:
        now = timezone.now()
        for hub in Hub.objects.all():
            last = hub.last_report()
            state = "inactive" if not hub.active else ("silent" if hub.is_silent(now) else "ok")
            seen = f"#{last.sequence} {last.received_at.isoformat()}" if last else "no report"
            self.stdout.write(f"{hub.origin}\t{hub.name}\t{state}\t{seen}")

    def _deactivate_hub(self, options: dict[str, Any]) -> None:
        hub = services.deactivate_hub(options["origin"])
        self.stdout.write(f"deactivated hub {hub.name} ({hub.origin})")

    def _add_supervisor(self, options: dict[str, Any]) -> None:
        generated = False
        if options["password_stdin"]:
            password = (options.get("stdin") or sys.stdin).readline().rstrip("\n")
        else:
            password = os.environ.get(PASSWORD_VARIABLE, "")
        if not password:
            password, generated = secrets.token_urlsafe(18), True
        supervisor = services.add_supervisor(options["username"], options["organisation"], password)
        self.stdout.write(f"supervisor {supervisor.user.username} ({supervisor.organisation}) made")
        if generated:
            self.stdout.write(f"password (shown once): {password}")
