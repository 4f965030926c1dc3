"""OneRoster 1.2 REST: the hub's time to return all users of a 1 000-pupil school (aim < 200 ms).

A fictional primary school (through the real importer): 1 000 pupils with ECK iDs in 40 groups of
25, one teacher per group; a supplier with an active agreement (supplier pseudonym, school,
groups, year level on its schedule, switched on) for a product licensed for every group; a roster
client (``client_secret_basic``, scope ``roster-core.readonly``).

regie is deployed as in production, in subprocesses (with ``benchmarks/serving.py``, as the SSO
benchmark is): a fresh database, ``regie migrate``, the number service's keys and the hub's API
key there, the data from a child (``python -m benchmarks.oneroster --setup``, which hands the
client's secret over in a 0600 file), the number service on its own
``regie serve --role nummervoorziening`` (its worker in-process) and one
``regie serve --role hub --no-worker``. The benchmark is the only client: one
keep-alive connection (``http.client``), one request at a time, so a request's time is the
server's time plus a loopback round trip.

Timed over HTTP:

- the **first** ``GET /users?limit=1000`` (after an untimed ``GET /orgs`` warmed the process):
  the 1 000 supplier pseudonyms are not known yet and come from the number service in one batch;
- then, in rounds, ``GET /users?limit=1000`` (1 000 pupils and 40 teachers),
  ``GET /students?limit=1000`` and ``GET /enrollments?limit=1000`` (1 040 enrollments), with the
  pseudonyms already kept in ``SupplierPseudonym``: p50 and p99 (nearest rank) of each, and the
  hub process's CPU time per request (``/proc``);
- the reference for the HTTP stack: ``GET /healthz`` in the same rounds.

In a child on the same database (``--inprocess``; Django's test client, no HTTP): the same
requests again, the **reference** — a plain ``SELECT`` of the school's 1 000 ``Student`` rows with
a cursor plus ``json.dumps`` of 1 000 dicts shaped like the user records (what an endpoint with
no policy, no pseudonyms and no paging would cost at least) — and a cProfile of a few
``/users`` requests: the share of the policy, the pseudonym lookup, building the records, paging,
serialising and the audit event.

Per database: SQLite (a file in a temporary directory, WAL) always; PostgreSQL on a scratch
database created on the server of ``DATABASE_URL`` when that is a PostgreSQL URL (dropped
afterwards), otherwise on a throwaway cluster (``benchmarks.roster_import.postgres_cluster``)
when Debian's ``pg_ctl`` is there; the setup ends with ``ANALYZE`` there (the planner statistics
autovacuum would make within a minute). Standalone: ``python -m benchmarks.oneroster``. Modules:
:mod:`.hub` (deployment, HTTP client), :mod:`.children` (Django in-process), :mod:`.report`
(the Markdown section).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from benchmarks.roster_import import find_pg_ctl, postgres_cluster

from ..serving import Session, cpu_seconds
from .common import PUPILS, REPETITIONS, REQUESTS, ROSTER, percentile
from .hub import Hub, deploy, scratch_database
from .report import section

__all__ = ["main", "run"]


def _over_http(hub: Hub, token: str) -> dict[str, Any]:
    """The first request, then the rounds, timed from the benchmark's side of one connection."""
    if hub.server is None or hub.number_service is None:
        raise RuntimeError("the servers did not start")
    server, number_service = hub.server.pid, hub.number_service.pid
    session = Session()
    bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def timed(path: str) -> tuple[float, float, Any]:
        cpu = cpu_seconds(server)
        started = time.perf_counter()
        answer = session.request(hub.port, "GET", path, headers=bearer)
        elapsed = time.perf_counter() - started
        if answer.status != 200:
            raise RuntimeError(f"GET {path.split('?')[0]}: HTTP {answer.status}")
        return elapsed, cpu_seconds(server) - cpu, answer

    timed(f"{ROSTER}/orgs")  # the process's first request: imports, connections
    nv_cpu = cpu_seconds(number_service)
    first, first_cpu, answer = timed(REQUESTS[0].path)
    result: dict[str, Any] = {"first": first, "first_cpu": first_cpu}
    result["first_nv_cpu"] = cpu_seconds(number_service) - nv_cpu
    REQUESTS[0].check(answer.status, answer.headers, answer.body)
    names = [request.name for request in REQUESTS] + ["healthz"]
    times: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    result["sizes"] = sizes = {}
    nv_cpu = cpu_seconds(number_service)
    for request in REQUESTS:  # once untimed, checked
        _, _, answer = timed(request.path)
        request.check(answer.status, answer.headers, answer.body)
        sizes[request.name] = len(answer.body)
    for _ in range(REPETITIONS):
        for name, path in [(q.name, q.path) for q in REQUESTS] + [("healthz", "/healthz")]:
            elapsed, cpu, _ = timed(path)
            times[name].append(elapsed)
            cpus[name].append(cpu)
    result["rounds_nv_cpu"] = cpu_seconds(number_service) - nv_cpu
    session.close()
    result["p50"] = {name: percentile(values, 0.5) for name, values in times.items()}
    result["p99"] = {name: percentile(values, 0.99) for name, values in times.items()}
    result["cpu"] = {name: sum(values) / len(values) for name, values in cpus.items()}
    return result


def measure(label: str, database_url: str, directory: Path) -> dict[str, Any]:
    """Deploy on one database, time the requests, run the in-process child; the figures."""
    print(f"  {label}: deploying and creating {PUPILS} pupils …", flush=True)
    hub, created = deploy(directory, database_url)
    try:
        token = hub.token(created["client_id"], created["secret"])
        result = _over_http(hub, token)
        result["inprocess"] = json.loads(
            hub.child("--inprocess", str(created["school"]), extra={"REGIE_BENCH_TOKEN": token})
            .strip()
            .splitlines()[-1]
        )
    finally:
        hub.stop()
    return {"database": label, **result, "load": os.getloadavg()[0]}


def _postgres() -> tuple[Callable[[], AbstractContextManager[str]] | None, str]:
    """How to get a PostgreSQL database for the run, and where it is."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return (lambda: scratch_database(url)), "a scratch database on `DATABASE_URL`'s server"
    pg_ctl = find_pg_ctl()
    if pg_ctl is not None:
        return (lambda: postgres_cluster(pg_ctl)), "a throwaway local cluster (`fsync=off`)"
    return None, "skipped (no `DATABASE_URL` and no `pg_ctl` under `/usr/lib/postgresql`)"


def run() -> str:
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    postgres, where = _postgres()
    with tempfile.TemporaryDirectory(prefix="regie-bench-oneroster-") as temporary:
        directory = Path(temporary)
        sqlite = f"sqlite:///{directory / 'SQLite' / 'regie.sqlite3'}"
        databases: list[tuple[str, Callable[[], AbstractContextManager[str]]]] = [
            ("SQLite", lambda: nullcontext(sqlite))
        ]
        if postgres is not None:
            databases.append(("PostgreSQL", postgres))
        for label, database in databases:
            (directory / label).mkdir()
            try:
                with database() as url:
                    results.append(measure(label, url, directory / label))
            except Exception as error:  # a benchmark reports, it does not crash the run
                failures.append(f"{label}: {error}")
                print(f"  {label} failed: {error}", flush=True)
    return section(results, failures, where)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inprocess", metavar="SCHOOL", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    from regie.lib.logging import configure_logging

    configure_logging(level="WARNING")
    if options.setup or options.inprocess is not None:
        from . import children

        if options.setup:
            children.setup_child()
        else:
            children.inprocess_child(options.inprocess)
    else:
        print(run())
