"""The job declarations: ``@job`` names a function as a background job, ``Periodic`` puts a job on
a cron schedule. Neither knows which engine runs it (see ``services``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# A payload value is an id: an integer, or a short name of letters, digits and ``_.:-``. Personal
# data (a name, a pseudonym URI, an e-mail address) does not fit, so it cannot travel in a queue
# table or a job's log line.
PAYLOAD_TEXT = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")

JobFunction = Callable[..., None]
PayloadValue = int | str


class PayloadError(ValueError):
    """A job's payload holds something other than ids."""


def check_payload(payload: Mapping[str, object]) -> dict[str, PayloadValue]:
    """The payload itself when every value is an id; else ``PayloadError`` (naming the key, never
    the value)."""
    checked: dict[str, PayloadValue] = {}
    for key, value in payload.items():
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and PAYLOAD_TEXT.fullmatch(value))
        ):
            raise PayloadError(f"job payload {key!r} is not an id (an integer or a short name)")
        checked[key] = value
    return checked


@dataclass(frozen=True)
class Job:
    """A background job. ``retries`` more attempts after a failure, waiting
    ``backoff ** attempt`` seconds before each (procrastinate's exponential wait). A job runs at
    least once: one whose worker was killed runs again, so a job must be idempotent."""

    name: str
    function: JobFunction = field(compare=False)
    retries: int = 0
    backoff: int = 0
    queue: str = "default"

    def __call__(self, **payload: PayloadValue) -> None:
        """Run the job here and now (as a worker does)."""
        self.function(**payload)

    def defer(self, **payload: PayloadValue) -> None:
        """Enqueue the job in the caller's transaction: it runs once that commits, and never
        when it rolls back."""
        from regie.jobs import services

        services.defer(self, check_payload(payload))

    def defer_in(self, seconds: int, **payload: PayloadValue) -> None:
        """Like ``defer``, but the job runs no earlier than ``seconds`` after now (a retry
        schedule of one's own, a reminder)."""
        from regie.jobs import services

        if seconds < 0:
            raise ValueError("a job cannot be deferred into the past")
        services.defer(self, check_payload(payload), delay=seconds)

    def retry_wait(self, attempts: int) -> int | None:
        """Seconds to wait before the next attempt after ``attempts`` failed ones, or None when
        the job has failed for good."""
        if attempts > self.retries:
            return None
        return int(self.backoff**attempts) if self.backoff else 0


@dataclass(frozen=True)
class Periodic:
    """A job run on a cron schedule (the job takes ``timestamp``, the tick as Unix time). Each
    tick runs once, however many workers see it."""

    job: Job
    cron: str


@dataclass(frozen=True)
class Overview:
    """The queue at a glance, on either engine. ``failed``: an attempt failed and the job waits
    for its next one; ``dead``: failed with no retries left; ``stalled``: running, but its worker
    stopped (no heartbeat on PostgreSQL, a lease run out on SQLite)."""

    queued: int
    running: int
    stalled: int
    failed: int
    dead: int


@dataclass(frozen=True)
class Failure:
    """A job that failed (``dead``: for good), as operators see it: its id, name, attempts, the
    class of its last error and when — never its payload."""

    id: int
    name: str
    attempts: int
    error: str
    at: dt.datetime | None
    dead: bool


JOBS: dict[str, Job] = {}


def job(
    name: str, *, retries: int = 0, backoff: int = 0, queue: str = "default"
) -> Callable[[JobFunction], Job]:
    """Declare a function as a background job under a stable dotted ``name`` (``app.what``)."""
    if not NAME.fullmatch(name):
        raise ValueError(f"a job's name is dotted lower case (app.what): {name!r}")

    def declare(function: JobFunction) -> Job:
        if name in JOBS:
            raise ValueError(f"a job named {name!r} is declared already")
        declared = Job(name, function, retries=retries, backoff=backoff, queue=queue)
        JOBS[name] = declared
        return declared

    return declare
