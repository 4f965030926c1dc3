"""The periodic jobs, all in one place: what runs when, on every engine (``regie worker`` passes
this schedule to ``regie.jobs.services.run_worker``; ``REGIE_JOBS_SCHEDULE`` names another one,
for tests). Cron in UTC; a sixth field would be seconds."""

from __future__ import annotations

from regie.jobs.jobs import prune, retry_stalled
from regie.jobs.services import Periodic

SCHEDULE: tuple[Periodic, ...] = (
    # Jobs of a worker that died (kill -9) run again (PostgreSQL; SQLite's lease does it itself).
    Periodic(retry_stalled, cron="* * * * *"),
    # Jobs that finished a month ago are forgotten.
    Periodic(prune, cron="17 3 * * *"),
)
