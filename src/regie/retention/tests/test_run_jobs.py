"""The retention run as jobs: ``retention.run_board`` runs one board on the retention day (the
simulated clock's), ``retention.daily`` does every board's dry run, then queues its real run
(that it is in the schedule: ``ops/tests/test_retention_worker.py``)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from django.conf import LazySettings

from regie.jobs import services as jobs
from regie.orders.tests.conftest import hub_keys_dir, hub_keys_in_settings  # noqa: F401
from regie.roster.models import Student

from .. import clock
from ..jobs import daily, run_board
from ..models import RetentionRun, RunState
from .runworld import RunWorld, make_run_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None, rng: random.Random, settings: LazySettings) -> Iterator[RunWorld]:
    settings.SIMULATED_CLOCK = True
    settings.RETENTION_BATCH_SIZE = 1
    yield from make_run_world(rng)


def test_the_board_job_runs_on_the_simulated_day_in_batches_of_the_setting(
    world: RunWorld,
) -> None:
    for student in world.students[:3]:
        world.leave(student)
    clock.advance(366)
    run_board(board=world.board.pk, dry_run=1)
    trial = RetentionRun.objects.get(dry_run=True)
    assert trial.as_of == clock.today()
    assert trial.counts["orders"] == 6  # a batch per pupil, an order per supplier and batch
    assert Student.objects.filter(pk__in=[s.pk for s in world.students[:3]]).count() == 3

    run_board(board=world.board.pk, dry_run=0)
    done = RetentionRun.objects.get(dry_run=False)
    assert done.state == RunState.DONE
    assert done.counts == trial.counts
    assert not Student.objects.filter(pk__in=[s.pk for s in world.students[:3]]).exists()


def test_the_daily_job_does_the_dry_run_first_and_queues_the_real_run(world: RunWorld) -> None:
    world.leave(world.students[0])
    clock.advance(366)
    daily(timestamp=0)
    assert RetentionRun.objects.filter(dry_run=True, board=world.board).count() == 1
    assert not RetentionRun.objects.filter(dry_run=False).exists()
    assert jobs.queued(run_board, {"board": world.board.pk, "dry_run": 0}) == 1
