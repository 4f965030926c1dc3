"""``regie worker``: a background worker process (add more to add capacity)."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from regie.ops.management.commands.serve import check_ready


class Command(BaseCommand):
    help = "Process number-service batches (and later other background jobs) until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", default=None, help="Worker name in logs and leases.")

    def handle(self, *args: Any, **options: Any) -> None:
        from regie.nummervoorziening.services import run_worker

        check_ready("nummervoorziening")
        stop = threading.Event()

        def shut_down(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, shut_down)
        signal.signal(signal.SIGINT, shut_down)
        run_worker(stop, worker_id=options["id"])
