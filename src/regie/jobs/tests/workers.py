"""Real ``regie worker`` processes for the queue's tests, and waiting for what they do."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

from regie.conftest import regie_command, subprocess_env
from regie.jobs.models import ProbeRun

# Every wait in these tests ends in a minute at most: a worker that does not do its part fails
# the test instead of hanging it.
PATIENCE = 60.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited in vain for {what}")
        time.sleep(0.05)


def start_worker(name: str, keys: Path, tmp_path: Path, **env: str) -> subprocess.Popen[bytes]:
    """A ``regie worker --role hub`` process named ``name``, once it has started its loops (a
    SIGTERM before would kill it outright); its output goes to ``tmp_path/name.log``."""
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            regie_command("worker", "--role", "hub", "--id", name),
            env=subprocess_env(keys, **env),
            stdout=log,
            stderr=log,
        )

    def started() -> bool:
        assert process.poll() is None, log_path.read_text()
        return "jobs.worker.started" in log_path.read_text()

    wait_until(started, f"{name} to start")
    return process


def stop_worker(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Stop a worker as an operator does (SIGTERM); it must end cleanly."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=PATIENCE) == 0, log_path.read_text()


@contextmanager
def workers(
    count: int, keys: Path, tmp_path: Path, **env: str
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` real workers, stopped with SIGTERM at the end, each of which must end cleanly."""
    names = [f"test-worker-{number}" for number in range(count)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in names:
            processes.append(start_worker(name, keys, tmp_path, **env))
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=PATIENCE) for process in processes]
        logs = [(tmp_path / f"{name}.log").read_text() for name in names]
        assert codes == [0] * len(processes), logs


def wait_for_runs(probes: set[int]) -> None:
    """Wait until every probe in ``probes`` ran at least once."""

    def ran() -> bool:
        done = set(ProbeRun.objects.filter(probe__in=probes).values_list("probe", flat=True))
        return done == probes

    wait_until(ran, f"{len(probes)} probes to run")


def terminate_other_connections() -> int:
    """Cut every other connection to the test database, as a database restart does (PostgreSQL's
    ``pg_terminate_backend``); how many. SQLite has no connections to cut: none."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
