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
from types import ModuleType

from django.db import connection

from regie.jobs.registry import (
    JOBS,
    Failure,
    Job,
    Overview,
    PayloadError,
    PayloadValue,
    Periodic,
    job,
)

__all__ = [
    "JOBS",
    "Failure",
    "Job",
    "Overview",
    "PayloadError",
    "Periodic",
    "cancel",
    "defer",
    "engine",
    "failures",
    "job",
    "overview",
    "queued",
    "retry",
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


# The operators' view of the queue, the same on both engines.


def _engine_module() -> ModuleType:
    if engine() == "procrastinate":
        from regie.jobs import postgres

        return postgres
    from regie.jobs import embedded

    return embedded


def overview() -> Overview:
    """Counts of jobs by state: queued, running, stalled, failed (waiting for a retry), dead."""
    result: Overview = _engine_module().overview()
    return result


def failures(limit: int = 50) -> list[Failure]:
    """The most recent failed and dead jobs, newest first: ids, names, attempts, error classes."""
    result: list[Failure] = _engine_module().failures(limit)
    return result


def retry(job_id: int) -> bool:
    """Queue a dead job (failed with no retries left) once more; False when there is none."""
    result: bool = _engine_module().retry(job_id)
    return result


def cancel(job_id: int) -> bool:
    """Cancel a job that waits in the queue (for its first run or a retry); False when there is
    none (it runs, ran, or does not exist)."""
    result: bool = _engine_module().cancel(job_id)
    return result
