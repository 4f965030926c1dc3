"""Which WSGI server should run the hub: waitress against granian and gunicorn, the same app
and the same load.

The deployment, the pupils' sessions, the OAuth client and the launch are the SSO benchmark's
(``benchmarks/sso``: ``deploy_hub`` makes the database and the data and starts the number
service). On that database and with the same environment, each server runs the hub's app
(``regie.wsgi``, role hub) with one process per core and as many request threads per process
as ``regie serve --role hub`` has (``REGIE_SERVER_THREADS``, else 2): waitress as ``regie serve
--server waitress`` (one process and port per core; it has no process manager, so the client
takes the ports in turn), granian as ``regie serve --server granian --processes N`` (its Rust
HTTP stack in front of the WSGI app, the worker processes sharing one port, a supervising
process), and gunicorn as ``gunicorn --worker-class gthread regie.wsgi:application`` (a master
and N workers on one port).

Two workloads, closed-loop (every client sends its next request when the last one is answered),
per level of concurrency (8 and 32 clients, 15 s each; the servers take turns per level so that
they meet the shared machine's other load alike): the SSO launch (authorize → token → userinfo,
each client its own pupil session, as ``benchmarks/sso`` drives it), and ``GET /healthz`` (one
``SELECT 1``: the HTTP stack and Django's request handling alone, where the server's own share
of the CPU is largest). Reported: launches or requests per second, p50/p99, the CPU of the
server's processes per launch or request (a master's and its workers' together), the client's
CPU, errors, the load average, and the ratio to waitress in the same run. Standalone: ``python
-m benchmarks.servers``; ``REGIE_BENCH_SERVERS_LEVELS`` and ``REGIE_BENCH_SERVERS_SECONDS``
shorten a run while exploring.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from regie.lib.logging import configure_logging

from .serving import (
    REGIE,
    Session,
    Watchdog,
    free_port,
    hub_threads,
    process_tree,
    rss_bytes,
    stop_all,
    tree_cpu_seconds,
    wait_until_up,
)
from .sso.common import SESSION_COOKIE, Aborted, LaunchFailed, own_cpu_seconds
from .sso.deploy import Hub, deploy_hub, regie_provider
from .sso.flow import Client, Provider, percentile, run_round, warm_up

LEVELS = tuple(int(n) for n in os.environ.get("REGIE_BENCH_SERVERS_LEVELS", "8,32").split(","))
ROUND_SECONDS = float(os.environ.get("REGIE_BENCH_SERVERS_SECONDS", "15"))
TIME_LIMIT_SECONDS = 900.0
BIN = Path(sys.executable).parent


@dataclass
class Measured:
    """One round of one workload against one server."""

    server: str
    workload: str  # "launch" or "healthz"
    clients: int
    latencies: list[float]
    errors: int
    first_error: str
    wall: float
    server_cpu: float
    client_cpu: float
    load: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def per_item(self, seconds: float) -> float:
        return seconds / len(self.latencies) if self.latencies else float("nan")


@dataclass
class Contender:
    name: str
    description: str
    provider: Provider
    masters: list[subprocess.Popen[bytes]]
    clients: list[Client] = field(default_factory=list)
    rounds: list[Measured] = field(default_factory=list)
    rss: int = 0  # bytes, all its processes, after the last round

    def pids(self) -> list[int]:
        return [process.pid for process in self.masters]


def start_server(hub: Hub, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
    with (hub.directory / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            argv, env={**hub.env, "REGIE_ROLE": "hub"}, stdout=log, stderr=subprocess.STDOUT
        )


def regie_serve(hub: Hub, server: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    argv = [REGIE, "serve", "--server", server, "--role", "hub", "--port", str(port)]
    return start_server(hub, f"{server}-{port}", [*argv, "--no-worker", *extra])


def waitress(hub: Hub, processes: int) -> tuple[list[subprocess.Popen[bytes]], list[int], str]:
    ports = [free_port() for _ in range(processes)]
    masters = [regie_serve(hub, "waitress", port) for port in ports]
    text = (
        f"waitress {_version('waitress')} (`regie serve --server waitress`, {hub_threads()} "
        "threads, a process and port per core, the client taking the ports in turn)"
    )
    return masters, ports, text


def granian(hub: Hub, processes: int) -> tuple[list[subprocess.Popen[bytes]], list[int], str]:
    port = free_port()
    master = regie_serve(hub, "granian", port, "--processes", str(processes))
    text = (
        f"granian {_version('granian')} (`regie serve --server granian --processes "
        f"{processes}`: WSGI, {hub_threads()} blocking threads per worker, the workers sharing "
        "one port, a supervising process)"
    )
    return [master], [port], text


def gunicorn(hub: Hub, processes: int) -> tuple[list[subprocess.Popen[bytes]], list[int], str]:
    port = free_port()
    argv = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(processes),
        "--worker-class",
        "gthread",
        "--threads",
        str(hub_threads()),
        "--log-level",
        "warning",
        "regie.wsgi:application",
    ]
    text = (
        f"gunicorn {_version('gunicorn')} (`gunicorn --worker-class gthread --threads "
        f"{hub_threads()} regie.wsgi:application`, {processes} workers sharing one port, a master)"
    )
    return [start_server(hub, "gunicorn", argv)], [port], text


STARTERS: dict[str, Callable[[Hub, int], tuple[list[subprocess.Popen[bytes]], list[int], str]]] = {
    "waitress": waitress,
    "granian": granian,
    "gunicorn": gunicorn,
}


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def provider_for(name: str, ports: list[int], created: dict[str, str]) -> Provider:
    return regie_provider(name, ports, created)


def launch_round(entry: Contender, clients: int, stop: threading.Event) -> Measured:
    before = tree_cpu_seconds(entry.pids())
    round_ = run_round(entry.provider, entry.clients[:clients], ROUND_SECONDS, stop)
    return Measured(
        server=entry.name,
        workload="launch",
        clients=clients,
        latencies=[launch.total for launch in round_.launches],
        errors=round_.failures,
        first_error=round_.first_failure,
        wall=round_.wall,
        server_cpu=tree_cpu_seconds(entry.pids()) - before,
        client_cpu=round_.client_cpu,
        load=round_.load,
    )


def healthz_round(entry: Contender, clients: int, stop: threading.Event) -> Measured:
    """``clients`` threads each GET /healthz again and again for ``ROUND_SECONDS``."""
    ports = entry.provider.ports
    results: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    before = tree_cpu_seconds(entry.pids())
    own_before = own_cpu_seconds()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    deadline = started + ROUND_SECONDS

    def loop(number: int, into: list[float]) -> None:
        session = Session()
        sent = number
        while time.perf_counter() < deadline and not stop.is_set():
            sent += 1
            begun = time.perf_counter()
            try:
                answer = session.request(ports[sent % len(ports)], "GET", "/healthz")
                if answer.status != 200:
                    raise LaunchFailed(f"healthz: {answer.status}")
                into.append(time.perf_counter() - begun)
            except (LaunchFailed, OSError, http.client.HTTPException) as error:
                errors.append(f"{type(error).__name__}: {error}")
        session.close()

    workers = [
        threading.Thread(target=loop, args=(number, into), daemon=True)
        for number, into in enumerate(results)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    if stop.is_set():
        raise Aborted
    return Measured(
        server=entry.name,
        workload="healthz",
        clients=clients,
        latencies=[latency for into in results for latency in into],
        errors=len(errors),
        first_error=errors[0] if errors else "",
        wall=wall,
        server_cpu=tree_cpu_seconds(entry.pids()) - before,
        client_cpu=own_cpu_seconds() - own_before,
        load=load,
    )


def run() -> str:
    from .sso.report import failure_section

    processes = os.cpu_count() or 1
    directory = Path(tempfile.mkdtemp(prefix="regie-bench-servers-"))
    running: list[subprocess.Popen[bytes]] = []
    watchdog = Watchdog(TIME_LIMIT_SECONDS, running)
    stop = watchdog.stop
    try:
        print(f"  deploying regie ({processes} hub processes + the number service) …")
        hub, created = deploy_hub(directory, processes)
        running += hub.all_processes()
        stop_all(hub.processes)  # the deployment's own hub processes: each server starts its own
        contenders = []
        for name, starter in STARTERS.items():
            print(f"  starting {name} ({processes} processes) …", flush=True)
            masters, ports, text = starter(hub, processes)
            running += masters
            wait_until_up(ports, "/healthz", masters)
            contenders.append(Contender(name, text, provider_for(name, ports, created), masters))
        for entry in contenders:
            sessions = [Session({SESSION_COOKIE: key}) for key in created["sessions"]]
            entry.clients = [
                Client(entry.provider, number, session)
                for number, session in enumerate(sessions[: max(LEVELS)])
            ]
            warm_up(entry.clients, False)
        for clients in LEVELS:
            for measure in (launch_round, healthz_round):
                for entry in contenders:
                    print(f"  {entry.name}: {measure.__name__} at {clients} clients …", flush=True)
                    entry.rounds.append(measure(entry, clients, stop))
        for entry in contenders:
            entry.rss = sum(rss_bytes(pid) for pid in _tree(entry.pids()))
        stop_all(running)
    except Aborted:
        return failure_section(f"aborted after {TIME_LIMIT_SECONDS:.0f} s", directory).replace(
            "Single sign-on launches", "WSGI servers"
        )
    except Exception as error:  # a benchmark reports, it does not crash the run
        reason = f"{type(error).__name__}: {error}"
        return failure_section(reason, directory).replace("Single sign-on launches", "WSGI servers")
    finally:
        watchdog.cancel()
        stop_all(running)
        shutil.rmtree(directory, ignore_errors=True)
    return section(processes, contenders)


def _tree(pids: Sequence[int]) -> list[int]:
    return [member for pid in pids for member in process_tree(pid)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds == seconds else "–"


def _row(measured: Measured, reference: Measured) -> str:
    errors = f"{measured.errors}" + (f" ({measured.first_error[:60]})" if measured.errors else "")
    cpu = measured.per_item(measured.server_cpu)
    reference_cpu = reference.per_item(reference.server_cpu)
    return (
        f"| {measured.server} | {measured.clients} | {len(measured.latencies)} | "
        f"**{measured.rate:,.1f}** | {measured.rate / reference.rate:.2f} | "
        f"{_ms(percentile(measured.latencies, 0.5))} | "
        f"{_ms(percentile(measured.latencies, 0.99))} | {_ms(cpu)} | "
        f"{cpu / reference_cpu:.2f} | {_ms(measured.per_item(measured.client_cpu))} | "
        f"{measured.load:.1f} | {errors} |"
    )


def section(processes: int, contenders: list[Contender]) -> str:
    database = "PostgreSQL (`DATABASE_URL`)" if os.environ.get("DATABASE_URL") else "SQLite (WAL)"
    lines = [
        "## WSGI servers for the hub",
        "",
        f"The same app (`regie.wsgi`, role hub, {database}), {processes} server process"
        f"{'es' if processes != 1 else ''} each (one per core), closed-loop clients "
        f"(Python threads, `http.client`, keep-alive) on the same {os.cpu_count()} cores, "
        f"{ROUND_SECONDS:.0f} s per round, the servers taking turns. The servers:",
        "",
        *(f"- **{entry.name}**: {entry.description}" for entry in contenders),
        "",
        "Ratios are to waitress in the same round; CPU is the server's processes (a master's "
        "and its workers' together) per launch or request.",
        "",
    ]
    for workload, title in (
        ("launch", "SSO launch (authorize → token → userinfo)"),
        ("healthz", "`GET /healthz` (the HTTP stack and Django's request handling alone)"),
    ):
        lines += [
            f"{title}:",
            "",
            "| server | clients | done | per second | ÷ waitress | p50 | p99 | server CPU each "
            "| ÷ waitress | client CPU each | load | errors |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for clients in LEVELS:
            rounds = [
                next(r for r in entry.rounds if r.workload == workload and r.clients == clients)
                for entry in contenders
            ]
            lines += [_row(measured, rounds[0]) for measured in rounds]
        lines.append("")
    lines += [*_verdict(contenders), ""]
    lines += [
        "Resident memory of each server's processes after the rounds: "
        + ", ".join(f"{entry.name} {entry.rss / 2**20:,.0f} MiB" for entry in contenders)
        + ".",
        "",
    ]
    return "\n".join(lines)


def _span(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}–{high:.2f}"


def _verdict(contenders: list[Contender]) -> list[str]:
    """Against waitress, per server: the spans of the ratios over the levels."""
    reference = contenders[0]
    lines = []
    for entry in contenders[1:]:
        parts = []
        for workload, label in (("healthz", "`/healthz`"), ("launch", "launches")):
            rates, cpus = [], []
            for mine, theirs in zip(entry.rounds, reference.rounds, strict=True):
                if mine.workload == workload and theirs.rate and mine.latencies:
                    rates.append(mine.rate / theirs.rate)
                    reference_cpu = theirs.per_item(theirs.server_cpu)
                    cpus.append(mine.per_item(mine.server_cpu) / reference_cpu)
            if rates:
                parts.append(
                    f"{label} {_span(rates)}× as many per second at {_span(cpus)}× the CPU each"
                )
        lines.append(f"- {entry.name} against waitress: " + "; ".join(parts) + ".")
    return [
        "In short (the spans over the levels of concurrency):",
        "",
        *lines,
        "",
        "`regie serve` runs granian by default (`REGIE_SERVER`), chosen on these figures: the "
        "server's own CPU per request is what remains once the app's work per launch is small, "
        "and `/healthz` shows it alone. docs/installation.md says how to deploy either.",
    ]


def main() -> None:
    configure_logging(level="WARNING")
    print(run())


if __name__ == "__main__":
    main()
