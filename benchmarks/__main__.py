"""``python -m benchmarks`` (``make benchmarks``): run every benchmark, print and record figures.

Each module in ``MODULES`` exposes ``run() -> str``, returning a Markdown section. The sections go
to standard output and into ``docs/performance.md`` after a short description of the machine.
With ``--only NAME`` just that benchmark runs and only its section of the file is replaced.
Benchmarks print figures and ratios; they never fail on a timing.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import platform
import re
import ssl
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regie.lib.logging import configure_logging

MODULES = (
    "hashing",
    "derivation",
    "batch_http",
    "roster_import",
    "sso",
    "policy",
    "servers",
    "oneroster",
    "orders",
    "audit_log",
    "retention_run",
    "soak",
)
ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "performance.md"
_SECTION = re.compile(
    r"<!-- benchmark:(?P<name>\w+) -->\n(?P<body>.*?)<!-- /benchmark:(?P=name) -->\n", re.DOTALL
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def _commit() -> str:
    completed = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip() or "unknown"


def intro() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return "\n".join(
        [
            "# Performance",
            "",
            "Written by `make benchmarks` (`python -m benchmarks`); regenerate rather than edit. "
            "These are figures, not pass/fail: each ratio is measured against a reference in the "
            "same run on the same machine, so it says more than the absolute rates, which move "
            "with the machine and whatever else runs on it.",
            "",
            "| machine | |",
            "|---|---|",
            f"| CPU | {_cpu_model()}, {os.cpu_count()} cores |",
            f"| memory | {_memory_gib()} |",
            f"| Python | {platform.python_implementation()} {platform.python_version()} |",
            f"| OpenSSL (Python's) | {ssl.OPENSSL_VERSION} |",
            f"| date | {datetime.now(UTC):%Y-%m-%d %H:%M} UTC |",
            f"| commit | {_commit()} |",
            f"| load average at start | {load} |",
            "",
        ]
    )


def _marked(name: str, section: str) -> str:
    return f"<!-- benchmark:{name} -->\n{section.rstrip()}\n\n<!-- /benchmark:{name} -->\n"


def write(sections: dict[str, str], path: Path) -> None:
    """Write the file; sections not run this time are kept from the existing file."""
    kept: dict[str, str] = {}
    if path.exists():
        kept = {match["name"]: match["body"] for match in _SECTION.finditer(path.read_text())}
    parts = [intro()]
    for name in MODULES:
        if name in sections:
            parts.append(_marked(name, sections[name]))
        elif name in kept:
            parts.append(f"<!-- benchmark:{name} -->\n{kept[name]}<!-- /benchmark:{name} -->\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")


def run_one(name: str, options: dict[str, Any]) -> tuple[str, bool]:
    """The section of one benchmark and whether it ran without an error."""
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"benchmarks.{name}":
            raise
        return f"## {name}\n\n*Not run: `benchmarks/{name}.py` does not exist yet.*\n", True
    accepted = inspect.signature(module.run).parameters
    arguments = {
        key: value for key, value in options.items() if key in accepted and value is not None
    }
    started = time.monotonic()
    try:
        section: str = module.run(**arguments)
    except Exception:
        traceback.print_exc()
        return (
            f"## {name}\n\n*Failed: see the output of `python -m benchmarks --only {name}`.*\n",
            False,
        )
    print(f"  ({name} took {time.monotonic() - started:.0f} s)", flush=True)
    return section, True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--only", choices=MODULES, action="append", help="Run just this benchmark (repeatable)."
    )
    parser.add_argument("--items", type=int, help="batch_http: items to send (default 2 500 000).")
    parser.add_argument(
        "--workers", type=int, help="batch_http: `regie worker` processes (default 2)."
    )
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, help="Where to write (default docs/performance.md)."
    )
    parser.add_argument("--servers", type=int, help="batch_http: `regie serve` processes.")
    parser.add_argument("--no-write", action="store_true", help="Print the figures only.")
    arguments = parser.parse_args(argv)
    configure_logging(level="WARNING")
    options = {"items": arguments.items, "workers": arguments.workers, "servers": arguments.servers}
    sections: dict[str, str] = {}
    all_ran = True
    for name in arguments.only or MODULES:
        print(f"== {name} ==", flush=True)
        section, ran = run_one(name, options)
        all_ran = all_ran and ran
        sections[name] = section
        print(section, flush=True)
    if not arguments.no_write:
        write(sections, arguments.output)
        print(f"wrote {arguments.output}")
    return 0 if all_ran else 1


if __name__ == "__main__":
    sys.exit(main())
