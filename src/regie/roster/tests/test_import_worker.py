"""Applying an import in a real ``regie worker`` process, and a worker killed mid-apply: the job
runs again and the import ends correct and complete, nothing duplicated. On whichever engine the
test database selects (the embedded runner on SQLite, procrastinate on PostgreSQL)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from regie.conftest import regie_command, subprocess_env, wait_for_session_to_end
from regie.core.models import Board
from regie.roster import services
from regie.roster.demo_board import generate_demo_board
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.plan import RemovalConsent
from regie.roster.importing.records import StaffRole
from regie.roster.models import Guardian, ImportRun, ImportStatus, Student
from regie.roster.tests.exports import make_board, make_staff
from regie.roster.tests.test_import_faults import counts

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@contextmanager
def worker(env: dict[str, str], log: Path, *, stop: bool = True) -> Iterator[subprocess.Popen[str]]:
    """A real ``regie worker --role hub``; stopped with SIGTERM at the end (unless killed)."""
    with log.open("w") as out:
        process = subprocess.Popen(
            regie_command("worker", "--role", "hub"), env=env, stdout=out, stderr=out, text=True
        )
    try:
        wait_for(lambda: "jobs.worker.started" in log.read_text(), process, log)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
        if stop:
            assert code == 0, log.read_text()


def wait_for(condition: object, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 300
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        assert process.poll() is None, log.read_text()[-3000:]
        time.sleep(0.05)


def status(run: ImportRun) -> str:
    run.refresh_from_db()
    return run.status


# The queue hands a killed worker's job out again by itself: the embedded runner once the job's
# lease (given by the worker that took it) ran out; procrastinate once the worker sent no heartbeat
# for a few seconds and ``jobs.retry_stalled`` (every second here) found the job stalled.
DOOMED_APPLICATION = "regie-test-doomed-import-worker"
FAST_RECOVERY = {
    "REGIE_JOBS_LEASE_SECONDS": "3",
    "REGIE_JOBS_STALLED_SECONDS": "3",
    "REGIE_JOBS_SCHEDULE": "regie.jobs.tests.schedule.RETRY_STALLED",
}


def queue(board: Board, path: Path) -> ImportRun:
    user, _ = make_staff(board, None, StaffRole.BOARD_ADMIN)
    run = services.upload(path, path.name, board, user=user)
    assert run.status == ImportStatus.PREVIEWED
    services.request_apply(run, user=user, consent=RemovalConsent())
    assert run.status == ImportStatus.QUEUED
    return run


def test_a_worker_killed_while_applying_leaves_nothing_and_the_job_runs_again_to_the_end(
    keys_dir: Path, tmp_path: Path
) -> None:
    demo = generate_demo_board(seed=7, pupils=20_000, pgn_pupils=0)
    board = make_board(demo.bestuursnummer, demo.name)
    export_file = tmp_path / "export.zip"
    write_oneroster(demo.export, export_file)
    env = subprocess_env(keys_dir, REGIE_IMPORT_DIR=str(settings.IMPORT_DIR))
    doomed_env = env | FAST_RECOVERY | {"PGAPPNAME": DOOMED_APPLICATION}
    run = queue(board, export_file)
    before = counts()  # the board admin who applies it

    doomed_log = tmp_path / "doomed.log"
    with worker(doomed_env, doomed_log, stop=False) as doomed:
        # One school written, the next not yet: inside the one transaction of the apply.
        wait_for(
            lambda: "roster.import.school_applied" in doomed_log.read_text(), doomed, doomed_log
        )
        doomed.send_signal(signal.SIGKILL)
        assert doomed.wait(60) == -signal.SIGKILL
    assert "roster.import.applied" not in doomed_log.read_text()
    wait_for_session_to_end(DOOMED_APPLICATION)
    assert counts() == before
    assert status(run) == ImportStatus.APPLYING  # as the killed worker left it

    log = tmp_path / "worker.log"
    # Its own lease long (the apply outlasts 3 s), it finds the killed worker's job stalled.
    with worker(env | FAST_RECOVERY | {"REGIE_JOBS_LEASE_SECONDS": "600"}, log) as again:
        wait_for(lambda: status(run) == ImportStatus.APPLIED, again, log)
    assert Student.objects.count() == len(demo.export.students)
    assert Student.objects.values("las_key", "school").distinct().count() == Student.objects.count()
    assert Guardian.objects.count() >= len(demo.export.guardians)
    assert run.plan["schools"]  # the summary of what changed, for the run's page
    assert not (Path(settings.IMPORT_DIR) / f"{run.pk}.upload").exists()
