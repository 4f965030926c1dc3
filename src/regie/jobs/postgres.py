"""The PostgreSQL engine: procrastinate (``procrastinate.contrib.django``, installed on PostgreSQL
only; see settings).

A job is registered as a procrastinate task under its own name when it is first deferred or when a
worker starts. Deferring goes through procrastinate's Django connector, that is Django's own
connection, so the job's row is written in the caller's transaction. Workers fetch jobs with
``SELECT … FOR UPDATE SKIP LOCKED``: any number of them, on any number of machines, share the queue
without running a job twice. Periodic ticks are de-duplicated across workers by procrastinate's
``procrastinate_periodic_defers`` table.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import procrastinate
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Count, Max, Q
from procrastinate.contrib.django import app
from procrastinate.exceptions import ConnectorException
from procrastinate.job_context import JobContext
from procrastinate.utils import utcnow

from regie.jobs.models import FailedAttempt
from regie.jobs.registry import JOBS, Failure, Job, Overview, PayloadValue, Periodic
from regie.lib.logging import get_logger

logger = get_logger(__name__)


def task_for(job: Job) -> procrastinate.tasks.Task[Any, Any, Any]:
    task = app.tasks.get(job.name)
    if task is None:
        retry = (
            procrastinate.RetryStrategy(max_attempts=job.retries, exponential_wait=job.backoff)
            if job.retries
            else False
        )
        task = app.task(name=job.name, retry=retry, queue=job.queue, pass_context=True)(
            _runner(job)
        )
    return task


class JobFailed(Exception):
    """A job raised; the message is the class of the original error, never its text."""


def _runner(job: Job) -> Any:
    """The task procrastinate runs for ``job``: the job's function on a healthy connection (a
    restarted database or a terminated connection costs one reconnect, not a failed job), and the
    class of a failure kept for the operators' view — only the class, in the log too."""

    def run(context: JobContext, **payload: PayloadValue) -> None:
        close_old_connections()
        try:
            job.function(**payload)
        except Exception as error:
            name = type(error).__name__
            with contextlib.suppress(DatabaseError):
                FailedAttempt.objects.create(job_id=context.job.id or 0, name=job.name, error=name)
            logger.warning("jobs.failed", job=job.name, id=context.job.id, error=name)
            # procrastinate logs a failed job's traceback: the error's text (which may carry a
            # value) stays out of it, its class is enough.
            raise JobFailed(name) from None
        finally:
            close_old_connections()

    run.__name__ = run.__qualname__ = job.function.__name__
    run.__module__ = job.function.__module__
    return run


def defer(job: Job, payload: dict[str, PayloadValue], *, delay: int = 0) -> None:
    task = task_for(job)
    if delay:
        task.configure(schedule_in={"seconds": delay}).defer(**payload)
    else:
        task.defer(**payload)


def register(schedule: Iterable[Periodic]) -> None:
    for job in JOBS.values():
        task_for(job)
    registered = app.periodic_registry.periodic_tasks
    for periodic in schedule:
        task = task_for(periodic.job)
        if (task.name, "") not in registered:
            app.periodic(cron=periodic.cron)(task)


def run(stop: threading.Event, schedule: Iterable[Periodic] = (), *, worker: str | None) -> None:
    """Run procrastinate's worker until ``stop`` is set, then let it finish its running jobs."""
    register(schedule)
    worker = worker or f"worker-{uuid.uuid4().hex[:12]}"

    async def main() -> None:
        connector = app.connector.get_worker_connector()  # type: ignore[attr-defined]
        with app.replace_connector(connector) as worker_app:
            async with worker_app.open_async():
                running = asyncio.create_task(
                    worker_app.run_worker_async(
                        install_signal_handlers=False,
                        name=worker,
                        fetch_job_polling_interval=1.0,
                        # A worker killed (kill -9) stops its heartbeat: after
                        # JOBS_STALLED_SECONDS, jobs.retry_stalled runs its jobs again.
                        update_heartbeat_interval=settings.JOBS_STALLED_SECONDS / 3,
                        stalled_worker_timeout=settings.JOBS_STALLED_SECONDS,
                    )
                )
                stopped = asyncio.create_task(asyncio.to_thread(stop.wait))
                await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not running.done():
                    running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
                stopped.cancel()

    logger.info("jobs.worker.started", worker=worker, engine="procrastinate")
    asyncio.run(main())
    logger.info("jobs.worker.stopped", worker=worker)


# The operators' side: stalled jobs, pruning, the overview, retry and cancel.

REMOVE_OLD_JOBS = "builtin:procrastinate.builtin_tasks.remove_old_jobs"


def stalled_jobs() -> list[procrastinate.jobs.Job]:
    """Running jobs whose worker sent no heartbeat for ``JOBS_STALLED_SECONDS`` (killed)."""

    def look_up() -> list[procrastinate.jobs.Job]:
        stalled = async_to_sync(app.job_manager.get_stalled_jobs)(
            seconds_since_heartbeat=settings.JOBS_STALLED_SECONDS
        )
        return list(stalled)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return look_up()  # the usual case: a worker's job, a page, a command

    # Called where an event loop runs (a test driving a browser): from a thread of its own.
    def in_a_thread() -> list[procrastinate.jobs.Job]:
        try:
            return look_up()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(in_a_thread).result()


def retry_stalled() -> int:
    """Put every stalled job back in the queue (procrastinate does not by itself); how many."""
    retried = 0
    for stalled in stalled_jobs():
        if stalled.id is None:
            continue
        try:
            app.job_manager.retry_job_by_id(stalled.id, retry_at=utcnow())
        except (DatabaseError, ConnectorException):
            continue  # another worker's jobs.retry_stalled took it first
        logger.warning("jobs.stalled.retried", job=stalled.task_name, id=stalled.id)
        retried += 1
    return retried


def prune(hours: int) -> None:
    """Have procrastinate's builtin task remove the jobs that finished ``hours`` ago or more."""
    app.tasks[REMOVE_OLD_JOBS].defer(
        max_hours=hours, remove_failed=True, remove_cancelled=True, remove_aborted=True
    )


def overview() -> Overview:
    from procrastinate.contrib.django.models import ProcrastinateJob

    counts = ProcrastinateJob.objects.aggregate(
        queued=Count("id", filter=Q(status="todo", attempts=0)),
        failed=Count("id", filter=Q(status="todo", attempts__gt=0)),
        doing=Count("id", filter=Q(status="doing")),
        dead=Count("id", filter=Q(status="failed")),
    )
    stalled = len(stalled_jobs())
    return Overview(
        queued=counts["queued"],
        running=counts["doing"] - stalled,
        stalled=stalled,
        failed=counts["failed"],
        dead=counts["dead"],
    )


def failures(limit: int) -> list[Failure]:
    from procrastinate.contrib.django.models import ProcrastinateJob

    rows = (
        ProcrastinateJob.objects.filter(Q(status="failed") | Q(status="todo", attempts__gt=0))
        .annotate(at=Max("procrastinateevent__at"))
        .order_by("-at", "-id")[:limit]
    )
    jobs = list(rows)
    errors: dict[int, str] = {}
    for attempt in FailedAttempt.objects.filter(job_id__in=[job.id for job in jobs]).order_by(
        "failed_at", "pk"
    ):
        errors[attempt.job_id] = attempt.error
    return [
        Failure(
            id=job.id,
            name=job.task_name,
            attempts=job.attempts,
            error=errors.get(job.id, ""),
            at=job.at,
            dead=job.status == "failed",
        )
        for job in jobs
    ]


def retry(job_id: int) -> bool:
    """Queue a job that failed for good once more (procrastinate's retry)."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    if not ProcrastinateJob.objects.filter(id=job_id, status="failed").exists():
        return False
    try:
        app.job_manager.retry_job_by_id(job_id, retry_at=utcnow())
    except (DatabaseError, ConnectorException):
        return False
    return True


def cancel(job_id: int) -> bool:
    """Cancel a job that waits in the queue (procrastinate's cancel: ``todo`` only)."""
    return app.job_manager.cancel_job_by_id(job_id)
