"""Faults of the tree at the hub: a sequencer killed half-way, and a database from before the
tree (events without salts or leaves) upgraded by the migration."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from regie.audit import log, rfc9162
from regie.audit.events import ADMIN_SAVED
from regie.audit.models import AuditEvent, Leaf, PendingLeaf
from regie.audit.services import record
from regie.conftest import kill_at, regie_command, subprocess_env

DOOMED_APPLICATION = "regie-test-doomed-integrate"
EVENTS = 6000
BATCH = 50


def assert_every_event_once_and_proven() -> None:
    events = list(AuditEvent.objects.order_by("pk").values_list("pk", flat=True))
    leaves = list(Leaf.objects.order_by("index").values_list("index", "event_id", "leaf"))
    assert [index for index, _, _ in leaves] == list(range(len(events)))
    assert sorted(event_id for _, event_id, _ in leaves) == events
    assert not PendingLeaf.objects.exists()
    size, root = log.size(), log.root()
    assert size == len(events)
    assert rfc9162.root(rfc9162.leaf_hash(bytes(leaf)) for _, _, leaf in leaves) == root
    for index in (0, 1, size // 3, size - 2, size - 1):
        proof = log.inclusion_proof(index, size)
        rfc9162.verify_inclusion(
            rfc9162.leaf_hash(bytes(leaves[index][2])), index, size, proof, root
        )
    assert log.check() == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_sequencer_killed_half_way_loses_nothing_and_doubles_nothing(keys_dir: Path) -> None:
    with transaction.atomic():
        for number in range(EVENTS):
            record(ADMIN_SAVED, "system", f"core.board:{number % 7}", {"n": number})
    returncode, output = kill_at(  # one batch committed, the next one under way
        regie_command("audit", "integrate", "--batch", str(BATCH)),
        subprocess_env(keys_dir),
        "integrated: tree size",
        DOOMED_APPLICATION,
    )
    assert returncode == -signal.SIGKILL, output
    integrated = log.size()
    assert 0 < integrated < EVENTS, output  # killed half-way: some batches in, the rest pending
    assert integrated % BATCH == 0  # a batch is all in or all out
    assert Leaf.objects.count() == integrated
    assert PendingLeaf.objects.count() == EVENTS - integrated
    assert log.check() == []

    assert log.integrate() == EVENTS  # what `regie serve` and `regie worker` do at start-up
    assert_every_event_once_and_proven()


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_tree_gets_its_leaves() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("audit", "0002_append_only_triggers")])
    moment = dt.datetime(2026, 9, 1, 8, 30, 0, 123456, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        for number in range(5):
            cursor.execute(
                "INSERT INTO audit_auditevent (occurred_at, event_type, actor, subject, details) "
                "VALUES (%s, %s, %s, %s, %s)",
                [moment, "admin.saved", "user:3", f"core.board:{number}", json.dumps({"n": 1})],
            )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    old = list(AuditEvent.objects.order_by("pk"))
    assert len({event.salt for event in old}) == 5
    assert all(len(event.salt) == 22 for event in old)
    assert PendingLeaf.objects.count() == 5
    record(ADMIN_SAVED, "system")
    assert log.integrate() == 6
    assert_every_event_once_and_proven()
    first = log.leaf_of(old[0])
    assert first is not None
    assert json.loads(first[1])["time"] == "2026-09-01T08:30:00.123456Z"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_sequencers_at_once_never_sequence_together(keys_dir: Path) -> None:
    """Two ``regie audit integrate`` processes started together over the same pending leaves:
    both finish without an error (the lock makes the second wait for each batch of the first),
    and every event is in the tree once."""
    with transaction.atomic():
        for number in range(2000):
            record(ADMIN_SAVED, "system", f"core.board:{number % 7}", {"n": number})
    command = regie_command("audit", "integrate", "--batch", "20")
    processes = [
        subprocess.Popen(
            command,
            env=subprocess_env(keys_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert all("the tree has 2000 leaves" in output for output in outputs), outputs
    assert_every_event_once_and_proven()
