"""The embedded engine's queue (SQLite), and the probe's record of runs.

On PostgreSQL jobs live in procrastinate's tables instead; ``QueuedJob`` then stays empty.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    TODO = "todo", "te doen"
    DOING = "doing", "bezig"
    SUCCEEDED = "succeeded", "gelukt"
    FAILED = "failed", "mislukt"
    CANCELLED = "cancelled", "geannuleerd"


class QueuedJob(models.Model):
    """A job for the embedded runner: its name and a payload of ids (never personal data)."""

    PERSONAL_DATA: ClassVar[bool] = False

    name = models.CharField(max_length=128)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.TODO)
    attempts = models.PositiveIntegerField(default=0)
    run_after = models.DateTimeField()
    # The runner that claimed it, and until when; a lease that ran out (a worker killed while
    # running it) lets another runner take the job again.
    worker = models.CharField(max_length=64, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    # For a periodic job: its name and the cron tick (a Unix time), so that two runners that both
    # see the tick enqueue it once.
    periodic_key = models.CharField(max_length=160, null=True, blank=True, unique=True)
    # The exception's class name only: its text might carry a value.
    error = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["status", "run_after"])]
        verbose_name = _("wachtrij")
        verbose_name_plural = _("wachtrij")

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"


class ProbeRun(models.Model):
    """One run of the probe job (``jobs.probe``): operators defer probes to see that the queue
    runs end to end, and the tests count these rows to see that each job ran exactly once."""

    PERSONAL_DATA: ClassVar[bool] = False

    probe = models.PositiveIntegerField()
    worker = models.CharField(max_length=64)
    ran_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"probe {self.probe} by {self.worker}"


class ProbeHold(models.Model):
    """A probe that waits (``jobs.probe`` with ``hold``): the probe counts its starts here and
    runs on once the hold is released. The tests hold a job mid-run to kill its worker."""

    PERSONAL_DATA: ClassVar[bool] = False

    hold = models.PositiveIntegerField(unique=True)
    started = models.PositiveIntegerField(default=0)
    released = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"hold {self.hold}"


class FailedAttempt(models.Model):
    """A failed attempt of a job on PostgreSQL: procrastinate keeps no error, the operators' view
    shows its class (never its text, which might carry a value). The embedded queue keeps the
    class on its own row (``QueuedJob.error``)."""

    PERSONAL_DATA: ClassVar[bool] = False

    job_id = models.BigIntegerField(db_index=True)
    name = models.CharField(max_length=128)
    error = models.CharField(max_length=128)
    failed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} #{self.job_id}: {self.error}"
