"""The embedded runner's own rules, driven in-process (``run_one``, ``enqueue_due``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import LazySettings
from django.utils import timezone

from regie.jobs import embedded
from regie.jobs.jobs import prune
from regie.jobs.models import JobStatus, QueuedJob
from regie.jobs.registry import Periodic, job

pytestmark = pytest.mark.django_db

FAILURES: list[int] = []


class Unlucky(Exception):
    pass


@job("jobs.test_always_fails", retries=1)
def always_fails(run_id: int) -> None:
    FAILURES.append(run_id)
    raise Unlucky("pupil Jan de Vries")  # the text must not reach the queue's table


def test_a_failing_job_is_retried_then_failed_keeping_only_the_error_class() -> None:
    embedded.defer(always_fails, {"run_id": 7})
    assert embedded.run_one("runner") is True
    retried = QueuedJob.objects.get()
    assert (retried.status, retried.attempts, retried.error) == (JobStatus.TODO, 1, "Unlucky")
    assert embedded.run_one("runner") is True
    failed = QueuedJob.objects.get()
    assert (failed.status, failed.attempts, failed.error) == (JobStatus.FAILED, 2, "Unlucky")
    assert embedded.run_one("runner") is False
    assert FAILURES[-2:] == [7, 7]


def test_a_job_whose_runner_died_is_taken_again_once_its_lease_ran_out() -> None:
    embedded.defer(prune, {"timestamp": 0})
    claimed = embedded.claim("killed-runner")
    assert claimed is not None
    assert embedded.claim("second-runner") is None  # still leased
    QueuedJob.objects.update(leased_until=timezone.now() - dt.timedelta(seconds=1))
    assert embedded.run_one("second-runner") is True
    done = QueuedJob.objects.get()
    assert (done.status, done.worker, done.attempts) == (JobStatus.SUCCEEDED, "second-runner", 2)


def test_each_tick_of_a_periodic_job_is_enqueued_once() -> None:
    schedule = [Periodic(prune, cron="*/5 * * * *")]
    now = dt.datetime(2026, 12, 6, 10, 7, tzinfo=dt.UTC)
    embedded.enqueue_due(schedule, now)
    embedded.enqueue_due(schedule, now + dt.timedelta(minutes=1))  # another runner, same tick
    tick = int(dt.datetime(2026, 12, 6, 10, 5, tzinfo=dt.UTC).timestamp())
    assert list(QueuedJob.objects.values_list("name", "payload")) == [
        ("jobs.prune", {"timestamp": tick})
    ]
    embedded.enqueue_due(schedule, now + dt.timedelta(minutes=30))  # 10:35, not 10:10…10:30
    assert QueuedJob.objects.count() == 2


def test_the_runner_looks_at_the_schedule_again_at_its_next_tick_or_in_30_seconds() -> None:
    now = dt.datetime(2026, 12, 6, 10, 7, 0, 500000, tzinfo=dt.UTC)
    assert embedded.next_tick_in([Periodic(prune, cron="*/5 * * * *")], now) == 30.0
    assert embedded.next_tick_in([Periodic(prune, cron="* * * * * */2")], now) == 1.5
    assert embedded.next_tick_in([], now) == 30.0


def test_the_lease_is_a_setting(settings: LazySettings) -> None:
    settings.JOBS_LEASE_SECONDS = 2
    embedded.defer(prune, {"timestamp": 0})
    claimed = embedded.claim("runner")
    assert claimed is not None
    assert claimed.leased_until is not None
    assert (claimed.leased_until - timezone.now()).total_seconds() <= 2
