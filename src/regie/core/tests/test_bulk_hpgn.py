"""Bulk first-step hashing: ``regie hash-pgns`` and the engine behind it (regie.lib.bulk_hpgn).

Real scrypt is expensive (1.5-2 s and 128 MiB per hash, parameters fixed by the chain), so only a
few tests use it; the engine's ordering, resuming and memory bound are tested with a cheap stand-in
hash on a thread pool.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from regie.conftest import make_bsn
from regie.lib.bulk_hpgn import BulkHashing, OutputMismatch, hash_lines
from regie.lib.hpgn import decode_salt, hpgn

SALT_B64 = "rktYml0MIp9TC9u6Ny6uqw=="
SALT = decode_salt(SALT_B64)
VECTOR_PGN = "063138219"
VECTOR_HPGN = "9735dfd2235eaeb5f0300886bcc99c82ffc1d6420c4e0bde8de7218def2135fa"
INVALID_LINES = {
    "12345678": "a PGN is exactly 9 digits (BSN or onderwijsnummer)",
    "abcdefghi": "a PGN is exactly 9 digits (BSN or onderwijsnummer)",
    "123456789": "fails the BSN 11-proef",
    "": "empty PGN",
}


class CountingHash:
    """A cheap stand-in for scrypt that remembers what it hashed (thread-safe)."""

    def __init__(self) -> None:
        self.hashed: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, pgn: str, salt: bytes) -> str:
        with self._lock:
            self.hashed.append(pgn)
        return hashlib.sha256(salt + pgn.encode()).hexdigest()


def write_lines(path: Path, lines: list[str], ending: str = "\n") -> Path:
    path.write_bytes("".join(line + ending for line in lines).encode())
    return path


def run_engine(
    input_path: Path, output_path: Path, hash_function: CountingHash, salt: bytes = SALT
) -> BulkHashing:
    with (
        ThreadPoolExecutor(max_workers=2) as executor,
        BulkHashing(
            input_path, output_path, salt, hash_function=hash_function, executor=executor
        ) as job,
    ):
        job.resume()
        job.run()
    return job


@pytest.fixture
def pgn_lines(rng: random.Random) -> list[str]:
    return [
        make_bsn(rng),
        "12345678",
        make_bsn(rng),
        make_bsn(rng),
        "",
        make_bsn(rng),
        "abcdefghi",
        make_bsn(rng),
    ]


def test_it_hashes_a_small_file_line_by_line(tmp_path: Path, rng: random.Random) -> None:
    bsn = make_bsn(rng)
    lines = [VECTOR_PGN, "12345678", "abcdefghi", "123456789", "", bsn]
    input_path = write_lines(tmp_path / "pgns.txt", lines)
    output_path = tmp_path / "hpgns.txt"
    stdout, stderr = StringIO(), StringIO()

    call_command(
        "hash_pgns",
        str(input_path),
        str(output_path),
        "--workers=2",
        f"--salt={SALT_B64}",
        stdout=stdout,
        stderr=stderr,
    )

    assert output_path.read_text().split("\n") == [
        VECTOR_HPGN,
        "",
        "",
        "",
        "",
        hpgn(bsn, SALT),
        "",  # after the final newline
    ]
    assert stderr.getvalue().splitlines() == [
        "line 2: a PGN is exactly 9 digits (BSN or onderwijsnummer)",
        "line 3: a PGN is exactly 9 digits (BSN or onderwijsnummer)",
        "line 4: fails the BSN 11-proef",
        "line 5: empty PGN",
    ]
    assert "2 hashed now" in stdout.getvalue()
    assert "4 invalid" in stdout.getvalue()
    for secret in (VECTOR_PGN, bsn, "12345678", "123456789", VECTOR_HPGN):
        assert secret not in stdout.getvalue() + stderr.getvalue()
    assert stat.S_IMODE(output_path.stat().st_mode) == 0o600


def test_it_exits_with_status_2_on_invalid_lines_when_strict(tmp_path: Path) -> None:
    input_path = write_lines(tmp_path / "pgns.txt", list(INVALID_LINES))
    output_path = tmp_path / "hpgns.txt"

    with pytest.raises(CommandError) as raised:
        call_command("hash_pgns", str(input_path), str(output_path), "--strict", stderr=StringIO())

    assert raised.value.returncode == 2
    assert output_path.read_text() == "\n" * len(INVALID_LINES)


def test_it_refuses_to_continue_an_output_that_is_not_its_own(tmp_path: Path) -> None:
    # INPUT and OUTPUT swapped by mistake: the PGN file must survive untouched.
    pgns = write_lines(tmp_path / "pgns.txt", [VECTOR_PGN, "123456789"])
    other = write_lines(tmp_path / "other.txt", [VECTOR_PGN, VECTOR_PGN, VECTOR_PGN])
    before = pgns.read_bytes()

    with pytest.raises(CommandError, match="Write to a new OUTPUT"):
        call_command("hash_pgns", str(other), str(pgns), stderr=StringIO())

    assert pgns.read_bytes() == before


def test_it_keeps_lines_in_input_order(tmp_path: Path, pgn_lines: list[str]) -> None:
    input_path = write_lines(tmp_path / "pgns.txt", pgn_lines)
    counter = CountingHash()

    run_engine(input_path, tmp_path / "hpgns.txt", counter)

    reference = CountingHash()
    expected = [
        reference(line, SALT) if line not in {"", "12345678", "abcdefghi"} else ""
        for line in pgn_lines
    ]
    assert (tmp_path / "hpgns.txt").read_text().splitlines() == expected
    assert sorted(counter.hashed) == sorted(reference.hashed)


def test_it_reads_crlf_line_endings_like_lf(tmp_path: Path, pgn_lines: list[str]) -> None:
    unix = write_lines(tmp_path / "unix.txt", pgn_lines)
    windows = write_lines(tmp_path / "windows.txt", pgn_lines, ending="\r\n")

    run_engine(unix, tmp_path / "unix.out", CountingHash())
    run_engine(windows, tmp_path / "windows.out", CountingHash())

    assert (tmp_path / "unix.out").read_bytes() == (tmp_path / "windows.out").read_bytes()


def test_it_resumes_after_the_last_complete_line_without_recomputing(
    tmp_path: Path, pgn_lines: list[str]
) -> None:
    input_path = write_lines(tmp_path / "pgns.txt", pgn_lines)
    run_engine(input_path, tmp_path / "full.txt", CountingHash())
    full = (tmp_path / "full.txt").read_bytes()
    # An interrupted run: two complete lines and part of the third.
    output_path = tmp_path / "hpgns.txt"
    first, second, third, *_rest = full.split(b"\n")
    output_path.write_bytes(first + b"\n" + second + b"\n" + third[:20])
    output_path.chmod(0o644)
    counter = CountingHash()

    job = run_engine(input_path, output_path, counter)

    assert job.resumed_lines == 2
    # The valid PGNs from line 3 on, and line 1 once more to check the salt: nothing else.
    assert sorted(counter.hashed) == sorted(
        [pgn_lines[0], *pgn_lines[2:4], pgn_lines[5], pgn_lines[7]]
    )
    assert output_path.read_bytes() == full
    assert stat.S_IMODE(output_path.stat().st_mode) == 0o600


def test_it_hashes_nothing_again_when_the_output_is_complete(
    tmp_path: Path, pgn_lines: list[str]
) -> None:
    input_path = write_lines(tmp_path / "pgns.txt", pgn_lines)
    output_path = tmp_path / "hpgns.txt"
    run_engine(input_path, output_path, CountingHash())
    before = output_path.read_bytes()
    counter = CountingHash()

    job = run_engine(input_path, output_path, counter)

    assert counter.hashed == [pgn_lines[7]]  # only the check of the last HPgn
    assert job.resumed_lines == len(pgn_lines)
    assert output_path.read_bytes() == before


def test_it_refuses_to_resume_with_another_salt(tmp_path: Path, pgn_lines: list[str]) -> None:
    input_path = write_lines(tmp_path / "pgns.txt", pgn_lines)
    output_path = tmp_path / "hpgns.txt"
    run_engine(input_path, output_path, CountingHash())
    output_path.write_bytes(b"\n".join(output_path.read_bytes().split(b"\n")[:4]) + b"\n")

    with pytest.raises(OutputMismatch, match="another salt"):
        run_engine(input_path, output_path, CountingHash(), salt=b"another salt")

    assert len(output_path.read_bytes().split(b"\n")) == 5


def test_it_refuses_an_output_longer_than_the_input(tmp_path: Path, pgn_lines: list[str]) -> None:
    input_path = write_lines(tmp_path / "pgns.txt", pgn_lines)
    output_path = tmp_path / "hpgns.txt"
    run_engine(input_path, output_path, CountingHash())
    shorter = write_lines(tmp_path / "shorter.txt", pgn_lines[:-1])

    with pytest.raises(OutputMismatch, match="more lines than INPUT"):
        run_engine(shorter, output_path, CountingHash())


def test_it_keeps_what_it_wrote_when_interrupted(tmp_path: Path, pgn_lines: list[str]) -> None:
    input_path = write_lines(tmp_path / "pgns.txt", pgn_lines)
    run_engine(input_path, tmp_path / "full.txt", CountingHash())
    output_path = tmp_path / "hpgns.txt"

    def interrupt_at_line_3(number: int, reason: str | None) -> None:
        if number == 3:
            raise KeyboardInterrupt

    with (
        ThreadPoolExecutor(max_workers=2) as executor,
        BulkHashing(
            input_path, output_path, SALT, hash_function=CountingHash(), executor=executor
        ) as job,
    ):
        with pytest.raises(KeyboardInterrupt):
            job.run(on_line=interrupt_at_line_3)
        assert job.lines_done == 3

    assert output_path.read_bytes().count(b"\n") == 3
    run_engine(input_path, output_path, CountingHash())
    assert output_path.read_bytes() == (tmp_path / "full.txt").read_bytes()


def test_it_holds_at_most_a_window_of_lines_in_flight(rng: random.Random) -> None:
    window = 8
    read = consumed = most_in_flight = 0

    def many_lines() -> Iterator[str]:
        nonlocal read, most_in_flight
        for number in range(10_000):
            read += 1
            # Lines read and not yet handed out, this one included.
            most_in_flight = max(most_in_flight, read - consumed)
            yield make_bsn(rng) if number % 7 else "not a PGN"

    with ThreadPoolExecutor(max_workers=4) as executor:
        for result in hash_lines(
            many_lines(), SALT, executor, window=window, hash_function=CountingHash()
        ):
            consumed += 1
            assert result.number == consumed

    assert consumed == 10_000
    assert most_in_flight == window


def _group_members(group: int) -> list[int]:
    """Live (not zombie) processes in a process group, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _terminal_signals() -> None:
    """In the child, before the command starts: Ctrl-C as at a terminal. A shell without job
    control starts background commands with SIGINT ignored, and an ignored signal stays ignored
    across exec; the command must meet the Ctrl-C a person at a terminal sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(input_path: Path, output_path: Path, workers: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "regie",
            "hash_pgns",
            str(input_path),
            str(output_path),
            f"--workers={workers}",
            f"--salt={SALT_B64}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_terminal_signals,
    )


def _eventually(condition: Callable[[], bool], patience: float) -> bool:
    """Poll ``condition`` until it holds or ``patience`` seconds passed (a hang guard, not a
    timing: the caller asserts on the state)."""
    deadline = time.monotonic() + patience
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def _wait_for_lines(process: subprocess.Popen[str], output_path: Path, lines: int) -> None:
    def written() -> bool:
        assert process.poll() is None, "the command ended before it could be interrupted"
        return output_path.exists() and output_path.read_bytes().count(b"\n") >= lines

    assert _eventually(written, 120), "no output appeared"


@pytest.mark.slow
def test_it_resumes_after_ctrl_c_and_sigkill(tmp_path: Path, rng: random.Random) -> None:
    bsn = make_bsn(rng)
    input_path = write_lines(tmp_path / "pgns.txt", [VECTOR_PGN, "12345678", VECTOR_PGN, bsn])
    output_path = tmp_path / "hpgns.txt"
    expected = f"{VECTOR_HPGN}\n\n{VECTOR_HPGN}\n{hpgn(bsn, SALT)}\n"
    started: list[subprocess.Popen[str]] = []
    try:
        # Ctrl-C (to the whole process group, as a terminal does) once line 1 is written.
        started.append(interrupted := _start(input_path, output_path, workers=1))
        _wait_for_lines(interrupted, output_path, 1)
        os.killpg(interrupted.pid, signal.SIGINT)
        _stdout, stderr = interrupted.communicate(timeout=60)
        assert interrupted.returncode == 130
        assert "run the same command again to resume" in stderr
        assert "Traceback" not in stderr
        assert VECTOR_PGN not in stderr
        assert VECTOR_HPGN not in stderr
        assert output_path.read_text().count("\n") < 4

        # SIGKILL of the command alone once it has written another line; its workers follow.
        lines_before = output_path.read_text().count("\n")
        started.append(killed := _start(input_path, output_path, workers=1))
        _wait_for_lines(killed, output_path, lines_before + 1)
        killed.kill()
        killed.communicate(timeout=60)
        assert output_path.read_text().count("\n") < 4
        assert _eventually(lambda: not _group_members(killed.pid), 60), (
            "workers outlived their killed parent"
        )

        finished = _start(input_path, output_path, workers=2)
        started.append(finished)
        stdout, stderr = finished.communicate(timeout=120)
        assert finished.returncode == 0, stderr
        assert output_path.read_text() == expected
        assert "from an earlier run" in stdout
    finally:
        for process in started:
            if _group_members(process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            if process.returncode is None:
                process.kill()
                process.communicate()
