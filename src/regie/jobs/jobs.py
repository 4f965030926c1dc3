"""The jobs app's own jobs."""

from __future__ import annotations

import datetime as dt
import os
import socket

from regie.jobs.models import JobStatus, ProbeRun, QueuedJob
from regie.jobs.registry import job

KEEP_FINISHED = dt.timedelta(days=30)


@job("jobs.probe")
def probe(probe: int) -> None:
    """Record that the queue ran probe ``probe``: a check, end to end, that workers run jobs."""
    ProbeRun.objects.create(probe=probe, worker=f"{socket.gethostname()}:{os.getpid()}")


@job("jobs.prune")
def prune(timestamp: int) -> None:
    """Forget the embedded queue's jobs that finished more than 30 days before the tick."""
    tick = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    QueuedJob.objects.filter(
        status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED], finished_at__lt=tick - KEEP_FINISHED
    ).delete()
