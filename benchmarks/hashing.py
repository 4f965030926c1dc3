"""Bulk first-step hashing (PGN → HPgn): one core's scrypt rate against the engine on all cores.

Measures (1) ``hashlib.scrypt`` with the chain's parameters in this process, a few hashes;
(2) the engine behind ``regie hash-pgns`` (regie.lib.bulk_hpgn) on a file of fictional BSNs, one
worker per core, sized to take about half a minute, worker start-up included; (3) the peak RSS
of each worker. The efficiency bulk ÷ (single × cores) should be 0.9 or more.

Standalone: ``python -m benchmarks.hashing``; ``python -m benchmarks`` runs it with the others.
Timings are printed, never asserted.
"""

from __future__ import annotations

import hashlib
import os
import platform
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from regie.lib.bulk_hpgn import BulkHashing, default_workers, make_executor
from regie.lib.hpgn import (
    SCRYPT_DKLEN,
    SCRYPT_MAXMEM,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    decode_salt,
)

SALT = decode_salt("rktYml0MIp9TC9u6Ny6uqw==")  # the old public test salt of the chain
SINGLE_HASHES = 3
BULK_TARGET_SECONDS = 25.0
MIB = 1024 * 1024


def _fictional_bsn(rng: random.Random) -> str:
    """A made-up number passing the BSN 11-proef (``regie.conftest.make_bsn`` without Django)."""
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        check = sum(digit * weight for digit, weight in zip(digits, range(9, 1, -1), strict=True))
        if check % 11 < 10 and (digits[0] or digits[1]):
            return "".join(map(str, digits)) + str(check % 11)


@dataclass(frozen=True)
class Timing:
    """Hashes over wall time and over the CPU time they used (all processes together)."""

    hashes: int
    wall_seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.hashes / self.wall_seconds

    @property
    def cpu_per_hash(self) -> float:
        return self.cpu_seconds / self.hashes


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _single() -> Timing:
    """``hashlib.scrypt`` with the chain's parameters, in this process."""
    rng = random.Random(1)
    passwords = [_fictional_bsn(rng).encode() for _ in range(SINGLE_HASHES)]
    started, cpu_started = time.perf_counter(), time.process_time()
    for password in passwords:
        hashlib.scrypt(
            password,
            salt=SALT,
            n=SCRYPT_N,
            r=SCRYPT_R,
            p=SCRYPT_P,
            dklen=SCRYPT_DKLEN,
            maxmem=SCRYPT_MAXMEM,
        )
    return Timing(SINGLE_HASHES, time.perf_counter() - started, time.process_time() - cpu_started)


def _own_peak_rss() -> tuple[int, int]:
    """(pid, peak RSS in bytes) of the worker process this runs in."""
    time.sleep(0.5)  # hold this worker so that the next probe lands on another one
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return os.getpid(), peak if sys.platform == "darwin" else peak * 1024


def _bulk(count: int, workers: int) -> tuple[Timing, list[int]]:
    """``count`` fictional BSNs through the engine, and the peak RSS of each worker.

    CPU time is this process's plus that of the workers, read when they have ended.
    """
    rng = random.Random(2)
    with tempfile.TemporaryDirectory(prefix="regie-bench-") as directory:
        input_path = Path(directory) / "pgns.txt"
        input_path.write_text("".join(_fictional_bsn(rng) + "\n" for _ in range(count)))
        children_cpu, own_cpu = _children_cpu(), time.process_time()
        executor = make_executor(workers)
        try:
            with BulkHashing(
                input_path, Path(directory) / "hpgns.txt", SALT, executor=executor
            ) as job:
                started = time.perf_counter()
                job.run()
                elapsed = time.perf_counter() - started
            probes = [executor.submit(_own_peak_rss) for _ in range(workers)]
            peaks = dict(probe.result() for probe in probes)
        finally:
            executor.shutdown()
        own_cpu = time.process_time() - own_cpu
        workers_cpu = _children_cpu() - children_cpu
    return Timing(count, elapsed, own_cpu + workers_cpu), list(peaks.values())


def _machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return model


def run() -> str:
    cores = default_workers()
    machine = _machine()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"bulk hashing: {cores} cores ({machine}), load average {load:.2f}")

    single = _single()
    print(
        f"  single process: {single.rate:.3f} hashes/s "
        f"({1 / single.rate:.2f} s wall, {single.cpu_per_hash:.2f} s CPU per hash)"
    )
    rounds = max(1, round(BULK_TARGET_SECONDS * single.rate))
    count = rounds * cores  # whole rounds, so that no core idles at the end
    bulk, peaks = _bulk(count, cores)
    efficiency = bulk.rate / (single.rate * cores)
    cpu_ratio = single.cpu_per_hash / bulk.cpu_per_hash
    cpu_share = bulk.cpu_seconds / (bulk.wall_seconds * cores)
    peak_max, peak_mean = max(peaks) / MIB, sum(peaks) / len(peaks) / MIB
    print(
        f"  bulk, {cores} workers: {count} PGNs in {bulk.wall_seconds:.1f} s = "
        f"{bulk.rate:.3f} PGNs/s ({bulk.cpu_per_hash:.2f} s CPU per hash)"
    )
    print(f"  efficiency bulk ÷ (single × {cores}): {efficiency:.2f} (aim: ≥ 0.90)")
    print(
        f"  CPU per hash, single ÷ bulk: {cpu_ratio:.2f}; "
        f"share of the cores obtained: {cpu_share:.2f}"
    )
    print(f"  peak RSS per worker: {peak_max:.0f} MiB max, {peak_mean:.0f} MiB mean")

    return f"""## Bulk first-step hashing

`regie hash-pgns INPUT OUTPUT` computes the HPgn of every PGN in a file (DESIGN §4.1: scrypt with
the national chain's parameters N={SCRYPT_N}, r={SCRYPT_R}, p={SCRYPT_P}, never lowered) with one
worker process per core, streaming the file, writing in input order and resuming after an
interruption. `benchmarks/hashing.py` times {SINGLE_HASHES} hashes of `hashlib.scrypt` in one
process, then {count} fictional BSNs through the bulk engine (`regie.lib.bulk_hpgn`, worker
start-up included), and reads each worker's peak RSS and the CPU time of all processes.

| figure | value |
|---|---|
| machine | {cores} cores, {machine}; load average {load:.2f} at the start |
| single process | {single.rate:.3f} hashes/s ({1 / single.rate:.2f} s wall, \
{single.cpu_per_hash:.2f} s CPU per hash) |
| bulk, {cores} workers | {bulk.rate:.3f} PGNs/s ({count} PGNs in {bulk.wall_seconds:.1f} s, \
{bulk.cpu_per_hash:.2f} s CPU per hash) |
| **efficiency** bulk ÷ (single × {cores}) | **{efficiency:.2f}** (aim ≥ 0.90) |
| CPU per hash, single ÷ bulk | {cpu_ratio:.2f} (1.00: the engine adds no work) |
| share of the cores obtained | {cpu_share:.2f} (below 1: other work shared the machine) |
| peak RSS per worker | {peak_max:.0f} MiB (mean {peak_mean:.0f} MiB) |
| 10,000 PGNs at this rate | {10_000 / bulk.rate / 60:.0f} min |

Throughput grows with cores, and memory (about 150 MiB per worker), only. When the share of the
cores obtained is well below 1, the efficiency measures the machine's other load, not the engine:
the CPU-per-hash ratio is the figure that shows the engine's own overhead.
"""


if __name__ == "__main__":
    print(run())
