"""The embedded engine (SQLite): a table of pending jobs and a runner thread.

The same guarantees as the PostgreSQL queue, at the scale of one machine: a job is enqueued in the
caller's transaction (a rollback takes it back), one runner claims it at a time (SQLite's
transactions take the write lock at ``BEGIN IMMEDIATE``, and the claim is a conditional update on
top of that), and a job whose runner died is taken again when its lease has run out — whatever its
retries, as procrastinate retries a stalled job: delivery is at least once, so jobs are idempotent.
Each tick of a periodic job is enqueued once (a unique key per tick).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterable

from croniter import croniter
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from regie.jobs.models import JobStatus, QueuedJob
from regie.jobs.registry import JOBS, Failure, Job, Overview, PayloadValue, Periodic
from regie.lib.logging import get_logger

logger = get_logger(__name__)


def lease() -> dt.timedelta:
    """How long a runner holds a job before another may take it (``REGIE_JOBS_LEASE_SECONDS``);
    longer than the longest job, for the embedded runner does not renew it."""
    return dt.timedelta(seconds=settings.JOBS_LEASE_SECONDS)


# A tick missed by more than this (every runner was down) is skipped, as procrastinate does.
PERIODIC_MAX_DELAY = dt.timedelta(minutes=10)

# Set when a transaction that enqueued a job commits: a runner in this process starts at once.
wake = threading.Event()


def defer(job: Job, payload: dict[str, PayloadValue], *, delay: int = 0) -> None:
    QueuedJob.objects.create(
        name=job.name, payload=payload, run_after=timezone.now() + dt.timedelta(seconds=delay)
    )
    transaction.on_commit(wake.set)


def enqueue_due(schedule: Iterable[Periodic], now: dt.datetime | None = None) -> None:
    """Enqueue the latest tick of each periodic job, unless it is older than the maximum delay
    or enqueued already (by this runner or another)."""
    now = now or timezone.now()
    rows = []
    for periodic in schedule:
        tick: dt.datetime = croniter(periodic.cron, now).get_prev(dt.datetime)
        if now - tick > PERIODIC_MAX_DELAY:
            continue
        timestamp = int(tick.timestamp())
        rows.append(
            QueuedJob(
                name=periodic.job.name,
                payload={"timestamp": timestamp},
                run_after=tick,
                periodic_key=f"{periodic.job.name}:{timestamp}",
            )
        )
    QueuedJob.objects.bulk_create(rows, ignore_conflicts=True)


def next_tick_in(schedule: Iterable[Periodic], now: dt.datetime | None = None) -> float:
    """Seconds until the schedule's next tick (at most 30: the schedule is read again then)."""
    now = now or timezone.now()
    wait = 30.0
    for periodic in schedule:
        tick: dt.datetime = croniter(periodic.cron, now).get_next(dt.datetime)
        wait = min(wait, (tick - now).total_seconds())
    return max(wait, 0.0)


def claim(worker: str) -> QueuedJob | None:
    """Take the next due job (or one whose runner's lease ran out) for ``worker``."""
    now = timezone.now()
    due = Q(status=JobStatus.TODO, run_after__lte=now) | Q(
        status=JobStatus.DOING, leased_until__lt=now
    )
    with transaction.atomic():
        for candidate in QueuedJob.objects.filter(due).order_by("run_after", "pk")[:5]:
            taken = QueuedJob.objects.filter(
                pk=candidate.pk, status=candidate.status, attempts=candidate.attempts
            ).update(
                status=JobStatus.DOING,
                worker=worker,
                leased_until=now + lease(),
                attempts=candidate.attempts + 1,
            )
            if taken:
                return QueuedJob.objects.get(pk=candidate.pk)
    return None


def run_one(worker: str) -> bool:
    """Claim and run one job; False when none was due."""
    queued = claim(worker)
    if queued is None:
        return False
    job = JOBS.get(queued.name)
    error = ""
    try:
        if job is None:
            raise LookupError("no such job")
        job(**queued.payload)
    except Exception as exception:
        error = type(exception).__name__
        logger.warning("jobs.failed", job=queued.name, id=queued.pk, error=error)
    finish(queued, job, error)
    return True


def finish(queued: QueuedJob, job: Job | None, error: str) -> None:
    now = timezone.now()
    mine = QueuedJob.objects.filter(pk=queued.pk, worker=queued.worker, attempts=queued.attempts)
    if not error:
        mine.update(status=JobStatus.SUCCEEDED, finished_at=now, leased_until=None, error="")
        return
    wait = job.retry_wait(queued.attempts) if job else None
    if wait is None:
        mine.update(status=JobStatus.FAILED, finished_at=now, leased_until=None, error=error)
    else:
        mine.update(
            status=JobStatus.TODO,
            run_after=now + dt.timedelta(seconds=wait),
            leased_until=None,
            error=error,
        )


def run(
    stop: threading.Event,
    schedule: Iterable[Periodic] = (),
    *,
    worker: str | None = None,
    idle_seconds: float = 0.5,
) -> None:
    """Run jobs until ``stop`` is set. Survives a database restart (retries, reconnects)."""
    worker = worker or f"worker-{uuid.uuid4().hex[:12]}"
    schedule = tuple(schedule)
    logger.info("jobs.worker.started", worker=worker, engine="embedded")
    next_schedule = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() >= next_schedule:
                enqueue_due(schedule)
                next_schedule = time.monotonic() + next_tick_in(schedule)
            worked = run_one(worker)
        except DatabaseError as error:
            logger.warning("jobs.worker.database_error", worker=worker, error=type(error).__name__)
            close_old_connections()
            connection.close()
            stop.wait(1.0)
            continue
        finally:
            close_old_connections()
        if not worked:
            wake.wait(min(idle_seconds, max(next_schedule - time.monotonic(), 0.0)))
            wake.clear()
    logger.info("jobs.worker.stopped", worker=worker)


# The operators' side: the overview, retry and cancel.


def overview() -> Overview:
    now = timezone.now()
    failed_before = ~Q(error="")
    counts = QueuedJob.objects.aggregate(
        queued=Count("id", filter=Q(status=JobStatus.TODO) & ~failed_before),
        failed=Count("id", filter=Q(status=JobStatus.TODO) & failed_before),
        running=Count("id", filter=Q(status=JobStatus.DOING, leased_until__gte=now)),
        stalled=Count("id", filter=Q(status=JobStatus.DOING, leased_until__lt=now)),
        dead=Count("id", filter=Q(status=JobStatus.FAILED)),
    )
    return Overview(**counts)


def failures(limit: int) -> list[Failure]:
    rows = QueuedJob.objects.filter(
        Q(status=JobStatus.FAILED) | (Q(status=JobStatus.TODO) & ~Q(error=""))
    ).order_by("-finished_at", "-run_after", "-pk")[:limit]
    return [
        Failure(
            id=row.pk,
            name=row.name,
            attempts=row.attempts,
            error=row.error,
            at=row.finished_at or row.run_after,
            dead=row.status == JobStatus.FAILED,
        )
        for row in rows
    ]


def retry(job_id: int) -> bool:
    """Queue a job that failed for good once more."""
    retried = QueuedJob.objects.filter(pk=job_id, status=JobStatus.FAILED).update(
        status=JobStatus.TODO, run_after=timezone.now(), finished_at=None
    )
    if retried:
        transaction.on_commit(wake.set)
    return bool(retried)


def cancel(job_id: int) -> bool:
    """Cancel a job that waits in the queue."""
    cancelled = QueuedJob.objects.filter(pk=job_id, status=JobStatus.TODO).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now()
    )
    return bool(cancelled)
