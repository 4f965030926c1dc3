"""regie deployed for the OneRoster benchmark as in production, in subprocesses, and a lean HTTP
client to time it: the hub on ``regie serve --role hub``, the number service on its own
``regie serve --role nummervoorziening``, one database."""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .common import CORE_SCOPE

ROOT = Path(__file__).resolve().parents[2]
REGIE = str(Path(sys.executable).with_name("regie"))
HUB_OIN = "00000001000000000077"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


class Session:
    """One keep-alive connection per port (``http.client``: the client shares the machine, and
    its CPU per request is what it takes from the server)."""

    def __init__(self) -> None:
        self._connections: dict[int, http.client.HTTPConnection] = {}

    def request(
        self,
        port: int,
        method: str,
        path: str,
        body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        for attempt in (1, 2):
            connection = self._connections.get(port)
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                self._connections[port] = connection
            try:
                connection.request(method, path, body=body, headers=sent)
                response = connection.getresponse()
                content = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                del self._connections[port]
                if attempt == 2:
                    raise
        headers_in = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers_in, content)

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


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
        completed = subprocess.run(
            [REGIE, *arguments], env=self.env, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"`regie {arguments[0]}` failed: {completed.stderr.strip()[-2000:]}")
        return completed.stdout

    def child(self, *arguments: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
        """``python -m benchmarks.oneroster ARGUMENTS`` on this database; its last line, parsed."""
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.oneroster", *arguments],
            env={**self.env, "REGIE_ROLE": "hub", **(extra or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"{arguments[0]} failed: {completed.stderr.strip()[-2000:]}")
        result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        return result

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
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(hub: Hub) -> None:
    deadline = time.monotonic() + 60
    for port in (hub.nv_port, hub.port):
        while True:
            for process in hub.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a server exited with {process.returncode} at start")
            try:
                if Session().request(port, "GET", "/healthz").status < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no answer on port {port} after 60 s")
            time.sleep(0.2)


def _api_key(hub: Hub) -> str:
    output = hub.command(
        "nv-client", "register", "--oin", HUB_OIN, "--name", "regie-hub (benchmark, fictief)"
    )
    for line in output.splitlines():
        if "API key" in line:
            return line.rsplit(" ", 1)[-1].strip()
    raise RuntimeError("`regie nv-client` printed no API key")


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
    hub.env["REGIE_NV_API_KEY"] = _api_key(hub)
    created = hub.child("--setup")
    try:
        hub.number_service = hub.start("nummervoorziening", hub.nv_port, worker=True)
        hub.server = hub.start("hub", hub.port, worker=False)
        _wait_until_up(hub)
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
