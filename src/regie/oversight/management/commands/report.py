"""``regie report make [--send]``: the hub's signed aggregate report of the last seven days,
made now (or the one already made for those days); with ``--send``, offered to the sector now
(``REGIE_OVERSIGHT_URL``) and its answer printed. Exits 0 when the sector accepted it (201) or
has it already (409), non-zero with the reason otherwise."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from regie.oversight import reports, sending
from regie.oversight.models import SectorAnswer


class Command(BaseCommand):
    help = "Make the hub's signed aggregate report of the last 7 days (and send it with --send)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=("make",))
        parser.add_argument(
            "--send", action="store_true", help="Send it to REGIE_OVERSIGHT_URL now."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        start, end = reports.last_week(now)
        report = reports.make(start, end, now=now)
        self.stdout.write(
            f"report {report.sequence} ({report.period_start}..{report.period_end}) "
            f"sha256 {report.sha256}"
        )
        if not options["send"]:
            return
        if report.answer == SectorAnswer.ACCEPTED:
            self.stdout.write(f"sent already: the sector answered {report.answer_status}")
            return
        try:
            outcome = sending.send(report)
        except sending.SendFailed as failure:
            raise CommandError(f"not sent: {failure}") from None
        if not outcome.delivered:
            raise CommandError(f"not accepted: {outcome.status or ''} {outcome.reason}".strip())
        self.stdout.write(f"sent: the sector answered {outcome.status}")
