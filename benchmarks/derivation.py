"""Derivations per core through the library ÷ OpenSSL's HMAC-SHA-512 at the same message size.

Each derivation of the pseudonym chain (``regie.nummervoorziening.derivation.Deriver``) is one
HMAC-SHA-512 plus parsing and rendering; the reference is what C does for that one HMAC alone:
``openssl speed -hmac sha512 -bytes L`` with L the derivation's exact message length, measured in
the same run. Library and reference are measured in alternating rounds (best of each), so a busy
machine slows both alike. Single thread; keys freshly generated in a temporary directory.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regie.nummervoorziening.derivation import Deriver
from regie.nummervoorziening.keys import generate_keyring, load_keyring
from regie.nummervoorziening.registry import BUILT_IN, load_registry

BASE = "https://nummervoorziening.regie.example"
SUPPLIER = "12345678"  # a KvK number (fictional)
AIM = 0.25
ROUNDS = 5
SECONDS = 1.0
INPUTS = 50_000
_SEPARATOR = b"\x00"


@dataclass
class Operation:
    name: str
    derive: Callable[[Any], str]
    inputs: Sequence[Any]
    message_length: int  # bytes HMAC-SHA-512 processes for one derivation
    library_rate: float = 0.0
    reference_rate: float = 0.0

    @property
    def ratio(self) -> float:
        return self.library_rate / self.reference_rate if self.reference_rate else 0.0


def _operations(deriver: Deriver, rng: random.Random) -> list[Operation]:
    registry = load_registry(BUILT_IN)
    chain = next(iter(registry.chains.values())).id
    po = next(sector for sector in registry.sectors.values() if sector.code == "PO").id
    anchors = [rng.randbytes(32) for _ in range(INPUTS)]
    stampseudonyms = [deriver.stampseudonym(anchor) for anchor in anchors]
    eck_ids = [deriver.eck_id(value, chain, po) for value in stampseudonyms]
    eck_context = len(chain.encode()) + len(po.encode()) + 2 * len(_SEPARATOR)
    supplier_context = len(SUPPLIER.encode()) + len(po.encode()) + 2 * len(_SEPARATOR)
    return [
        Operation("stampseudonym ← anchor", deriver.stampseudonym, anchors, 32),
        Operation(
            "ECK iD ← stampseudonym",
            lambda value: deriver.eck_id(value, chain, po),
            stampseudonyms,
            eck_context + 64,
        ),
        Operation(
            "supplier pseudonym ← ECK iD",
            lambda value: deriver.supplier_pseudonym(value, SUPPLIER, po),
            eck_ids,
            supplier_context + 64,
        ),
    ]


def measure_library(operation: Operation, seconds: float) -> float:
    """Derivations per second, single thread, over at least ``seconds``."""
    derive, inputs = operation.derive, operation.inputs
    done = 0
    started = time.perf_counter()
    while True:
        for value in inputs:
            derive(value)
        done += len(inputs)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


_SPEED_LINE = re.compile(r"^hmac\(sha512\)\s+(.*)$", re.MULTILINE)


def _speed_table(output: str) -> tuple[list[int], list[float]]:
    header = re.search(r"^type\s+(.*)$", output, re.MULTILINE)
    line = _SPEED_LINE.search(output)
    if header is None or line is None:
        raise RuntimeError("cannot read the output of `openssl speed`")
    sizes = [int(size) for size in re.findall(r"(\d+) bytes", header.group(1))]
    rates = [float(value) * 1000 for value in re.findall(r"([\d.]+)k", line.group(1))]
    return sizes, rates


def measure_openssl(message_length: int, seconds: float) -> float:
    """HMAC-SHA-512 operations per second in C (OpenSSL) on messages of ``message_length`` bytes.

    Uses ``-bytes`` for the exact length; an ``openssl`` without it gives its standard sizes and
    the one closest to the message length is taken.
    """
    whole_seconds = str(max(1, round(seconds)))
    command = ["openssl", "speed", "-seconds", whole_seconds, "-bytes", str(message_length)]
    completed = subprocess.run(
        [*command, "-hmac", "sha512"], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        completed = subprocess.run(
            ["openssl", "speed", "-seconds", whole_seconds, "-hmac", "sha512"],
            capture_output=True,
            text=True,
            check=True,
        )
    sizes, byte_rates = _speed_table(completed.stdout)
    closest = min(range(len(sizes)), key=lambda position: abs(sizes[position] - message_length))
    return byte_rates[closest] / sizes[closest]


def profile(operation: Operation, count: int = 20_000) -> str:
    """The functions one operation spends its own time in (cProfile), as Markdown table rows."""
    profiler = cProfile.Profile()
    inputs = list(operation.inputs[:count])
    derive = operation.derive
    profiler.enable()
    for value in inputs:
        derive(value)
    profiler.disable()
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in stats.values()) or 1.0
    rows = ["| function | calls | own time |", "|---|--:|--:|"]
    ranked = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)
    for (filename, line, function), entry in ranked[:8]:
        where = f"{Path(filename).name}:{line} {function}" if line else function
        rows.append(f"| `{where}` | {entry[1]} | {100 * entry[2] / total:.0f} % |")
    return "\n".join(rows)


def _fmt(rate: float) -> str:
    return f"{rate:,.0f}".replace(",", " ")


def run() -> str:
    openssl_version = " ".join(
        subprocess.run(
            ["openssl", "version"], capture_output=True, text=True, check=False
        ).stdout.split()[:2]
    )
    with tempfile.TemporaryDirectory(prefix="regie-bench-keys-") as temporary:
        keys = Path(temporary) / "keys"
        generate_keyring(keys)
        deriver = Deriver(load_keyring(keys), BASE)
    operations = _operations(deriver, random.Random(20261122))
    for round_number in range(1, ROUNDS + 1):
        for operation in operations:
            library = measure_library(operation, SECONDS)
            reference = measure_openssl(operation.message_length, SECONDS)
            operation.library_rate = max(operation.library_rate, library)
            operation.reference_rate = max(operation.reference_rate, reference)
            print(
                f"  round {round_number}: {operation.name}: library {_fmt(library)}/s, "
                f"OpenSSL HMAC-SHA-512 ({operation.message_length} B) {_fmt(reference)}/s",
                flush=True,
            )
    # One pupil through the whole chain: the three derivations in sequence.
    chain_library = 1 / sum(1 / operation.library_rate for operation in operations)
    chain_reference = 1 / sum(1 / operation.reference_rate for operation in operations)
    chain_ratio = chain_library / chain_reference
    lowest = min(operations, key=lambda operation: operation.ratio)

    lines = [
        "## Derivations per core (library ÷ C HMAC-SHA-512)",
        "",
        "Each derivation is one HMAC-SHA-512 plus parsing the input value and rendering the "
        "output URI. Reference: `openssl speed -hmac sha512 -bytes L` for that HMAC alone, at "
        "the derivation's exact message length L, single thread, measured in the same run "
        f"({openssl_version or 'openssl'}). Best of {ROUNDS} alternating rounds of about "
        f"{SECONDS:g} s each. Aim: ratio ≥ {AIM}.",
        "",
        "| derivation | message | library (per core) | C HMAC-SHA-512 | ratio |",
        "|---|--:|--:|--:|--:|",
    ]
    for operation in operations:
        lines.append(
            f"| {operation.name} | {operation.message_length} B | "
            f"{_fmt(operation.library_rate)}/s | {_fmt(operation.reference_rate)}/s | "
            f"**{operation.ratio:.2f}** |"
        )
    lines.append(
        f"| all three in sequence (one pupil) | | {_fmt(chain_library)}/s | "
        f"{_fmt(chain_reference)}/s | **{chain_ratio:.2f}** |"
    )
    lines.append("")
    if lowest.ratio < AIM:
        lines += [
            f"Below the aim: the slowest relative to C is *{lowest.name}*; where its time goes "
            "(cProfile, share of own time; profiling inflates the Python-level share):",
            "",
            profile(lowest),
            "",
        ]
    else:
        lines += [f"Every derivation is at or above the aim of {AIM}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(run() + os.linesep)
