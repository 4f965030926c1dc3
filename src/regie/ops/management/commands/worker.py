"""``regie worker``: a background worker process (add more, on more machines, to add capacity).

It runs the hub's background jobs (``regie.jobs``: procrastinate on PostgreSQL, the embedded
runner on SQLite) with the periodic jobs of ``regie.ops.schedule``, and the number service's batch
loop, each for the role this process serves (``REGIE_ROLE``, or ``--role``).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.ops.management.commands.serve import (
    check_ready,
    recover_at_start,
    start_worker_threads,
)


class Command(BaseCommand):
    help = "Run background jobs and number-service batches until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", default=None, help="Worker name in logs and leases.")
        parser.add_argument(
            "--role",
            choices=["all", "hub", "nummervoorziening"],
            default=None,
            help="What to work for (default: REGIE_ROLE).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"] or settings.ROLE
        check_ready(role)
        recover_at_start()
        stop = threading.Event()

        def shut_down(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, shut_down)
        signal.signal(signal.SIGINT, shut_down)
        loops = start_worker_threads(stop, role, options["id"])
        # The main thread only waits, so that it receives the signals.
        died = False
        while not stop.wait(1.0):
            died = not all(loop.is_alive() for loop in loops)
            if died:
                stop.set()
        for loop in loops:
            loop.join()
        if died:
            raise CommandError("a worker loop stopped on an error (see the log)")
