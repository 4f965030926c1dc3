"""Delivery with real ``regie worker`` processes: a worker killed with SIGKILL while sending loses
nothing and the supplier acts once; two workers never deliver one attempt twice."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from regie.jobs.tests import workers as workers_helpers
from regie.jobs.tests.workers import terminate_other_connections
from regie.orders import services
from regie.orders.models import DeliveryAttempt, Order, OrderState

from .conftest import World

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# A killed worker's job is taken again soon: the embedded lease runs out, or procrastinate misses
# its heartbeat and jobs.retry_stalled (every second) retries it.
WORKER_ENV = {
    "REGIE_JOBS_LEASE_SECONDS": "2",
    "REGIE_JOBS_STALLED_SECONDS": "3",
    "REGIE_JOBS_SCHEDULE": "regie.jobs.tests.schedule.RETRY_STALLED",
    "REGIE_ORDER_TIMEOUT_SECONDS": "5",
    "REGIE_ORDER_RETRY_SCHEDULE": "0,1,1",
}


def start_worker(name: str, keys: Path, hub_keys: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    return workers_helpers.start_worker(
        name, keys, tmp_path, REGIE_OIDC_KEYS_DIR=str(hub_keys), **WORKER_ENV
    )


@contextmanager
def workers(
    count: int, keys: Path, hub_keys: Path, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = [start_worker(f"orders-worker-{n}", keys, hub_keys, tmp_path) for n in range(count)]
    try:
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def erasure(world: World, student_index: int = 0) -> Order:
    return services.create_order(
        type="erasure",
        supplier=world.supplier,
        students=[world.students[student_index % len(world.students)]],
        legal_basis="AVG art. 17 lid 1 sub b",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )


def wait_until_completed(order_ids: set[uuid.UUID]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = Order.objects.filter(pk__in=order_ids, state=OrderState.COMPLETED).count()
        if done == len(order_ids):
            return
        time.sleep(0.2)
    states = list(Order.objects.filter(pk__in=order_ids).values_list("state", flat=True))
    raise AssertionError(f"not every order completed: {sorted(set(states))}")


def test_a_worker_killed_while_sending_loses_nothing_and_the_supplier_acts_once(
    live_world: World, keys_dir: Path, hub_keys_dir: Path, tmp_path: Path
) -> None:
    live_world.stub.mode = "block"  # the supplier holds the request until the test lets go
    with transaction.atomic():
        order = erasure(live_world)
    first = start_worker("orders-worker-killed", keys_dir, hub_keys_dir, tmp_path)
    try:
        assert live_world.stub.arrived.wait(60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    live_world.stub.mode = "ok"
    live_world.stub.release.set()  # the supplier acted on the request the worker never saw answered

    with workers(1, keys_dir, hub_keys_dir, tmp_path):
        wait_until_completed({order.pk})

    assert live_world.stub.handled == {str(order.pk): 1}
    assert live_world.stub.received[str(order.pk)] >= 2  # sent again after the kill
    assert [receipt.status for receipt in order.receipts.order_by("issued_at", "pk")] == [
        "accepted",
        "completed",
    ]


def test_two_workers_never_deliver_one_attempt_twice(
    live_world: World, keys_dir: Path, hub_keys_dir: Path, tmp_path: Path
) -> None:
    with transaction.atomic():
        orders = {erasure(live_world, number).pk for number in range(60)}
    with workers(2, keys_dir, hub_keys_dir, tmp_path):
        wait_until_completed(orders)

    assert set(live_world.stub.received) == {str(pk) for pk in orders}
    assert set(live_world.stub.received.values()) == {1}
    assert set(live_world.stub.handled.values()) == {1}
    attempts = DeliveryAttempt.objects.filter(order__in=orders)
    assert attempts.count() == 60
    assert set(attempts.values_list("number", "sends")) == {(1, 1)}


def test_a_database_connection_cut_while_sending_loses_nothing_and_the_supplier_acts_once(
    live_world: World, keys_dir: Path, hub_keys_dir: Path, tmp_path: Path
) -> None:
    live_world.stub.mode = "block"  # the worker waits for the supplier's answer
    with transaction.atomic():
        order = erasure(live_world)
    with workers(1, keys_dir, hub_keys_dir, tmp_path):
        assert live_world.stub.arrived.wait(60)
        cut = terminate_other_connections()  # the worker's connections: its next write fails
        assert cut > 0 or connection.vendor == "sqlite"
        live_world.stub.mode = "ok"
        live_world.stub.release.set()
        wait_until_completed({order.pk})

    assert live_world.stub.handled == {str(order.pk): 1}
    assert [receipt.status for receipt in order.receipts.order_by("issued_at", "pk")] == [
        "accepted",
        "completed",
    ]
    assert DeliveryAttempt.objects.filter(order=order).count() == 1
