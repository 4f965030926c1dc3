"""Background jobs: the front door.

Declare a job once, in the app's ``jobs`` module::

    @job("roster.apply_import", retries=3, backoff=10)
    def apply_import(run_id: int) -> None: ...

and enqueue it inside the caller's transaction: ``apply_import.defer(run_id=run.pk)``. The payload
carries ids only (``registry.check_payload``). Periodic jobs are ``Periodic(job, cron)`` in one
schedule, which the worker command passes to ``run_worker``.

The engine follows the database: on PostgreSQL procrastinate (``jobs.postgres``), on SQLite the
embedded runner (``jobs.embedded``). A job function never knows which runs it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from django.db import connection

from regie.jobs.registry import JOBS, Job, PayloadError, PayloadValue, Periodic, job

__all__ = [
    "JOBS",
    "Job",
    "PayloadError",
    "Periodic",
    "defer",
    "engine",
    "job",
    "queued",
    "run_worker",
]


def engine() -> str:
    """``procrastinate`` on PostgreSQL, ``embedded`` otherwise."""
    return "procrastinate" if connection.vendor == "postgresql" else "embedded"


def defer(declared: Job, payload: dict[str, PayloadValue], *, delay: int = 0) -> None:
    """Enqueue ``declared`` in the caller's transaction, to run ``delay`` seconds from now."""
    if engine() == "procrastinate":
        from regie.jobs import postgres

        postgres.defer(declared, payload, delay=delay)
    else:
        from regie.jobs import embedded

        embedded.defer(declared, payload, delay=delay)


def queued(declared: Job, payload: dict[str, PayloadValue]) -> int:
    """How many jobs of ``declared`` with exactly this payload the queue holds, in any state (a
    job deferred in a rolled-back transaction is not among them)."""
    if engine() == "procrastinate":
        from procrastinate.contrib.django.models import ProcrastinateJob

        return ProcrastinateJob.objects.filter(task_name=declared.name, args=payload).count()
    from regie.jobs.models import QueuedJob

    return QueuedJob.objects.filter(name=declared.name, payload=payload).count()


def run_worker(
    stop: threading.Event, schedule: Iterable[Periodic] = (), *, worker: str | None = None
) -> None:
    """Run jobs (and the schedule's periodic ones) until ``stop`` is set."""
    if engine() == "procrastinate":
        from regie.jobs import postgres

        postgres.run(stop, schedule, worker=worker)
    else:
        from regie.jobs import embedded

        embedded.run(stop, schedule, worker=worker)
