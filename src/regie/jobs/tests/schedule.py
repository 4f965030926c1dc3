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


class Unlucky(Exception):
    pass


@job("jobs.test_fails")
def fails(run_id: int) -> None:
    """Fails every time, with no retries: dead after one attempt."""
    raise Unlucky("pupil Jan de Vries")  # the text must reach no table or page


@job("jobs.test_fails_slowly", retries=2, backoff=3600)
def fails_slowly(run_id: int) -> None:
    """Fails, then waits an hour for its retry."""
    raise Unlucky("pupil Jan de Vries")


# No periodic jobs: a worker that loads the test jobs above and nothing else.
NOTHING: tuple[Periodic, ...] = ()
