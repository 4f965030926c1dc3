"""``regie hash-pgns``: the first-step hash (PGN → HPgn, DESIGN §4.1) of a file, on every core.

A thin wrapper over :mod:`regie.lib.bulk_hpgn`: arguments, progress bar, messages, exit status.
Messages name line numbers and reasons only, never a PGN or an HPgn.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
)
from tqdm import tqdm

from regie.lib.bulk_hpgn import BulkHashing, OutputMismatch, default_workers
from regie.lib.hpgn import InvalidSalt, decode_salt

EXIT_INVALID_LINES = 2
EXIT_INTERRUPTED = 130


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keep the paragraphs of the description as written."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class Command(BaseCommand):
    help = """\
Hash a file of PGNs (BSN or onderwijsnummer, one per line) to HPgns, on every core.

OUTPUT gets exactly one line per INPUT line, in the same order: the HPgn (64 hex
characters), or an empty line where the PGN is invalid. Only the line ending is
removed from an input line (leading zeros are part of a PGN). Invalid lines are
reported on stderr by line number and reason, never by value. OUTPUT is created
with mode 0600: HPgns are personal data.

Each worker needs about 130 MiB of memory and one hash takes 1.5-2 s of CPU.
Interrupt at any time (Ctrl-C): run the same command again and it resumes after
the last complete line of OUTPUT, after checking that OUTPUT fits INPUT and salt.

Exit status: 0 when OUTPUT is complete, also when some lines were invalid (the
summary counts them); 2 with --strict when any line was invalid (OUTPUT is still
complete); 1 on an error (e.g. OUTPUT belongs to another input or salt); 130 when
interrupted."""

    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", type=Path, help="File with one PGN per line.")
        parser.add_argument(
            "output", type=Path, help="File for the HPgns; continued when it exists already."
        )
        parser.add_argument(
            "--workers",
            type=_positive_int,
            default=None,
            help=f"Worker processes (default: one per core, {default_workers()} here).",
        )
        parser.add_argument("--salt", default=None, help="Base64 salt (default: REGIE_HPGN_SALT).")
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Show the progress bar even when stderr is not a terminal.",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help=f"Exit with status {EXIT_INVALID_LINES} when any line is invalid.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            salt = decode_salt(options["salt"] or settings.HPGN_SALT)
        except InvalidSalt as error:
            raise CommandError(str(error)) from None
        # SIGTERM stops as cleanly as Ctrl-C (signal handlers can only be set in the main thread).
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = (
            signal.signal(signal.SIGTERM, signal.default_int_handler) if in_main_thread else None
        )
        try:
            job = self._hash(options, salt)
        finally:
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"OUTPUT complete: {job.total_lines} lines, {job.hashed} hashed now, "
                f"{job.resumed_lines} from an earlier run, {job.invalid} invalid (left empty)."
            )
        if options["strict"] and job.invalid:
            raise CommandError(
                f"{job.invalid} invalid lines (--strict)", returncode=EXIT_INVALID_LINES
            )

    def _hash(self, options: dict[str, Any], salt: bytes) -> BulkHashing:
        job: BulkHashing | None = None
        try:
            job = BulkHashing(options["input"], options["output"], salt, workers=options["workers"])
            with job:
                job.resume(on_invalid=self._report_invalid)
                self._run(job, show_progress=options["progress"] or sys.stderr.isatty())
        except OutputMismatch as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            where = "before hashing started" if job is None else self._how_far(job)
            raise CommandError(f"interrupted {where}", returncode=EXIT_INTERRUPTED) from None
        return job

    @staticmethod
    def _how_far(job: BulkHashing) -> str:
        return (
            f"with {job.output_path} complete up to line {job.lines_done} of {job.total_lines}; "
            "run the same command again to resume."
        )

    def _run(self, job: BulkHashing, *, show_progress: bool) -> None:
        with tqdm(
            total=job.total_lines,
            initial=job.lines_done,
            unit="PGN",
            desc="hashing",
            file=sys.stderr,
            disable=not show_progress,
            dynamic_ncols=True,
            smoothing=0.05,
        ) as progress:

            def on_line(number: int, reason: str | None) -> None:
                if reason is not None:
                    with tqdm.external_write_mode(file=sys.stderr):
                        self._report_invalid(number, reason)
                progress.update(1)

            try:
                job.run(on_line=on_line)
            except (OutputMismatch, OSError):
                raise
            except Exception as error:
                # A worker died (killed, out of memory?) or failed: say how far OUTPUT got.
                raise CommandError(
                    f"hashing stopped ({type(error).__name__}) {self._how_far(job)} Give it "
                    "fewer --workers if memory ran out."
                ) from error

    def _report_invalid(self, number: int, reason: str) -> None:
        self.stderr.write(f"line {number}: {reason}")
