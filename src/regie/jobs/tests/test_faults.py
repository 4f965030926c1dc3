"""Faults, with real ``regie worker`` processes on whichever engine the test database selects: a
worker killed (kill -9) while it runs a job, the database's connections cut, the periodic jobs of
two workers, pruning."""

from __future__ import annotations

import secrets
import signal
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from regie.jobs.jobs import probe
from regie.jobs.models import ProbeHold, ProbeRun
from regie.jobs.tests.workers import (
    start_worker,
    stop_worker,
    terminate_other_connections,
    wait_for_runs,
    wait_until,
    workers,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# A killed worker's job is taken again after a short lease (SQLite) or once the worker has sent
# no heartbeat for a few seconds and jobs.retry_stalled (every second here) has found it.
FAST_RECOVERY = {
    "REGIE_JOBS_LEASE_SECONDS": "2",
    "REGIE_JOBS_STALLED_SECONDS": "3",
    "REGIE_JOBS_SCHEDULE": "regie.jobs.tests.schedule.RETRY_STALLED",
}


def starts(hold: int) -> int:
    return ProbeHold.objects.filter(hold=hold).values_list("started", flat=True).first() or 0


def test_a_job_whose_worker_was_killed_runs_to_completion_once_on_another(
    keys_dir: Path, tmp_path: Path
) -> None:
    number, hold, other = (secrets.randbelow(10**9) + 1 for _ in range(3))
    ProbeHold.objects.create(hold=hold)
    probe.defer(probe=number, hold=hold)

    killed = start_worker("killed", keys_dir, tmp_path, **FAST_RECOVERY)
    wait_until(lambda: starts(hold) == 1, "the probe to start")
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    probe.defer(probe=other)  # queued while no worker runs: nothing is lost

    survivor = start_worker("survivor", keys_dir, tmp_path, **FAST_RECOVERY)
    wait_until(lambda: starts(hold) == 2, "the killed worker's job to start again")
    ProbeHold.objects.filter(hold=hold).update(released=True)
    wait_for_runs({number, other})
    stop_worker(survivor, tmp_path / "survivor.log")

    runs = Counter(ProbeRun.objects.values_list("probe", flat=True))
    assert (runs[number], runs[other]) == (1, 1)
    assert starts(hold) == 2  # the killed run and the one that finished, no third


def test_idle_workers_whose_connections_were_cut_reconnect_and_run_the_next_job(
    keys_dir: Path, tmp_path: Path
) -> None:
    first, second, third = (secrets.randbelow(10**9) + 1 for _ in range(3))
    with workers(2, keys_dir, tmp_path):
        probe.defer(probe=first)
        wait_for_runs({first})  # each worker has its connections open, then idles
        cut = terminate_other_connections()
        if connection.vendor == "postgresql":
            assert cut >= 2  # at least each worker's listening connection
        probe.defer(probe=second)
        wait_for_runs({second})
        terminate_other_connections()
        probe.defer(probe=third)
        wait_for_runs({third})

    runs = Counter(ProbeRun.objects.values_list("probe", flat=True))
    assert (runs[first], runs[second], runs[third]) == (1, 1, 1)


def test_two_workers_run_each_tick_of_a_periodic_job_once(keys_dir: Path, tmp_path: Path) -> None:
    with workers(2, keys_dir, tmp_path, REGIE_JOBS_SCHEDULE="regie.jobs.tests.schedule.TICKS"):
        wait_until(
            lambda: ProbeRun.objects.filter(worker="tick").values("probe").distinct().count() >= 4,
            "four ticks",
        )

    ticks = Counter(ProbeRun.objects.filter(worker="tick").values_list("probe", flat=True))
    assert len(ticks) >= 4
    assert set(ticks.values()) == {1}, ticks  # no tick twice, though both workers saw each
    assert all(timestamp % 2 == 0 for timestamp in ticks)  # the schedule's ticks, not others
