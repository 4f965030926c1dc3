"""Deploying the contenders: regie as in production, and node's oidc-provider."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..serving import (
    HANDOFF,
    REGIE,
    ROOT,
    free_port,
    nv_api_key,
    read_handoff,
    regie_command,
    run_child,
    wait_until_up,
)
from .common import PEER, REDIRECT
from .flow import Provider

# --- the deployments -----------------------------------------------------------------------------


@dataclass
class Hub:
    directory: Path
    env: dict[str, str]
    hub_ports: list[int] = field(default_factory=list)
    nv_port: int = 0
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    number_service: subprocess.Popen[bytes] | None = None

    def command(self, *arguments: str) -> str:
        return regie_command(self.env, *arguments)

    def child(self, *arguments: str, extra: dict[str, str] | None = None) -> str:
        return run_child("benchmarks.sso", {**self.env, **(extra or {})}, *arguments)

    def start(self, role: str, port: int, name: str) -> subprocess.Popen[bytes]:
        with (self.directory / f"{name}.log").open("wb") as log:
            return subprocess.Popen(
                [REGIE, "serve", "--role", role, "--port", str(port), "--no-worker"],
                env={**self.env, "REGIE_ROLE": role},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def all_processes(self) -> list[subprocess.Popen[bytes]]:
        return self.processes + ([self.number_service] if self.number_service else [])


def deploy_hub(
    directory: Path, servers: int, database_url: str | None = None
) -> tuple[Hub, dict[str, Any]]:
    """regie's processes on a fresh database: SQLite in ``directory``, or ``database_url``."""
    hub_ports = [free_port() for _ in range(servers)]
    nv_port = free_port()
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # SQLite in the directory, unless asked otherwise
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    env.update(
        {
            "REGIE_VAR_DIR": str(directory / "var"),
            "REGIE_NV_KEYS_DIR": str(directory / "nv-keys"),
            "REGIE_OIDC_KEYS_DIR": str(directory / "oidc-keys"),
            "REGIE_SECRET_KEY": secrets.token_urlsafe(50),
            "REGIE_OIDC_ISSUER": f"http://127.0.0.1:{hub_ports[0]}/oidc",
            "REGIE_NV_URL": f"http://127.0.0.1:{nv_port}/nummervoorziening",
            "REGIE_INPROCESS_WORKER": "false",
            "REGIE_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "regie.settings",
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
    )
    hub = Hub(directory=directory, env=env, hub_ports=hub_ports, nv_port=nv_port)
    hub.command("migrate", "--noinput")
    hub.command("nv-keys", "generate")
    hub.command("oidc-keys", "ensure")
    hub.env["REGIE_NV_API_KEY"] = nv_api_key(hub.command)
    handoff = directory / "setup.json"  # the setup child's client secret and sessions, 0600
    hub.env[HANDOFF] = str(handoff)
    hub.child("--setup")
    created = read_handoff(handoff)
    hub.number_service = hub.start("nummervoorziening", nv_port, "number-service")
    for number, port in enumerate(hub_ports, 1):
        hub.processes.append(hub.start("hub", port, f"hub-{number}"))
    wait_until_up([nv_port, *hub_ports], "/healthz", hub.all_processes())
    return hub, created


def regie_provider(
    name: str,
    ports: list[int],
    created: dict[str, Any],
    processes: list[subprocess.Popen[bytes]] | None = None,
) -> Provider:
    """regie's OpenID provider as the benchmarks drive it: its endpoints, the client the setup
    child registered, every request to the next of ``ports``."""
    return Provider(
        name=name,
        ports=ports,
        authorize_path="/oidc/authorize",
        token_path="/oidc/token",  # noqa: S106 (a URL path)
        userinfo_path="/oidc/userinfo",
        jwks_path="/oidc/jwks",
        client_id=created["client_id"],
        secret=created["secret"],
        round_robin=True,
        processes=processes or [],
    )


def deploy_peer(directory: Path, servers: int, client_id: str, secret: str) -> Provider | str:
    """The peer's processes, or why it could not run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node or npm is not installed"
    installed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PEER,
        capture_output=True,
        text=True,
        check=False,
    )
    if installed.returncode != 0:
        return f"`npm ci` failed: {installed.stderr.strip()[-500:]}"
    ports = [free_port() for _ in range(servers)]
    provider = Provider(
        name="oidc-provider",
        ports=ports,
        authorize_path="/auth",
        token_path="/token",  # noqa: S106 (a URL path, not a secret)
        userinfo_path="/me",
        jwks_path="/jwks",
        client_id=client_id,
        secret=secret,
        round_robin=False,
    )
    for number, port in enumerate(ports, 1):
        with (directory / f"peer-{number}.log").open("wb") as log:
            provider.processes.append(
                subprocess.Popen(
                    [node, "server.mjs", str(port), client_id, REDIRECT],
                    cwd=PEER,
                    # the secret in the environment (only this user can read it), not on argv
                    env={**os.environ, "NODE_ENV": "production", "PEER_CLIENT_SECRET": secret},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    wait_until_up(ports, "/.well-known/openid-configuration", provider.processes)
    return provider


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "none"
    completed = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    return completed.stdout.strip()


def peer_version() -> str:
    try:
        package = json.loads((PEER / "node_modules" / "oidc-provider" / "package.json").read_text())
    except OSError:
        return "?"
    version: str = package["version"]
    return version
