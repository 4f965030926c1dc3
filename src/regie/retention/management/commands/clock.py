"""``regie clock show | advance --days N | reset``: the simulated day retention acts on (the demo
and tests only; refused unless ``REGIE_SIMULATED_CLOCK`` is on)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.retention import clock


class Command(BaseCommand):
    help = "Show, advance or reset the simulated day retention acts on (demo and tests only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=("show", "advance", "reset"))
        parser.add_argument("--days", type=int, default=0, help="How many days to advance.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "advance":
                day = clock.advance(options["days"])
            elif options["action"] == "reset":
                day = clock.reset()
            else:
                day = clock.today()
        except clock.ClockRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(f"retention's day: {day.isoformat()} (offset {clock.offset_days()} days)")
