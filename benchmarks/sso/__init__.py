"""Full SSO launches per second (authorize → code → token → userinfo) ÷ node's oidc-provider.

A launch is what a pupil's click on a tile costs the provider: the authorization request with a
logged-in session (its own PKCE verifier, state and nonce) answered by a redirect with a code,
the code exchanged at the token endpoint (``client_secret_basic``, the verifier; an ES256 ID
token back), and userinfo with the access token. The client checks the state, the nonce in the
ID token and that the ID token's ``sub`` is userinfo's; one ID token per provider is verified
against its JWKS.

regie is deployed as in production, in subprocesses, twice: on a fresh SQLite database in a
temporary ``REGIE_VAR_DIR`` and on a throwaway PostgreSQL cluster (Debian's ``pg_ctl``,
``fsync=off``; skipped without one); each with ``regie migrate``, ``regie nv-keys generate``,
``regie oidc-keys ensure``, ``regie nv-client register`` for the hub's API key; the number service
alone on ``regie serve --role nummervoorziening`` and, one per core, ``regie serve --role hub``
processes (threaded) on one database, the benchmark's own round-robin spreading every
request over their ports. The fictional data come from a child (``python -m benchmarks.sso
--setup``) through the register's test helpers: a board, a school whose group has 200 pupils
with ECK iDs, a supplier with an active agreement for a product licensed for the group, pupil
logins (``create_pupil_login``; their passwords hashed with Django's fast MD5 hasher only to save
setup time, the timed part never checks one) with a session each written to the session store as
``django.contrib.auth.login`` does, and an OAuth client (``register_client``, the secret hashed as
in production); the child hands the client's secret and the session keys to the benchmark in a
file only its user can read (mode 0600), never on stdout or a command line. Every benchmark
client is its own pupil session. One untimed launch per session
before the timed part obtains each pupil's supplier pseudonym from the number service once (it
is kept in ``SupplierPseudonym``), so the timed part measures the hub, not the number service.

The peer, in the same run with the same clients and concurrency: node's ``oidc-provider``
(``benchmarks/oidc_peer``, installed with ``npm ci``), one client alike (the same redirect URI,
``client_secret_basic``, PKCE required, ES256 ID tokens), its in-memory adapter, a fixed account,
and a grant for ``openid`` so that a session launches without consent; the session comes from the
untimed launch through a login endpoint that finishes the interaction at once. One node process
per core; as an in-memory adapter cannot be shared, each benchmark client stays with one process
(node's cluster module would spread one client's requests over workers that do not know its
session).

Reported per concurrency level (8, 32, 64 clients, 15 s each): launches/s, p50/p99 of a launch and
of each step, CPU seconds per launch of the provider's processes and of the benchmark client
(which shares the machine), the ratio regie ÷ oidc-provider and the aims (≥ 1.0, ≥ 500/s); a
short cProfile of the hub's three steps in-process (``--profile``); and, in-process, the time to
sign an ID token with ES256 and with RS256 (joserfc). ``REGIE_BENCH_PROFILE=FILE`` keeps the
profile's statistics. Standalone: ``python -m benchmarks.sso``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from regie.lib.logging import configure_logging

from ..roster_import import find_pg_ctl, postgres_cluster
from ..serving import Session, Watchdog, read_handoff, stop_all
from .children import profile_child, setup_child, signing_rates
from .common import SESSION_COOKIE, TIME_LIMIT_SECONDS, Aborted
from .deploy import Hub, deploy_hub, deploy_peer, regie_provider
from .flow import Contender, contender, interleaved
from .report import failure_section, section


def _regie(
    directory: Path, servers: int, database: str, url: str | None
) -> tuple[Contender, Hub, dict[str, Any]]:
    """regie deployed on one database, its clients warmed up."""
    hub, created = deploy_hub(directory, servers, url)
    provider = regie_provider(f"regie ({database})", hub.hub_ports, created, hub.processes)
    sessions = [Session({SESSION_COOKIE: key}) for key in created["sessions"]]
    nv = [process for process in [hub.number_service] if process is not None]
    return contender(provider, sessions, False, nv), hub, created


def run() -> str:
    servers = os.cpu_count() or 1
    directory = Path(tempfile.mkdtemp(prefix="regie-bench-sso-"))
    running: list[subprocess.Popen[bytes]] = []
    watchdog = Watchdog(TIME_LIMIT_SECONDS, running)
    stop = watchdog.stop
    regies: list[Contender] = []
    peer: Contender | None = None
    peer_note = ""
    postgres_note = ""
    try:
        with contextlib.ExitStack() as stack:
            databases: list[tuple[str, str | None]] = [("SQLite", None)]
            pg_ctl = find_pg_ctl()
            if pg_ctl is None:
                postgres_note = "no `pg_ctl` under `/usr/lib/postgresql`"
            else:
                databases.append(("PostgreSQL", stack.enter_context(postgres_cluster(pg_ctl))))
            hubs = []
            for database, url in databases:
                print(f"  deploying regie on {database} ({servers} hub processes) …", flush=True)
                place = directory / database.lower()
                place.mkdir()
                regie, hub, created = _regie(place, servers, database, url)
                running += hub.all_processes()
                regies.append(regie)
                hubs.append((hub, created))
            print(f"  deploying oidc-provider ({servers} node processes) …", flush=True)
            first = hubs[0][1]
            deployed = deploy_peer(directory, servers, first["client_id"], first["secret"])
            if isinstance(deployed, str):
                peer_note = deployed
            else:
                running += deployed.processes
                sessions = [Session() for _ in first["sessions"]]
                peer = contender(deployed, sessions, True)
            interleaved(regies if peer is None else [*regies, peer], stop)
            print("  profiling the hub in-process (SQLite) …", flush=True)
            profile = json.loads(
                hubs[0][0].child("--profile", extra={"REGIE_ROLE": "hub"}).strip().splitlines()[-1]
            )
            stop_all(running)
        signing = signing_rates()
    except Aborted:
        return failure_section(f"aborted after {TIME_LIMIT_SECONDS:.0f} s", directory)
    except Exception as error:  # a benchmark reports, it does not crash the run
        if stop.is_set():
            return failure_section(f"aborted after {TIME_LIMIT_SECONDS:.0f} s", directory)
        return failure_section(f"{type(error).__name__}: {error}", directory)
    finally:
        watchdog.cancel()
        stop_all(running)
        shutil.rmtree(directory, ignore_errors=True)
    return section(servers, regies, peer, peer_note, postgres_note, profile, signing)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    configure_logging(level="WARNING")
    if options.setup:
        setup_child()
    elif options.profile:
        created = read_handoff()
        profile_child(created["client_id"], created["secret"], created["sessions"][0])
    else:
        print(run())


if __name__ == "__main__":
    main()
