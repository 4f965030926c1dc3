"""The queue, end to end with real ``regie worker`` processes, on whichever engine the test
database selects (the embedded runner on SQLite, procrastinate on PostgreSQL)."""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path

import pytest
from django.db import transaction

from regie.jobs.jobs import probe
from regie.jobs.models import ProbeRun
from regie.jobs.services import queued
from regie.jobs.tests.workers import wait_for_runs, workers

pytestmark = pytest.mark.django_db(transaction=True)


class RolledBack(Exception):
    pass


def test_a_job_deferred_in_a_rolled_back_transaction_never_runs_and_a_committed_one_once(
    keys_dir: Path, tmp_path: Path
) -> None:
    rolled_back, committed, later = (secrets.randbelow(10**9) for _ in range(3))

    def defer_and_fail() -> None:
        with transaction.atomic():
            probe.defer(probe=rolled_back)
            raise RolledBack

    with pytest.raises(RolledBack):
        defer_and_fail()
    with transaction.atomic():
        probe.defer(probe=committed)
    assert queued(probe, {"probe": rolled_back}) == 0
    assert queued(probe, {"probe": committed}) == 1

    with workers(1, keys_dir, tmp_path):
        wait_for_runs({committed})
        probe.defer(probe=later)  # deferred after the first ran: it runs after it
        wait_for_runs({later})

    runs = Counter(ProbeRun.objects.values_list("probe", flat=True))
    assert runs[committed] == 1
    assert runs[later] == 1
    assert runs[rolled_back] == 0
    assert queued(probe, {"probe": rolled_back}) == 0


def test_two_workers_share_the_queue_and_run_each_job_once(keys_dir: Path, tmp_path: Path) -> None:
    first = secrets.randbelow(10**9)
    probes = set(range(first, first + 60))
    with transaction.atomic():
        for number in sorted(probes):
            probe.defer(probe=number)

    with workers(2, keys_dir, tmp_path):
        wait_for_runs(probes)

    runs = Counter(ProbeRun.objects.filter(probe__in=probes).values_list("probe", flat=True))
    assert set(runs) == probes
    assert set(runs.values()) == {1}


def test_a_job_deferred_for_later_waits_while_one_deferred_after_it_runs(
    keys_dir: Path, tmp_path: Path
) -> None:
    later, now = (secrets.randbelow(10**9) for _ in range(2))
    with transaction.atomic():
        probe.defer_in(3600, probe=later)
    with transaction.atomic():
        probe.defer(probe=now)

    with workers(1, keys_dir, tmp_path):
        wait_for_runs({now})

    # The queue takes the oldest due job first: had ``later`` been due, it would have run first.
    assert not ProbeRun.objects.filter(probe=later).exists()
    assert queued(probe, {"probe": later}) == 1


def test_a_job_cannot_be_deferred_into_the_past() -> None:
    with pytest.raises(ValueError, match="past"):
        probe.defer_in(-1, probe=1)
