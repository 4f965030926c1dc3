""".ci/run leaves other runs alone: a run holds its cluster directory (REGIE_CI_PG_DIR) for as
long as it lasts, and never stops or removes a cluster another run holds.

The script runs for real (``bash .ci/run postgres``: the PostgreSQL step only, then it waits);
only PostgreSQL's programs are stand-ins (REGIE_CI_PG_BIN) that write down what they were asked
to do, so the test needs no PostgreSQL of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from regie.conftest import free_port

SCRIPT = Path(settings.BASE_DIR) / ".ci" / "run"
BASH = shutil.which("bash") or "/bin/bash"

# Stand-ins for initdb, pg_ctl, pg_isready and psql: each appends what it did to $FAKE_PG_LOG.
FAKE_INITDB = """#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = -D ] && dir="$2"; shift; done
mkdir -p "$dir" && echo "initdb $dir" >>"$FAKE_PG_LOG"
"""
FAKE_PG_CTL = """#!/bin/sh
[ "$1" = --version ] && { echo "pg_ctl (fake) 15"; exit 0; }
for arg in "$@"; do
  case "$last" in -D) dir="$arg";; esac
  case "$arg" in start|stop) action="$arg";; esac
  last="$arg"
done
if [ "$action" = start ]; then touch "$dir/postmaster.pid"; else rm -f "$dir/postmaster.pid"; fi
echo "$action $dir" >>"$FAKE_PG_LOG"
"""


@pytest.fixture
def place() -> Iterator[Path]:
    """A directory the postgres user can reach too (the script runs PostgreSQL as postgres when
    it runs as root), with the stand-ins in bin/."""
    base = Path(tempfile.mkdtemp(prefix="regie-ci-test-"))
    try:
        base.chmod(0o777)
        bin_dir = base / "bin"
        bin_dir.mkdir()
        for name, text in {
            "initdb": FAKE_INITDB,
            "pg_ctl": FAKE_PG_CTL,
            "pg_isready": "#!/bin/sh\nexit 0\n",
            "psql": "#!/bin/sh\nexit 0\n",
        }.items():
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        log = base / "pg.log"
        log.touch()
        log.chmod(0o666)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def ci_env(place: Path, directory: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("REGIE_CI_")}
    env.update(
        REGIE_CI_PG_BIN=str(place / "bin"),
        REGIE_CI_PG_DIR=str(directory),
        REGIE_CI_PG_PORT=str(port),
        FAKE_PG_LOG=str(place / "pg.log"),
    )
    return env


def start(place: Path, directory: Path, port: int) -> subprocess.Popen[str]:
    """A run that holds its cluster until it is stopped."""
    run = subprocess.Popen(
        [BASH, str(SCRIPT), "postgres"],
        env=ci_env(place, directory, port),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert run.stdout is not None
    seen = []
    for line in run.stdout:
        seen.append(line)
        if line.startswith("DATABASE_URL="):
            return run
    run.wait(30)
    raise AssertionError("the run did not start its cluster:\n" + "".join(seen))


def stop(run: subprocess.Popen[str], how: signal.Signals = signal.SIGTERM) -> None:
    if how == signal.SIGKILL:
        os.killpg(run.pid, how)  # the run and what it started, as when a machine kills a job
    else:
        run.send_signal(how)
    run.communicate(timeout=30)


def refused(place: Path, directory: Path, port: int) -> str:
    """A run that must stop at once; its output."""
    result = subprocess.run(
        [BASH, str(SCRIPT), "postgres"],
        env=ci_env(place, directory, port),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0, result.stdout
    return result.stderr


def did(place: Path) -> list[str]:
    return (place / "pg.log").read_text().splitlines()


def test_a_second_run_on_the_same_directory_stops_at_once_and_leaves_the_first_alone(
    place: Path,
) -> None:
    cluster = place / "cluster"
    first = start(place, cluster, free_port())
    try:
        message = refused(place, cluster, free_port())
        assert f"another CI run is using {cluster}" in message
        assert "REGIE_CI_PG_DIR=" in message
        assert "REGIE_CI_PG_PORT=" in message
        assert did(place) == [f"initdb {cluster}/data", f"start {cluster}/data"]
        assert (cluster / "data" / "postmaster.pid").exists()
    finally:
        stop(first)
    assert did(place)[-1] == f"stop {cluster}/data"  # the first stops its own, at its end


def test_runs_with_their_own_directory_and_port_run_side_by_side(place: Path) -> None:
    one, two = place / "one", place / "two"
    first = start(place, one, free_port())
    try:
        second = start(place, two, free_port())
        stop(second)
        assert (one / "data" / "postmaster.pid").exists()
        assert f"stop {one}/data" not in did(place)
    finally:
        stop(first)
    assert did(place).count(f"stop {two}/data") == 1


def test_a_run_after_a_killed_one_takes_its_cluster_over(place: Path) -> None:
    cluster = place / "cluster"
    port = free_port()
    stop(start(place, cluster, port), signal.SIGKILL)  # no time to stop its cluster
    assert (cluster / "data" / "postmaster.pid").exists()
    again = start(place, cluster, port)
    stop(again)
    assert did(place) == [
        f"initdb {cluster}/data",
        f"start {cluster}/data",
        f"stop {cluster}/data",  # the cluster the killed run left
        f"initdb {cluster}/data",
        f"start {cluster}/data",
        f"stop {cluster}/data",
    ]


def test_a_taken_port_is_named_and_nothing_is_stopped(place: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        message = refused(place, place / "cluster", port)
    assert f"port {port} is taken" in message
    assert "REGIE_CI_PG_PORT" in message
    assert did(place) == []


def test_it_refuses_a_directory_it_did_not_make(place: Path) -> None:
    mine = place / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    message = refused(place, mine, free_port())
    assert f"{mine} is not a cluster directory of regie's CI" in message
    assert (mine / "notes.txt").read_text() == "keep me"
    assert did(place) == []
