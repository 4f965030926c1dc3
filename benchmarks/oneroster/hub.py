"""regie deployed for the OneRoster benchmark as in production, in subprocesses, and a lean HTTP
client to time it: the hub on ``regie serve --role hub``, the number service on its own
``regie serve --role nummervoorziening``, one database."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..serving import (
    HANDOFF,
    REGIE,
    ROOT,
    Session,
    free_port,
    nv_api_key,
    read_handoff,
    regie_command,
    run_child,
    stop_all,
    wait_until_up,
)
from .common import CORE_SCOPE


@dataclass
class Hub:
    directory: Path
    env: dict[str, str]
    port: int
    nv_port: int
    server: subprocess.Popen[bytes] | None = None
    number_service: subprocess.Popen[bytes] | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def command(self, *arguments: str) -> str:
        return regie_command(self.env, *arguments)

    def child(self, *arguments: str, extra: dict[str, str] | None = None) -> str:
        """``python -m benchmarks.oneroster ARGUMENTS`` on this database; its stdout."""
        env = {**self.env, "REGIE_ROLE": "hub", **(extra or {})}
        return run_child("benchmarks.oneroster", env, *arguments)

    def start(self, role: str, port: int, *, worker: bool) -> subprocess.Popen[bytes]:
        command = [REGIE, "serve", "--role", role, "--port", str(port)]
        if not worker:
            command.append("--no-worker")
        with (self.directory / f"{role}.log").open("wb") as log:
            process = subprocess.Popen(
                command, env={**self.env, "REGIE_ROLE": role}, stdout=log, stderr=subprocess.STDOUT
            )
        self.processes.append(process)
        return process

    def token(self, client_id: str, secret: str) -> str:
        """A client-credentials access token with ``roster-core.readonly``."""
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
        answer = Session().request(
            self.port,
            "POST",
            "/oidc/token",
            urlencode({"grant_type": "client_credentials", "scope": CORE_SCOPE}),
            {"Authorization": f"Basic {basic}"},
        )
        if answer.status != 200:
            raise RuntimeError(f"no token: HTTP {answer.status}")
        token: str = answer.json()["access_token"]
        return token

    def stop(self) -> None:
        stop_all(self.processes)


def deploy(directory: Path, database_url: str) -> tuple[Hub, dict[str, Any]]:
    """Migrate a fresh database, make keys and the data, start both servers."""
    hub = Hub(directory=directory, env=dict(os.environ), port=free_port(), nv_port=free_port())
    hub.env.update(
        {
            "DATABASE_URL": database_url,
            "REGIE_VAR_DIR": str(directory / "var"),
            "REGIE_NV_KEYS_DIR": str(directory / "nv-keys"),
            "REGIE_OIDC_KEYS_DIR": str(directory / "oidc-keys"),
            "REGIE_SECRET_KEY": secrets.token_urlsafe(50),
            "REGIE_OIDC_ISSUER": f"http://127.0.0.1:{hub.port}/oidc",
            "REGIE_NV_URL": f"http://127.0.0.1:{hub.nv_port}/nummervoorziening",
            "REGIE_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "regie.settings",
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
    )
    hub.command("migrate", "--noinput")
    hub.command("nv-keys", "generate")
    hub.command("oidc-keys", "ensure")
    hub.env["REGIE_NV_API_KEY"] = nv_api_key(hub.command)
    handoff = directory / "setup.json"  # the client secret, 0600: not on stdout
    hub.env[HANDOFF] = str(handoff)
    hub.child("--setup")
    created = read_handoff(handoff)
    try:
        hub.number_service = hub.start("nummervoorziening", hub.nv_port, worker=True)
        hub.server = hub.start("hub", hub.port, worker=False)
        wait_until_up([hub.nv_port, hub.port], "/healthz", hub.processes)
    except BaseException:
        hub.stop()
        raise
    return hub, created


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A fresh database on the server of ``url`` (a PostgreSQL URL), dropped afterwards."""
    import psycopg

    parts = urlsplit(url)
    name = f"regie_bench_oneroster_{secrets.token_hex(4)}"
    admin = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
