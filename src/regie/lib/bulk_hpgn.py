"""Bulk first-step hashing (PGN → HPgn, DESIGN §4.1) on every core: streamed, ordered, resumable.

The input has one PGN per line. The output gets exactly one line per input line, in input order:
the HPgn, or an empty line where the PGN is invalid. Only the line ending (``\\n`` or ``\\r\\n``) is
removed from an input line; nothing else is trimmed, because leading zeros are part of a PGN.

- **Every core.** The hashes run in worker processes (one per core by default), each holding one
  scrypt (about 128 MiB) at a time. Workers ignore SIGINT, so Ctrl-C reaches only the parent,
  and stop by themselves when the parent disappears (even after SIGKILL).
- **Bounded memory.** At most ``window`` lines are in flight (read but not yet written), however
  large the input: it is streamed, never read whole.
- **Resumable.** Every finished line is written at once, in order, and the output is fsynced at
  least every second, so an interruption (Ctrl-C, SIGKILL) loses only the lines in flight, and a
  power cut the last second besides. Running again continues after the last complete output line.
  Before it does, the existing output is checked against the input (an HPgn exactly where the PGN
  is valid) and its last HPgn is computed again, so that output from another input file or another
  salt is refused instead of silently continued.

No PGN or HPgn appears in any message or exception raised here. No Django: ``regie hash-pgns``
and ``benchmarks/hashing.py`` are thin wrappers around :class:`BulkHashing`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from regie.lib.hpgn import hpgn
from regie.lib.identifiers import InvalidIdentifier, check_pgn

HashFunction = Callable[[str, bytes], str]

# Lines in flight per worker: enough to keep every worker busy while the writer waits for the
# oldest line, small enough that an interruption throws away only a few seconds of work.
WINDOW_PER_WORKER = 4
FSYNC_INTERVAL_SECONDS = 1.0
PARENT_CHECK_SECONDS = 1.0

_HPGN_LINE = re.compile(rb"[0-9a-f]{64}\n")
_HPGN_PREFIX = re.compile(rb"[0-9a-f]{0,64}")


class OutputMismatch(Exception):
    """The existing output cannot be an earlier, partial run over this input with this salt."""


@dataclass(frozen=True)
class LineResult:
    """The outcome for one input line: its HPgn, or why it is not a valid PGN."""

    number: int
    hpgn: str | None = field(repr=False)
    reason: str | None


def default_workers() -> int:
    """The number of cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def invalid_reason(line: str) -> str | None:
    """Why ``line`` is not a PGN (a message without the value), or None when it is one."""
    try:
        check_pgn(line)
    except InvalidIdentifier as error:
        return str(error)
    return None


def decode_line(raw: bytes) -> str:
    """An input line without its line ending. Undecodable bytes fail the PGN check later."""
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw.decode("utf-8", errors="replace")


def count_lines(path: Path) -> int:
    """Lines in ``path``, counted in large chunks; a last line without a newline counts too."""
    count = 0
    last_chunk = b""
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            count += chunk.count(b"\n")
            last_chunk = chunk
    if last_chunk and not last_chunk.endswith(b"\n"):
        count += 1
    return count


def hash_lines(
    lines: Iterable[str],
    salt: bytes,
    executor: Executor,
    *,
    window: int,
    hash_function: HashFunction = hpgn,
    first_number: int = 1,
) -> Generator[LineResult, None, None]:
    """Hash ``lines`` on ``executor``, yielding results in input order.

    At most ``window`` lines are held at any time (valid ones as running or queued hashes,
    invalid ones as finished results waiting for their turn); the next line is read only when
    the oldest result has been taken. Closing the iterator cancels the queued hashes.
    """
    if window < 1:
        raise ValueError("the window must hold at least one line")
    pending: deque[tuple[int, str | None, Future[str] | None]] = deque()
    try:
        for number, line in enumerate(lines, start=first_number):
            reason = invalid_reason(line)
            future = None if reason is not None else executor.submit(hash_function, line, salt)
            pending.append((number, reason, future))
            if len(pending) >= window:
                yield _result(*pending.popleft())
        while pending:
            yield _result(*pending.popleft())
    finally:
        for _number, _reason, future in pending:
            if future is not None:
                future.cancel()


def _result(number: int, reason: str | None, future: Future[str] | None) -> LineResult:
    return LineResult(number, None if future is None else future.result(), reason)


def make_executor(workers: int) -> ProcessPoolExecutor:
    """Worker processes for hashing: fresh interpreters (spawn) that leave SIGINT to the parent."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(os.getpid(),),
    )


def _init_worker(parent_pid: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(
        target=_exit_with_parent, args=(parent_pid,), name="regie-parent-watch", daemon=True
    ).start()


def _exit_with_parent(parent_pid: int) -> None:
    """Without this, a worker whose parent was SIGKILLed would wait for work forever."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


class BulkHashing:
    """One run of hashing INPUT into OUTPUT, continuing OUTPUT where an earlier run stopped.

    Use as a context manager: :meth:`resume` reads what OUTPUT already holds (reporting the
    invalid lines in it), then :meth:`run` hashes the rest. ``lines_done`` tells at any moment,
    also after an exception, how many lines OUTPUT holds.
    """

    def __init__(
        self,
        input_path: Path,
        output_path: Path,
        salt: bytes,
        *,
        workers: int | None = None,
        window: int | None = None,
        hash_function: HashFunction = hpgn,
        executor: Executor | None = None,
    ) -> None:
        if output_path.exists() and input_path.exists() and input_path.samefile(output_path):
            raise OutputMismatch("INPUT and OUTPUT are the same file")
        self.input_path = input_path
        self.output_path = output_path
        self.workers = workers or default_workers()
        self.window = window or WINDOW_PER_WORKER * self.workers
        self.total_lines = count_lines(input_path)
        self.lines_done = 0
        self.resumed_lines = 0
        self.hashed = 0
        self.invalid = 0
        self._salt = salt
        self._hash_function = hash_function
        self._executor = executor
        self._output_size = 0
        self._to_verify: tuple[int, str, str] | None = None
        self._input: BinaryIO = input_path.open("rb")
        self._lines: Iterator[str] = map(decode_line, self._input)
        self._resumed = False

    def __enter__(self) -> BulkHashing:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._input.close()

    def resume(self, on_invalid: Callable[[int, str], None] | None = None) -> int:
        """Take over the complete lines OUTPUT holds already; return how many there are.

        Raises :class:`OutputMismatch`, leaving OUTPUT untouched, when it does not fit INPUT.
        """
        if self._resumed:
            raise RuntimeError("resume() runs once, before run()")
        self._resumed = True
        if not self.output_path.exists():
            return 0
        with self.output_path.open("rb") as existing:
            for raw in existing:
                if not raw.endswith(b"\n"):
                    if not _HPGN_PREFIX.fullmatch(raw):
                        raise OutputMismatch(
                            "the last line of OUTPUT is not (part of) an HPgn: is OUTPUT the right "
                            "file? Write to a new OUTPUT, or remove it to start over"
                        )
                    break
                self._take_over(raw, on_invalid)
        self.resumed_lines = self.lines_done
        return self.lines_done

    def _take_over(self, raw: bytes, on_invalid: Callable[[int, str], None] | None) -> None:
        number = self.lines_done + 1
        line = next(self._lines, None)
        if line is None:
            raise OutputMismatch(
                "OUTPUT has more lines than INPUT: it belongs to another input. Write to a new "
                "OUTPUT, or remove it to start over"
            )
        reason = invalid_reason(line)
        if reason is not None and raw == b"\n":
            self.invalid += 1
            if on_invalid is not None:
                on_invalid(number, reason)
        elif reason is None and _HPGN_LINE.fullmatch(raw):
            self._to_verify = (number, line, raw[:-1].decode("ascii"))
        else:
            raise OutputMismatch(
                f"line {number} of OUTPUT does not fit line {number} of INPUT (an HPgn must stand "
                "exactly where the PGN is valid): OUTPUT belongs to another input. Write to a new "
                "OUTPUT, or remove it to start over"
            )
        self.lines_done = number
        self._output_size += len(raw)

    def run(self, on_line: Callable[[int, str | None], None] | None = None) -> None:
        """Hash the lines after ``lines_done`` and append them to OUTPUT, in order.

        ``on_line(number, reason)`` is called after each line is written (``reason`` is None
        for a valid PGN). On any exception, including KeyboardInterrupt, what is written stays
        written and fsynced; ``lines_done`` says how far it got.
        """
        if not self._resumed:
            self.resume()
        executor = self._executor or make_executor(self.workers)
        try:
            verification = self._start_verification(executor)
            with self._open_output() as output:
                self._write_results(executor, output, verification, on_line)
        finally:
            if self._executor is None:
                executor.shutdown(wait=True, cancel_futures=True)

    def _start_verification(self, executor: Executor) -> _Verification | None:
        """Hash the last PGN OUTPUT has an HPgn for again, alongside the new work."""
        if self._to_verify is None:
            return None
        number, line, written = self._to_verify
        return _Verification(
            executor.submit(self._hash_function, line, self._salt), number, written
        )

    def _write_results(
        self,
        executor: Executor,
        output: BinaryIO,
        verification: _Verification | None,
        on_line: Callable[[int, str | None], None] | None,
    ) -> None:
        last_sync = time.monotonic()
        results = hash_lines(
            self._lines,
            self._salt,
            executor,
            window=self.window,
            hash_function=self._hash_function,
            first_number=self.lines_done + 1,
        )
        with contextlib.closing(results):
            for result in results:
                if verification is not None:
                    verification.check()
                    verification = None
                output.write(b"\n" if result.hpgn is None else result.hpgn.encode("ascii") + b"\n")
                output.flush()
                self.lines_done = result.number
                if result.hpgn is None:
                    self.invalid += 1
                else:
                    self.hashed += 1
                if time.monotonic() - last_sync >= FSYNC_INTERVAL_SECONDS:
                    os.fsync(output.fileno())
                    last_sync = time.monotonic()
                if on_line is not None:
                    on_line(result.number, result.reason)
        if verification is not None:
            verification.check()

    @contextlib.contextmanager
    def _open_output(self) -> Iterator[BinaryIO]:
        """OUTPUT (mode 0600) cut after its last complete line, positioned to append."""
        created = not self.output_path.exists()
        descriptor = os.open(self.output_path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(descriptor, 0o600)
            os.ftruncate(descriptor, self._output_size)
            os.lseek(descriptor, self._output_size, os.SEEK_SET)
            if created:
                _fsync_directory(self.output_path.parent)
        except BaseException:
            os.close(descriptor)
            raise
        with os.fdopen(descriptor, "wb") as output:
            try:
                yield output
            finally:
                output.flush()
                os.fsync(output.fileno())


@dataclass(frozen=True)
class _Verification:
    future: Future[str]
    number: int
    written: str = field(repr=False)

    def check(self) -> None:
        if self.future.result() != self.written:
            raise OutputMismatch(
                f"the HPgn on line {self.number} of OUTPUT was made with another salt or from "
                "another input. Write to a new OUTPUT, or remove it to start over"
            )


def _fsync_directory(directory: Path) -> None:
    """Make a new file's directory entry durable too (where the platform allows it)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
