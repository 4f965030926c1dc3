"""Test-only schedules for real workers (``REGIE_JOBS_SCHEDULE``): per-second cron (a sixth
field), so that a test sees ticks without waiting minutes."""

from __future__ import annotations

from regie.jobs.jobs import retry_stalled
from regie.jobs.models import ProbeRun
from regie.jobs.registry import Periodic, job


@job("jobs.test_tick")
def tick(timestamp: int) -> None:
    """Record a tick as a probe run whose number is the tick's Unix time."""
    ProbeRun.objects.create(probe=timestamp, worker="tick")


# Stalled jobs looked for every second (instead of every minute).
RETRY_STALLED = (Periodic(retry_stalled, cron="* * * * * *"),)
# A tick every two seconds.
TICKS = (Periodic(tick, cron="* * * * * */2"),)
