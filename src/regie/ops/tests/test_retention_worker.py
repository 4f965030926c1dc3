"""The retention run in a real ``regie worker`` killed with SIGKILL halfway: another worker
continues the same run, every due pupil is deleted at the hub once and every supplier is ordered
exactly once about each of them (the unique retention actions are the proof), the orders are
delivered and completed, the check finds nothing left and the report verifies."""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.db import transaction

from regie.gateway.models import SupplierPseudonym
from regie.jobs.tests.workers import start_worker, wait_until, workers
from regie.ops.schedule import SCHEDULE
from regie.orders.models import Order, OrderState
from regie.orders.tests.conftest import hub_keys_dir, hub_keys_in_settings  # noqa: F401
from regie.orders.tests.test_workers import WORKER_ENV
from regie.retention import clock, run
from regie.retention.jobs import daily, run_board
from regie.retention.models import ActionScope, RetentionAction, RetentionRun, RunState
from regie.retention.tests.runworld import RunWorld, make_run_world
from regie.roster.models import Student

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PUPILS = 40
RETENTION_ENV = {
    **WORKER_ENV,
    "REGIE_SIMULATED_CLOCK": "true",
    "REGIE_RETENTION_BATCH_SIZE": "1",
}


def test_the_daily_retention_run_is_in_the_schedule() -> None:
    assert [item.cron for item in SCHEDULE if item.job is daily] == ["23 2 * * *"]


@pytest.fixture
def world(transactional_db: None, rng: random.Random, settings: LazySettings) -> Iterator[RunWorld]:
    settings.SIMULATED_CLOCK = True
    yield from make_run_world(rng, pupils=PUPILS)


def test_a_worker_killed_halfway_through_the_run_leaves_it_to_the_next_and_nothing_twice(
    world: RunWorld,
    keys_dir: Path,
    hub_keys_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    for student in world.students:
        world.leave(student)
    clock.advance(366)
    pseudonyms = {
        (supplier_id, value): student_id
        for student_id, supplier_id, value in SupplierPseudonym.objects.values_list(
            "student_id", "supplier_id", "value"
        )
    }
    with transaction.atomic():
        run_board.defer(board=world.board.pk, dry_run=0)

    env = {**RETENTION_ENV, "REGIE_OIDC_KEYS_DIR": str(hub_keys_dir)}
    first = start_worker("retention-worker-killed", keys_dir, tmp_path, **env)
    try:
        wait_until(
            lambda: RetentionAction.objects.filter(scope=ActionScope.HUB).count() >= 3,
            "the run to delete a few pupils",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    killed = RetentionRun.objects.get(dry_run=False)
    assert killed.state == RunState.RUNNING
    deleted_before = RetentionAction.objects.filter(scope=ActionScope.HUB).count()
    assert 3 <= deleted_before < PUPILS, "the kill came when the run was halfway"

    with workers(1, keys_dir, tmp_path, **env):
        wait_until(
            lambda: RetentionRun.objects.filter(pk=killed.pk, state=RunState.DONE).exists(),
            "the next worker to finish the run",
        )
        done = RetentionRun.objects.get(pk=killed.pk)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = Counter(Order.objects.values_list("state", flat=True))
            if states == Counter({OrderState.COMPLETED: len(done.orders)}):
                break
            time.sleep(0.2)
        assert states == Counter({OrderState.COMPLETED: len(done.orders)}), states

    assert RetentionRun.objects.filter(dry_run=False).count() == 1  # the same run, continued
    ids = [student.pk for student in world.students]
    assert not Student.objects.filter(pk__in=ids).exists()
    hub = Counter(
        RetentionAction.objects.filter(scope=ActionScope.HUB).values_list("student_key", flat=True)
    )
    assert hub == Counter(dict.fromkeys(ids, 1))
    # every supplier ordered exactly once about every pupil: in the orders' bodies, and as it
    # received them (each order acted upon once)
    named: Counter[tuple[int, int]] = Counter()
    for order in Order.objects.all():
        for subject in json.loads(bytes(order.body))["subjects"]:
            named[(order.supplier_id, pseudonyms[(order.supplier_id, subject)])] += 1
    assert named == Counter({(holder.supplier.pk, pk): 1 for holder in world.holders for pk in ids})
    for holder in world.holders:
        sent = {
            str(pk)
            for pk in Order.objects.filter(supplier=holder.supplier).values_list("pk", flat=True)
        }
        assert set(holder.stub.handled) == sent
        assert set(holder.stub.handled.values()) == {1}
    assert done.counts["pupils_deleted"] == PUPILS
    assert done.counts["supplier_erasures"] == PUPILS * len(world.holders)
    assert len(set(done.orders)) == len(done.orders) == Order.objects.count()
    assert set(done.left_over.values()) == {0}
    assert run.verify_report(done.report)["counts"] == done.counts
