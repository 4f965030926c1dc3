"""Load and soak: a large board's start-of-day burst of SSO launches, then a steady day, on
loopback; errors, latency per phase, the hub's CPU and every process's memory.

regie is deployed as the SSO benchmark deploys it (``benchmarks/sso/deploy.py``: a fresh
database, the number service on its own ``regie serve --role nummervoorziening`` and one ``regie
serve --role hub`` per core) with a pool of pupils with a logged-in session each
(``REGIE_BENCH_SOAK_PUPILS``, 2 000), and a launch is the SSO benchmark's (authorize → code →
token → userinfo, checked). Each pupil launches once before the timed part (their supplier
pseudonym is then kept by the hub, as after a first school day).

The load is **open-loop**: launches are begun at a fixed rate whether or not earlier ones have
finished, as pupils' clicks arrive, and a launch's time runs from the moment it was due, so a
server that falls behind shows it in the latency rather than by slowing the arrivals. Each
launch goes to the pupil idle longest; 64 client threads carry them, each thread with one
keep-alive connection per hub port that it lends to the pupil it serves (as a reverse proxy's
connection pool would), so thousands of pupils do not hold thousands of idle connections.

The phases: the burst of a large board's start of day, 20 000 pupils within 15 minutes (22.2
launches/s; ``REGIE_BENCH_SOAK_BURST_RATE``) held for 10 minutes
(``REGIE_BENCH_SOAK_BURST_SECONDS``, 600), then a steady 5 launches/s
(``REGIE_BENCH_SOAK_STEADY_RATE``) for 30 minutes (``REGIE_BENCH_SOAK_STEADY_SECONDS``, 1800).
Reported per phase: launches begun, finished and failed (with the first failure), p50/p99/max,
the hub's and the number service's CPU, the load average; and the resident memory (RSS) of every
hub and number-service process at the start and the end of each phase. Aims: 0 errors, p99 under
100 ms, memory flat. Standalone: ``python -m benchmarks.soak``; it is part of ``python -m
benchmarks`` (about 45 minutes) and never of the tests.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from regie.lib.logging import configure_logging

from .serving import (
    Session,
    process_tree,
    rss_bytes,
    server_name,
    stop_all,
    tree_cpu_seconds,
)
from .sso.common import SESSION_COOKIE, LaunchFailed
from .sso.deploy import Hub, deploy_hub, regie_provider
from .sso.flow import Client, Provider, percentile

BURST_SECONDS = float(os.environ.get("REGIE_BENCH_SOAK_BURST_SECONDS", "600"))
STEADY_SECONDS = float(os.environ.get("REGIE_BENCH_SOAK_STEADY_SECONDS", "1800"))
BURST_RATE = float(os.environ.get("REGIE_BENCH_SOAK_BURST_RATE", f"{20000 / 900:.1f}"))
STEADY_RATE = float(os.environ.get("REGIE_BENCH_SOAK_STEADY_RATE", "5"))
PUPILS = int(os.environ.get("REGIE_BENCH_SOAK_PUPILS", "2000"))
CLIENT_THREADS = 64
AIM_P99 = 0.100
DRAIN_SECONDS = 120.0
MIB = 2**20


@dataclass
class Phase:
    name: str
    rate: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    begun: int = 0
    failures: int = 0
    first_failure: str = ""
    no_pupil_free: int = 0
    most_late: float = 0.0  # how far the arrivals fell behind their schedule, at most
    hub_cpu: float = 0.0
    nv_cpu: float = 0.0
    wall: float = 0.0
    load: float = 0.0
    rss_start: dict[str, int] = field(default_factory=dict)
    rss_end: dict[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> int:
        return len(self.latencies)


class Pupils:
    """The pool: each launch takes the pupil idle longest and gives it back when done."""

    def __init__(self, cookies: list[dict[str, str]]) -> None:
        self.idle = deque(range(len(cookies)))
        self.cookies = cookies
        self.lock = threading.Lock()

    def take(self) -> int | None:
        with self.lock:
            return self.idle.popleft() if self.idle else None

    def give_back(self, number: int) -> None:
        with self.lock:
            self.idle.append(number)


class Launcher:
    """Launches for any pupil, carried by the executor's threads; each thread keeps one
    keep-alive connection per hub port and lends it to the pupil whose launch it carries."""

    def __init__(self, provider: Provider, pupils: Pupils) -> None:
        self.provider = provider
        self.pupils = pupils
        self.local = threading.local()
        self.lock = threading.Lock()

    def launch(self, number: int, due: float, phase: Phase) -> None:
        session: Session | None = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = Session()
        session.cookies = self.pupils.cookies[number]  # the pupil's cookie jar, kept up to date
        try:
            Client(self.provider, number, session).launch()
            latency = time.perf_counter() - due
            with self.lock:
                phase.latencies.append(latency)
        except (LaunchFailed, OSError, http.client.HTTPException, ValueError, KeyError) as error:
            with self.lock:
                phase.failures += 1
                phase.first_failure = phase.first_failure or f"{type(error).__name__}: {error}"
        finally:
            self.pupils.give_back(number)


def processes_of(hub: Hub) -> dict[str, int]:
    """Every process to watch, by a name for the report: the hub's (and any workers below
    them) and the number service's."""
    named = {}
    for number, process in enumerate(hub.processes, 1):
        for index, pid in enumerate(process_tree(process.pid)):
            named[f"hub {number}" + (f" {_kind(pid)} {index}" if index else "")] = pid
    if hub.number_service is not None:
        for index, pid in enumerate(process_tree(hub.number_service.pid)):
            named["number service" + (f" {_kind(pid)} {index}" if index else "")] = pid
    return named


def _kind(pid: int) -> str:
    """What a process below ``regie serve`` is: granian's worker, or multiprocessing's helper."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "child"
    if b"resource_tracker" in command:
        return "resource tracker"
    return "worker" if b"spawn_main" in command else "child"


def run_phase(phase: Phase, launcher: Launcher, hub: Hub, executor: ThreadPoolExecutor) -> None:
    """Begin launches at ``phase.rate`` for ``phase.seconds`` (open loop); does not wait for
    the last ones to finish (the next phase begins on time)."""
    watched = processes_of(hub)
    phase.rss_start = {name: rss_bytes(pid) for name, pid in watched.items()}
    hub_pids = [process.pid for process in hub.processes]
    nv_pids = [hub.number_service.pid] if hub.number_service else []
    hub_before, nv_before = tree_cpu_seconds(hub_pids), tree_cpu_seconds(nv_pids)
    phase.load = os.getloadavg()[0]
    started = time.perf_counter()
    total = int(phase.seconds * phase.rate)
    for index in range(total):
        due = started + index / phase.rate
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        else:
            phase.most_late = max(phase.most_late, -wait)
        number = launcher.pupils.take()
        phase.begun += 1
        if number is None:
            phase.no_pupil_free += 1
            phase.failures += 1
            phase.first_failure = phase.first_failure or "no pupil free (all are launching)"
            continue
        executor.submit(launcher.launch, number, due, phase)
    remaining = started + phase.seconds - time.perf_counter()
    if remaining > 0:
        time.sleep(remaining)
    phase.wall = time.perf_counter() - started
    phase.hub_cpu = tree_cpu_seconds(hub_pids) - hub_before
    phase.nv_cpu = tree_cpu_seconds(nv_pids) - nv_before
    phase.rss_end = {name: rss_bytes(pid) for name, pid in processes_of(hub).items()}


def warm_up(launcher: Launcher, executor: ThreadPoolExecutor, count: int) -> Phase:
    """One untimed launch per pupil, 16 at a time: sessions, pseudonyms, connections."""
    phase = Phase("warm-up", 0.0, 0.0)
    gate = threading.Semaphore(16)

    def one(number: int) -> None:
        try:
            launcher.launch(number, time.perf_counter(), phase)
        finally:
            gate.release()

    futures: list[Future[None]] = []
    for _ in range(count):
        gate.acquire()
        number = launcher.pupils.take()
        if number is None:  # cannot happen: a pupil is given back before the gate opens
            raise RuntimeError("warm-up: no pupil free")
        futures.append(executor.submit(one, number))
    for future in futures:
        future.result()
    if phase.failures:
        raise RuntimeError(f"warm-up: {phase.failures} launches failed: {phase.first_failure}")
    return phase


def run() -> str:
    directory = Path(tempfile.mkdtemp(prefix="regie-bench-soak-"))
    servers = os.cpu_count() or 1
    phases = [
        Phase("burst", BURST_RATE, BURST_SECONDS),
        Phase("steady", STEADY_RATE, STEADY_SECONDS),
    ]
    running: list[subprocess.Popen[bytes]] = []
    before = os.environ.get("REGIE_BENCH_SSO_SESSIONS")
    os.environ["REGIE_BENCH_SSO_SESSIONS"] = str(PUPILS)  # for the SSO benchmark's setup child
    executor = ThreadPoolExecutor(CLIENT_THREADS, thread_name_prefix="soak-client")
    try:
        print(f"  deploying regie ({servers} hub processes, {PUPILS} pupils) …", flush=True)
        hub, created = deploy_hub(directory, servers)
        running += hub.all_processes()
        provider = regie_provider("regie", hub.hub_ports, created)
        pupils = Pupils([{SESSION_COOKIE: key} for key in created["sessions"]])
        launcher = Launcher(provider, pupils)
        print(f"  warming up ({len(pupils.cookies)} launches, untimed) …", flush=True)
        warm_up(launcher, executor, len(pupils.cookies))
        for phase in phases:
            print(
                f"  {phase.name}: {phase.rate:g} launches/s for {phase.seconds:.0f} s …",
                flush=True,
            )
            run_phase(phase, launcher, hub, executor)
        executor.shutdown(wait=True)  # the last launches finish (each has a 120 s timeout)
        stop_all(running)
    except Exception as error:  # a benchmark reports, it does not crash the run
        from .sso.report import failure_section

        return failure_section(f"{type(error).__name__}: {error}", directory).replace(
            "Single sign-on launches", "Load and soak"
        )
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        stop_all(running)
        shutil.rmtree(directory, ignore_errors=True)
        if before is None:
            os.environ.pop("REGIE_BENCH_SSO_SESSIONS", None)
        else:
            os.environ["REGIE_BENCH_SSO_SESSIONS"] = before
    return section(servers, len(pupils.cookies), phases)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 120 else f"{seconds:g} s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds == seconds else "–"


def _phase_row(phase: Phase) -> str:
    failed = f"{phase.failures}" + (f" ({phase.first_failure[:80]})" if phase.failures else "")
    p99 = percentile(phase.latencies, 0.99)
    cpu_each = phase.hub_cpu / phase.finished if phase.finished else float("nan")
    return (
        f"| {phase.name} | {phase.rate:g}/s × {_duration(phase.seconds)} | {phase.begun} | "
        f"{phase.finished} | {failed} | {_ms(percentile(phase.latencies, 0.5))} | "
        f"**{_ms(p99)}** | {_ms(max(phase.latencies, default=float('nan')))} | "
        f"{phase.hub_cpu:.1f} s ({phase.hub_cpu / phase.wall:.0%} of a core) | {_ms(cpu_each)} | "
        f"{phase.nv_cpu:.1f} s | {_ms(phase.most_late)} | {phase.load:.1f} |"
    )


def section(servers: int, pupils: int, phases: list[Phase]) -> str:
    database = "PostgreSQL (`DATABASE_URL`)" if os.environ.get("DATABASE_URL") else "SQLite (WAL)"
    burst, steady = phases
    names = list(burst.rss_start)
    lines = [
        "## Load and soak",
        "",
        f"regie deployed as for the SSO benchmark ({servers} `regie serve --role hub` processes "
        f"with {server_name()}, one per core, and the number service; {database}), {pupils} "
        "distinct pupils with a session each, every pupil launched once before (its pseudonym "
        "kept). Open-loop arrivals: the burst of a board of 20 000 pupils launching within 15 "
        f"minutes ({burst.rate:g} launches/s) for {_duration(burst.seconds)}, then {steady.rate:g} "
        f"launches/s for {_duration(steady.seconds)}; each launch goes to the pupil idle "
        f"longest (so each pupil launches about "
        f"{(burst.begun + steady.begun) / max(pupils, 1):.1f} times), {CLIENT_THREADS} client "
        "threads sharing the machine, a launch timed from the moment it was due. Aims: 0 "
        "errors, p99 under 100 ms, memory flat.",
        "",
        "| phase | arrivals | begun | finished | failed | p50 | p99 | max | hub CPU | "
        "hub CPU / launch | number service CPU | arrivals late by at most | load |",
        "|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        _phase_row(burst),
        _phase_row(steady),
        "",
        "Resident memory (RSS) per process at the start and end of each phase:",
        "",
        "| process | burst start | burst end | steady start | steady end | change over the "
        "steady phase |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name in names:
        cells = [
            burst.rss_start.get(name, 0),
            burst.rss_end.get(name, 0),
            steady.rss_start.get(name, 0),
            steady.rss_end.get(name, 0),
        ]
        change = cells[3] - cells[2]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{cell / MIB:,.1f} MiB" for cell in cells)
            + f" | {change / MIB:+,.1f} MiB |"
        )
    errors = burst.failures + steady.failures
    unfinished = burst.begun + steady.begun - burst.finished - steady.finished - errors
    p99s = [percentile(phase.latencies, 0.99) for phase in phases]
    lines += [
        "",
        f"Aims: 0 errors: **{'met' if errors == 0 and unfinished == 0 else 'not met'}** "
        f"({errors} failed, {unfinished} unfinished); p99 under 100 ms: "
        f"**{'met' if all(p99 < AIM_P99 for p99 in p99s) else 'not met'}** "
        f"({', '.join(_ms(p99) for p99 in p99s)}).",
        "",
        "A launch's latency is its three requests' CPU in the hub plus the wait behind other "
        "launches on the same cores (the client and whatever else runs share them; see the load "
        "column): the hub's CPU per launch above is what sets both, and the SSO section's profile "
        "says where that CPU goes.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    configure_logging(level="WARNING")
    print(run())


if __name__ == "__main__":
    main()
