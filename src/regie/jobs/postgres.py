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
from typing import Any

import procrastinate
from procrastinate.contrib.django import app

from regie.jobs.registry import JOBS, Job, PayloadValue, Periodic
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
        task = app.task(name=job.name, retry=retry, queue=job.queue)(job.function)
    return task


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
