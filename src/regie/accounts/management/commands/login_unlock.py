"""``regie login-unlock``: list failed logins that count towards lockouts, or lift lockouts
before they end (:mod:`regie.accounts.throttling`). Audited as ``accounts.login.unlocked``."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.audit.services import SYSTEM

from ... import throttling


class Command(BaseCommand):
    help = (
        "Lift login lockouts: those of a username (--username), of an address (--address), or "
        "all of them (--all); --list shows what counts now."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help="the username whose lockouts end")
        parser.add_argument("--address", help="the client address whose lockouts end")
        parser.add_argument("--all", action="store_true", help="end every lockout")
        parser.add_argument(
            "--list", action="store_true", help="list the failed logins that count now"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username, address = options["username"], options["address"]
        if options["list"]:
            self._list()
            return
        if not (username or address or options["all"]):
            raise CommandError("Say whose lockouts to lift: --username, --address or --all.")
        if options["all"] and (username or address):
            raise CommandError("--all lifts every lockout: give it without --username/--address.")
        try:
            count = throttling.unlock(
                actor=SYSTEM, via="command", username=username, address=address
            )
        except ValueError:
            raise CommandError("--address must be an IPv4 or IPv6 address.") from None
        self.stdout.write(f"Removed {count} failed-login record(s); their lockouts have ended.")

    def _list(self) -> None:
        attempts = AccessAttempt.objects.order_by("-attempt_time")
        for attempt in attempts:
            self.stdout.write(
                f"{attempt.attempt_time:%Y-%m-%d %H:%M:%S}  {attempt.failures_since_start:4}  "
                f"{attempt.ip_address or '-':39}  {attempt.username or '(identity provider)'}"
            )
        if not attempts:
            self.stdout.write("No failed logins count now.")
