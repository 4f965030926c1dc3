"""Failed jobs without a worker, for the tests of pages that show them: the next queued job is
taken and fails as a worker's attempt would (on PostgreSQL through procrastinate's job manager)."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from django.utils import timezone

from regie.jobs import embedded
from regie.jobs.models import FailedAttempt
from regie.jobs.registry import JOBS


def fail_next_job(error: str = "Unlucky") -> int:
    """Take the next queued job and let its attempt fail with ``error`` (a class name): it then
    waits for its retry, or is dead when it has no retries left. Its id."""
    if connection.vendor != "postgresql":
        queued = embedded.claim("test-runner")
        assert queued is not None, "no job queued"
        embedded.finish(queued, JOBS.get(queued.name), error)
        return queued.pk

    # A test that drives a browser has an event loop in its thread, where the job manager's async
    # calls cannot wait: there, a thread of its own (whose connection commits, as a worker's).
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _fail_next_procrastinate_job(error)
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(_in_a_thread, error).result()


def _in_a_thread(error: str) -> int:
    try:
        return _fail_next_procrastinate_job(error)
    finally:
        connection.close()


def _fail_next_procrastinate_job(error: str) -> int:
    from asgiref.sync import async_to_sync
    from procrastinate.contrib.django import app
    from procrastinate.jobs import Status

    manager = app.job_manager
    worker_id = async_to_sync(manager.register_worker)()
    job = async_to_sync(manager.fetch_job)(queues=None, worker_id=worker_id)
    assert job is not None, "no job queued"
    assert job.id is not None
    FailedAttempt.objects.create(job_id=job.id, name=job.task_name, error=error)
    declared = JOBS[job.task_name]
    if declared.retries:
        later = timezone.now() + dt.timedelta(hours=1)
        async_to_sync(manager.retry_job)(job, retry_at=later)
    else:
        async_to_sync(manager.finish_job)(job, Status.FAILED, delete_job=False)
    async_to_sync(manager.unregister_worker)(worker_id)
    return job.id
