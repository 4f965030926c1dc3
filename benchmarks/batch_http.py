"""2.5 million stampseudonyms → ECK iDs through the number service's HTTP API (all of PO + VO).

A real deployment in subprocesses: a fresh database (SQLite in a temporary ``REGIE_VAR_DIR``, or
``DATABASE_URL`` when set), ``regie migrate``, ``regie nv-keys generate``, ``regie nv-client
register``, then ``regie serve --role nummervoorziening --no-worker`` and separate ``regie
worker`` processes. The stampseudonyms are derived locally from random anchors under the same
keys, so they are real ones. They go through :class:`NummervoorzieningClient` in batches of
``REGIE_NV_BATCH_MAX_ITEMS``, pipelined: the batches are submitted one after the other (the
workers start on the first while the rest are sent) and each is retrieved as soon as it is
finished, between submits and after the last one. With ``--servers N`` there are N server
processes (stateless web nodes on one database), each sent every N-th batch over its own
connection.

Reported: wall time split into the submit phase / processing still running after the last submit
/ retrieving after the last batch finished, items per second, the peak resident memory (VmHWM) and
CPU time of the server(s) and each worker, and CPU time ÷ cores as the wall time an otherwise idle
machine would need at best (this machine is shared). Everything is stopped after 10 minutes.
Standalone: ``python -m benchmarks.batch_http --items 200000`` for a quick trial.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from regie.lib.logging import configure_logging
from regie.nummervoorziening.client import (
    BatchResult,
    NummervoorzieningClient,
    NummervoorzieningClientError,
)
from regie.nummervoorziening.derivation import Deriver
from regie.nummervoorziening.keys import load_keyring
from regie.nummervoorziening.registry import BUILT_IN, load_registry

from .serving import cpu_seconds, process_tree

ITEMS = 2_500_000
PO_SHARE = 0.6  # ≈1.5 M pupils in PO, ≈1.0 M in VO
WORKERS = 2
SERVERS = 1
BATCH_MAX_ITEMS = 100_000
BASE = "https://nummervoorziening.regie.example"
OIN = "00000001234567890000"
TIME_LIMIT_SECONDS = 600.0
SAMPLE = 2_000  # results checked against a local derivation
AIM_SECONDS = 60.0
REGIE = str(Path(sys.executable).with_name("regie"))


class Aborted(Exception):
    pass


@dataclass
class Deployment:
    """The server and workers under test, in a temporary directory."""

    directory: Path
    env: dict[str, str]
    ports: list[int] = field(default_factory=list)
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}/nummervoorziening" for port in self.ports]

    def log(self, name: str) -> Path:
        return self.directory / f"{name}.log"

    def command(self, name: str, *arguments: str) -> str:
        """Run ``regie name …``; ``nv-keys`` is also tried as ``nv_keys`` (the module's name)."""
        for spelling in dict.fromkeys([name, name.replace("-", "_")]):
            completed = subprocess.run(
                [REGIE, spelling, *arguments],
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
            if "Unknown command" not in completed.stderr:
                break
        if completed.returncode != 0:
            raise RuntimeError(f"`regie {name}` failed: {completed.stderr.strip()[-2000:]}")
        return completed.stdout

    def start(self, *arguments: str, name: str) -> subprocess.Popen[bytes]:
        with self.log(name).open("wb") as log:
            return subprocess.Popen(
                [REGIE, *arguments], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def processes(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        servers = [
            ("server" if len(self.servers) == 1 else f"server {number}", server)
            for number, server in enumerate(self.servers, 1)
        ]
        return servers + [
            (f"worker {number}", worker) for number, worker in enumerate(self.workers, 1)
        ]

    def stop(self) -> None:
        for _, process in self.processes():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in self.processes():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def peak_rss_mib(pid: int) -> float:
    """VmHWM (peak resident set) of a running process, in MiB; with the processes below it
    (``regie serve --server granian``'s workers), the sum of their peaks."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024 if total else float("nan")


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def deploy(directory: Path, servers: int, workers: int) -> Deployment:
    env = dict(os.environ)
    env.update(
        {
            "REGIE_VAR_DIR": str(directory / "var"),
            "REGIE_NV_KEYS_DIR": str(directory / "keys"),
            "REGIE_NV_PSEUDONYM_BASE": BASE,
            "REGIE_NV_BATCH_MAX_ITEMS": str(BATCH_MAX_ITEMS),
            "REGIE_ROLE": "nummervoorziening",
            "REGIE_INPROCESS_WORKER": "false",
            "REGIE_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "regie.settings",
        }
    )
    deployment = Deployment(directory=directory, env=env)
    deployment.command("migrate", "--noinput")
    deployment.command("nv-keys", "generate")
    for number in range(1, servers + 1):
        port = _free_port()
        deployment.ports.append(port)
        deployment.servers.append(
            deployment.start(
                "serve",
                "--role",
                "nummervoorziening",
                "--port",
                str(port),
                "--no-worker",
                name=f"server-{number}",
            )
        )
    for number in range(1, workers + 1):
        deployment.workers.append(
            deployment.start("worker", "--id", f"bench-{number}", name=f"worker-{number}")
        )
    return deployment


def register_client(deployment: Deployment) -> str:
    """Register the benchmark's client (a high quota) and return its API key."""
    try:
        output = deployment.command(
            "nv-client", "register", "--oin", OIN, "--name", "Benchmark (fictief)", "--role", "las"
        )
    except RuntimeError as error:  # a reused DATABASE_URL: the client is there from a last run
        if "already registered" not in str(error):
            raise
        output = deployment.command("nv-client", "new-key", "--oin", OIN)
    deployment.command("nv-client", "set-quota", "--oin", OIN, "10000")
    for line in output.splitlines():
        if "API key" in line:
            return line.rsplit(" ", 1)[-1].strip()
    raise RuntimeError("`regie nv-client` printed no API key")


def wait_until_up(client: NummervoorzieningClient, deployment: Deployment) -> None:
    deadline = time.monotonic() + 60
    while True:
        for name, process in deployment.processes():
            if process.poll() is not None:
                raise RuntimeError(f"the {name} exited with {process.returncode} at start")
        try:
            client.ping()
            return
        except NummervoorzieningClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@dataclass
class Timings:
    started: float = 0.0
    submitted: float = 0.0
    processed: float = 0.0
    retrieved: float = 0.0
    submit_calls: float = 0.0
    retrieve_calls: float = 0.0
    client_cpu: float = 0.0


@dataclass
class Part:
    sector: str
    start: int
    values: Sequence[str]
    batch_id: str = ""
    submitted_at: float = 0.0
    finished_at: float = 0.0
    retrieved: bool = False


def _monitor(
    client: NummervoorzieningClient, parts: list[Part], stop: threading.Event, done: threading.Event
) -> None:
    """Note when each submitted batch is finished (progress polled every 0.2 s)."""
    while not done.is_set() and not stop.is_set():
        for part in parts:
            pending = part.batch_id and not part.finished_at
            if pending and client.batch_progress(part.batch_id).finished:
                part.finished_at = time.perf_counter()
        if all(part.finished_at for part in parts):
            return
        done.wait(0.2)


def _retrieve(client: NummervoorzieningClient, part: Part, timings: Timings) -> BatchResult:
    before = time.perf_counter()
    result = client.retrieve_batch(part.batch_id)
    timings.retrieve_calls += time.perf_counter() - before
    part.retrieved = True
    return result


def _submit_and_retrieve(
    client: NummervoorzieningClient, parts: list[Part], chain: str, stop: threading.Event
) -> tuple[dict[int, str], dict[int, str], Timings]:
    """One connection's share: submit its parts, retrieving each one as soon as it is finished
    (between submits, and after the last one)."""
    timings = Timings()
    results: list[tuple[Part, BatchResult]] = []

    def retrieve_finished() -> None:
        for part in parts:
            if part.finished_at and not part.retrieved:
                results.append((part, _retrieve(client, part, timings)))

    for part in parts:
        if stop.is_set():
            raise Aborted
        before = time.perf_counter()
        part.batch_id = client.submit_eck_id_batch(part.values, chain, part.sector)
        part.submitted_at = time.perf_counter()
        timings.submit_calls += part.submitted_at - before
        retrieve_finished()
    timings.submitted = time.perf_counter()
    while not all(part.retrieved for part in parts):
        if stop.is_set():
            raise Aborted
        retrieve_finished()
        time.sleep(0.02)
    success: dict[int, str] = {}
    failed: dict[int, str] = {}
    for part, result in results:
        success.update((part.start + index, value) for index, value in result.success.items())
        failed.update((part.start + index, message) for index, message in result.failed.items())
    return success, failed, timings


def pipeline(
    clients: list[NummervoorzieningClient],
    monitor: NummervoorzieningClient,
    parts: list[Part],
    chain: str,
    stop: threading.Event,
) -> tuple[dict[int, str], dict[int, str], Timings]:
    """Every part submitted and retrieved, spread over the servers; results by global index."""
    timings = Timings(started=time.perf_counter())
    cpu_before = _own_cpu_seconds()
    shares = [parts[number :: len(clients)] for number in range(len(clients))]
    done = threading.Event()
    watcher = threading.Thread(target=_monitor, args=(monitor, parts, stop, done), daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=len(clients)) as executor:
            outcomes = list(
                executor.map(
                    lambda client, share: _submit_and_retrieve(client, share, chain, stop),
                    clients,
                    shares,
                )
            )
    finally:
        done.set()
        watcher.join()
    success: dict[int, str] = {}
    failed: dict[int, str] = {}
    for share_success, share_failed, share_timings in outcomes:
        success.update(share_success)
        failed.update(share_failed)
        timings.submit_calls += share_timings.submit_calls
        timings.retrieve_calls += share_timings.retrieve_calls
    timings.submitted = max(share_timings.submitted for _, _, share_timings in outcomes)
    timings.processed = max(part.finished_at for part in parts)
    timings.retrieved = time.perf_counter()
    timings.client_cpu = _own_cpu_seconds() - cpu_before
    print("    batch  submitted  finished  (seconds from the first submit)")
    for number, part in enumerate(parts, 1):
        submitted = part.submitted_at - timings.started
        finished = part.finished_at - timings.started
        print(f"    {number:>5}  {submitted:9.1f}  {finished:8.1f}")
    return success, failed, timings


def make_parts(stampseudonyms: list[str], sectors: tuple[str, str]) -> list[Part]:
    po_items = round(len(stampseudonyms) * PO_SHARE)
    parts = []
    for sector, first, last in (
        (sectors[0], 0, po_items),
        (sectors[1], po_items, len(stampseudonyms)),
    ):
        for start in range(first, last, BATCH_MAX_ITEMS):
            end = min(start + BATCH_MAX_ITEMS, last)
            parts.append(Part(sector=sector, start=start, values=stampseudonyms[start:end]))
    return parts


def _processes(count: int, kind: str) -> str:
    return f"{count} {kind} process" + ("es" if count != 1 else "")


def _fmt(number: float) -> str:
    return f"{number:,.0f}".replace(",", " ")


def run(items: int = ITEMS, workers: int = WORKERS, servers: int = SERVERS) -> str:
    registry = load_registry(BUILT_IN)
    chain = next(iter(registry.chains.values())).id
    by_code = {sector.code: sector.id for sector in registry.sectors.values()}
    sectors = (by_code["PO"], by_code["VO"])
    directory = Path(tempfile.mkdtemp(prefix="regie-bench-http-"))
    stop = threading.Event()
    deployment: Deployment | None = None

    def abort() -> None:
        stop.set()
        if deployment is not None:
            deployment.stop()

    watchdog = threading.Timer(TIME_LIMIT_SECONDS, abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        deployment = deploy(directory, servers, workers)
        api_key = register_client(deployment)
        deriver = Deriver(load_keyring(directory / "keys"), BASE)
        print(f"  deriving {_fmt(items)} stampseudonyms locally …", flush=True)
        rng = random.Random(20261122)
        stampseudonyms = [deriver.stampseudonym(rng.randbytes(32)) for _ in range(items)]
        parts = make_parts(stampseudonyms, sectors)
        with ExitStack() as stack:
            clients = [
                stack.enter_context(
                    NummervoorzieningClient(url, api_key, 300, max_batch_items=BATCH_MAX_ITEMS)
                )
                for url in deployment.urls
            ]
            monitor = stack.enter_context(NummervoorzieningClient(deployment.urls[0], api_key, 60))
            for client in clients:
                wait_until_up(client, deployment)
            cpu_before = {
                name: cpu_seconds(process.pid) for name, process in deployment.processes()
            }
            print(f"  {len(parts)} batches, {servers} servers + {workers} workers …", flush=True)
            success, failed, timings = pipeline(clients, monitor, parts, chain, stop)
            usage = [
                (name, peak_rss_mib(process.pid), cpu_seconds(process.pid) - cpu_before[name])
                for name, process in deployment.processes()
            ]
            load = os.getloadavg()[0]
        sample_errors = _check(success, stampseudonyms, deriver, chain, sectors, items)
    except Aborted:
        return _failure_section(items, f"aborted after {TIME_LIMIT_SECONDS:.0f} s", directory)
    except Exception as error:  # a benchmark reports, it does not crash the run
        if stop.is_set():
            return _failure_section(items, f"aborted after {TIME_LIMIT_SECONDS:.0f} s", directory)
        return _failure_section(items, f"{type(error).__name__}: {error}", directory)
    finally:
        watchdog.cancel()
        if deployment is not None:
            deployment.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return _section(
        items, servers, workers, len(parts), success, failed, sample_errors, timings, usage, load
    )


def _check(
    success: dict[int, str],
    stampseudonyms: list[str],
    deriver: Deriver,
    chain: str,
    sectors: tuple[str, str],
    items: int,
) -> int:
    """How many of a random sample of results differ from a local derivation at that index."""
    po_items = round(items * PO_SHARE)
    wrong = 0
    for index in random.Random(7).sample(range(items), min(SAMPLE, items)):
        sector = sectors[0] if index < po_items else sectors[1]
        if success.get(index) != deriver.eck_id(stampseudonyms[index], chain, sector):
            wrong += 1
    return wrong


def _failure_section(items: int, reason: str, directory: Path) -> str:
    logs = []
    for log in sorted(directory.glob("*.log")):
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        if tail:
            logs += [f"{log.name}:", *(f"    {line}" for line in tail)]
    lines = [
        "## Batch of stampseudonyms → ECK iDs over HTTP",
        "",
        f"**Not completed** ({_fmt(items)} items): {reason}",
        "",
    ]
    if logs:
        lines += ["```", *logs, "```", ""]
    return "\n".join(lines)


def _section(
    items: int,
    servers: int,
    workers: int,
    batches: int,
    success: dict[int, str],
    failed: dict[int, str],
    sample_errors: int,
    timings: Timings,
    usage: list[tuple[str, float, float]],
    load: float,
) -> str:
    wall = timings.retrieved - timings.started
    submit = timings.submitted - timings.started
    processing_tail = max(0.0, timings.processed - timings.submitted)
    retrieve_tail = timings.retrieved - max(timings.processed, timings.submitted)
    client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    complete = len(success) == items and not failed and sample_errors == 0
    outcome = (
        f"all {_fmt(items)} came back, no failures, a sample of {min(SAMPLE, items)} equal to a "
        "local derivation"
        if complete
        else f"**incomplete**: {_fmt(len(success))} succeeded, {_fmt(len(failed))} failed, "
        f"{sample_errors} of the sample differ"
    )
    memory = ", ".join(f"{name} {_fmt(peak)} MiB" for name, peak, _ in usage)
    cpu = ", ".join(f"{name} {seconds:.1f} s" for name, _, seconds in usage)
    total_cpu = sum(seconds for _, _, seconds in usage) + timings.client_cpu
    cores = os.cpu_count() or 1
    busiest = max(usage, key=lambda entry: entry[2])
    database = "PostgreSQL (DATABASE_URL)" if os.environ.get("DATABASE_URL") else "SQLite"
    lines = [
        "## Batch of stampseudonyms → ECK iDs over HTTP",
        "",
        f"{_fmt(items)} stampseudonyms ({PO_SHARE:.0%} PO, the rest VO) → ECK iDs through the JSON "
        f"API with `NummervoorzieningClient`: {batches} batches of at most "
        f"{_fmt(BATCH_MAX_ITEMS)}, submitted one after the other, each retrieved once finished. "
        f"{_processes(servers, 'server')} (`regie serve --no-worker`"
        f"{', batches spread round-robin' if servers > 1 else ''}) + "
        f"{_processes(workers, 'worker')} (`regie worker`) on {os.cpu_count()} cores, "
        f"{database}; the client runs on the same machine. Aim: under {AIM_SECONDS:.0f} s.",
        "",
        "| measure | value |",
        "|---|--:|",
        f"| **wall time** (first submit → last result) | **{wall:.1f} s** |",
        f"| submit phase (retrieving finished batches in between) | {submit:.1f} s |",
        f"| processing still running after the last submit | {processing_tail:.1f} s |",
        f"| retrieve after the last batch finished | {retrieve_tail:.1f} s |",
        f"| time in submit calls / retrieve calls | {timings.submit_calls:.1f} s / "
        f"{timings.retrieve_calls:.1f} s |",
        f"| throughput | {_fmt(items / wall)} items/s |",
        f"| peak RSS (VmHWM) | {memory}; client {_fmt(client_peak)} MiB |",
        f"| CPU time during the run | {cpu}; client {timings.client_cpu:.1f} s |",
        f"| CPU time ÷ {cores} cores (wall time on an otherwise idle machine, at best"
        f"{'; PostgreSQL not counted' if os.environ.get('DATABASE_URL') else ''}) | "
        f"{total_cpu / cores:.1f} s |",
        f"| busiest process | {busiest[0]}: CPU {busiest[2]:.1f} s = "
        f"{100 * busiest[2] / wall:.0f} % of the wall time |",
        f"| load average (1 min) at the end | {load:.1f} |",
        "",
        f"Outcome: {outcome}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--servers", type=int, default=SERVERS)
    options = parser.parse_args(argv)
    configure_logging(level="WARNING")
    print(run(items=options.items, workers=options.workers, servers=options.servers))


if __name__ == "__main__":
    main()
