"""What operators see of the queue and do with it (``services.overview``, ``failures``,
``retry``, ``cancel``), and pruning, with a real worker on whichever engine the test database
selects."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from regie.jobs import services
from regie.jobs.jobs import probe, prune
from regie.jobs.models import ProbeHold, QueuedJob
from regie.jobs.registry import Overview
from regie.jobs.tests.schedule import fails, fails_slowly
from regie.jobs.tests.workers import wait_for_runs, wait_until, workers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TEST_JOBS = {"REGIE_JOBS_SCHEDULE": "regie.jobs.tests.schedule.NOTHING"}


@contextmanager
def released(hold: int) -> Iterator[None]:
    """Release the held probe at the end, come what may (a worker stops once its job ends)."""
    try:
        yield
    finally:
        ProbeHold.objects.filter(hold=hold).update(released=True)


def test_operators_see_the_queue_by_state_and_retry_or_cancel_failed_jobs(
    keys_dir: Path, tmp_path: Path
) -> None:
    hold, number = (secrets.randbelow(10**9) + 1 for _ in range(2))
    ProbeHold.objects.create(hold=hold)
    fails.defer(run_id=1)
    fails_slowly.defer(run_id=2)
    probe.defer(probe=number, hold=hold)
    probe.defer_in(3600, probe=number + 1)
    assert services.overview() == Overview(queued=4, running=0, stalled=0, failed=0, dead=0)

    # Two workers: one holds the probe, the other runs the rest.
    with workers(2, keys_dir, tmp_path, **TEST_JOBS), released(hold):
        expected = Overview(queued=1, running=1, stalled=0, failed=1, dead=1)
        wait_until(lambda: services.overview() == expected, f"the queue to be {expected}")

        failures = services.failures()
        assert [(f.name, f.attempts, f.error, f.dead) for f in failures] == [
            ("jobs.test_fails", 1, "Unlucky", True),
            ("jobs.test_fails_slowly", 1, "Unlucky", False),
        ] or [(f.name, f.attempts, f.error, f.dead) for f in failures] == [
            ("jobs.test_fails_slowly", 1, "Unlucky", False),
            ("jobs.test_fails", 1, "Unlucky", True),
        ]
        assert all(f.at is not None for f in failures)
        dead = next(f for f in failures if f.dead)
        waiting = next(f for f in failures if not f.dead)

        assert services.cancel(dead.id) is False  # it runs no more: nothing to cancel
        assert services.retry(waiting.id) is False  # it will be retried anyway
        assert services.cancel(waiting.id) is True
        assert services.cancel(waiting.id) is False
        assert services.retry(dead.id) is True
        assert services.retry(dead.id) is False  # queued already
        expected = Overview(queued=1, running=1, stalled=0, failed=0, dead=1)
        wait_until(lambda: services.overview() == expected, "the retried job to fail once more")
        # procrastinate counts the operator's retry as an attempt too: 2 or 3.
        assert [f.attempts > 1 for f in services.failures() if f.id == dead.id] == [True]
        expected = Overview(queued=1, running=1, stalled=0, failed=0, dead=1)
        assert services.overview() == expected
        assert services.retry(999_999_999) is False
        assert services.cancel(999_999_999) is False

        ProbeHold.objects.filter(hold=hold).update(released=True)
        wait_for_runs({number})

    assert services.overview() == Overview(queued=1, running=0, stalled=0, failed=0, dead=1)
    assert [f.id for f in services.failures()] == [dead.id]
    # The failures' text (a pupil's name, here) reached no log, only their class.
    logs = "".join(path.read_text() for path in tmp_path.glob("*.log"))
    assert "Unlucky" in logs
    assert "Jan de Vries" not in logs


def backdate_finished(numbers: set[int], days: int) -> None:
    """Make the probes ``numbers`` look finished ``days`` ago."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE procrastinate_events SET at = at - make_interval(days => %s) "
                "WHERE job_id IN (SELECT id FROM procrastinate_jobs "
                "WHERE task_name = 'jobs.probe' AND (args->>'probe')::bigint = ANY(%s))",
                [days, list(numbers)],
            )
        return
    for queued in QueuedJob.objects.filter(name="jobs.probe"):
        if queued.payload["probe"] in numbers and queued.finished_at:
            queued.finished_at -= dt.timedelta(days=days)
            queued.save(update_fields=["finished_at"])


def test_prune_removes_the_jobs_finished_more_than_30_days_ago(
    keys_dir: Path, tmp_path: Path
) -> None:
    first = secrets.randbelow(10**9) + 1
    old, recent = {first, first + 1}, {first + 2}
    for number in sorted(old | recent):
        probe.defer(probe=number)
    with workers(1, keys_dir, tmp_path, **TEST_JOBS):
        wait_for_runs(old | recent)
        backdate_finished(old, days=31)
        backdate_finished(recent, days=29)
        prune.defer(timestamp=int(timezone.now().timestamp()))
        wait_until(
            lambda: all(services.queued(probe, {"probe": n}) == 0 for n in old),
            "the old jobs to be pruned",
        )
    assert services.queued(probe, {"probe": first + 2}) == 1
