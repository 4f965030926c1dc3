"""The jobs app's own jobs: the probe, and the queue's upkeep (stalled jobs, pruning)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time

from django.db.models import F

from regie.jobs.models import FailedAttempt, JobStatus, ProbeHold, ProbeRun, QueuedJob
from regie.jobs.registry import job
from regie.lib.logging import get_logger

logger = get_logger(__name__)

KEEP_FINISHED = dt.timedelta(days=30)


@job("jobs.probe")
def probe(probe: int, hold: int = 0) -> None:
    """Record that the queue ran probe ``probe``: a check, end to end, that workers run jobs.

    With ``hold``, the probe counts its start in that ``ProbeHold`` row and waits until the row
    is released before it records its run (the tests kill a worker while it waits)."""
    if hold:
        ProbeHold.objects.get_or_create(hold=hold)
        ProbeHold.objects.filter(hold=hold).update(started=F("started") + 1)
        while not ProbeHold.objects.filter(hold=hold, released=True).exists():
            time.sleep(0.05)
    ProbeRun.objects.create(probe=probe, worker=f"{socket.gethostname()}:{os.getpid()}")


@job("jobs.retry_stalled")
def retry_stalled(timestamp: int) -> None:
    """Run again the jobs of workers that stopped without finishing them (kill -9, a lost
    machine). On PostgreSQL procrastinate finds them by their workers' missing heartbeats but
    leaves them be: this puts them back in the queue. On SQLite the embedded runner's lease does
    the same by itself (a job whose lease ran out is taken again)."""
    from regie.jobs.services import engine

    if engine() == "procrastinate":
        from regie.jobs import postgres

        postgres.retry_stalled()


@job("jobs.prune")
def prune(timestamp: int) -> None:
    """Forget the jobs that finished (succeeded, failed for good or cancelled) more than 30 days
    before the tick: on PostgreSQL through procrastinate's builtin ``remove_old_jobs``."""
    from regie.jobs.services import engine

    tick = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    FailedAttempt.objects.filter(failed_at__lt=tick - KEEP_FINISHED).delete()
    if engine() == "procrastinate":
        from regie.jobs import postgres

        postgres.prune(hours=int(KEEP_FINISHED.total_seconds() // 3600))
        return
    QueuedJob.objects.filter(
        status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED],
        finished_at__lt=tick - KEEP_FINISHED,
    ).delete()


@job("jobs.noop")
def noop(run: int) -> None:
    """Do nothing: the queue's own cost per job, the reference of the orders benchmark."""
