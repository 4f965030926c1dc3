"""What the benchmarks that deploy regie as in production share: a lean HTTP client, process
CPU accounting, ports, starting and stopping servers, the number-service API key, and the 0600
handoff file through which a setup child gives the benchmark its fictional client's secret
(never on stdout or a command line)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGIE = str(Path(sys.executable).with_name("regie"))
HUB_OIN = "00000001000000000077"
HANDOFF = "REGIE_BENCH_HANDOFF"  # the environment variable naming the handoff file


def hub_threads() -> int:
    """The request threads per process that ``regie serve --role hub`` runs with here."""
    from regie.ops.management.commands.serve import threads_for

    return threads_for("hub", None, int(os.environ.get("REGIE_SERVER_THREADS") or 0))


def server_name() -> str:
    """The HTTP server the deployed ``regie serve`` processes run (``REGIE_SERVER``; granian is
    ``regie serve``'s default)."""
    return os.environ.get("REGIE_SERVER") or "granian"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


class Session:
    """One browser-like client: its cookies (by name; every server here is 127.0.0.1) and a
    keep-alive connection per port. ``http.client`` rather than httpx: the client shares the
    machine, and its CPU per request is what it takes from the servers."""

    def __init__(self, cookies: dict[str, str] | None = None) -> None:
        self.cookies = dict(cookies or {})
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
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
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
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                self._keep_cookie(value)
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, content)

    def _keep_cookie(self, header: str) -> None:
        name, _, rest = header.partition("=")
        value, _, attributes = rest.partition(";")
        if not value or "expires=thu, 01 jan 1970" in attributes.lower():
            self.cookies.pop(name.strip(), None)
        else:
            self.cookies[name.strip()] = value.strip()

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used so far (all its threads), with the
    processes below it (``regie serve --server granian``'s workers, a pre-forking server's)."""
    return tree_cpu_seconds([pid])


def own_cpu_seconds_of(pid: int) -> float:
    """User + system CPU time of one running process alone (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def regie_command(env: dict[str, str], *arguments: str) -> str:
    """``regie ARGUMENTS`` with ``env``; its stdout, or RuntimeError with its stderr's end."""
    completed = subprocess.run(
        [REGIE, *arguments], env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"`regie {arguments[0]}` failed: {completed.stderr.strip()[-2000:]}")
    return completed.stdout


def run_child(module: str, env: dict[str, str], *arguments: str) -> str:
    """``python -m MODULE ARGUMENTS`` from the repository root; its stdout."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{arguments[0]} failed: {completed.stderr.strip()[-2000:]}")
    return completed.stdout


def nv_api_key(command: Callable[..., str]) -> str:
    """The hub's API key at the number service (``regie nv-client``; a new key when a reused
    database has the client already)."""
    try:
        output = command(
            "nv-client",
            "register",
            "--oin",
            HUB_OIN,
            "--name",
            "regie-hub (benchmark, fictief)",
            "--role",
            "hub",
        )
    except RuntimeError as error:
        if "already registered" not in str(error):
            raise
        command("nv-client", "set-role", "--oin", HUB_OIN, "hub")  # a database from before roles
        output = command("nv-client", "new-key", "--oin", HUB_OIN)
    for line in output.splitlines():
        if "API key" in line:
            return line.rsplit(" ", 1)[-1].strip()
    raise RuntimeError("`regie nv-client` printed no API key")


def stop_all(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(
    ports: Sequence[int], path: str, processes: Sequence[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + 60
    for port in ports:
        while True:
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a server exited with {process.returncode} at start")
            try:
                if Session().request(port, "GET", path).status < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no answer on port {port} after 60 s")
            time.sleep(0.2)


def write_handoff(data: dict[str, Any]) -> None:
    """In a setup child: ``data`` (a secret in it) to the handoff file, for this user only."""
    descriptor = os.open(os.environ[HANDOFF], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


def read_handoff(path: str | Path | None = None) -> dict[str, Any]:
    """What the setup child handed over (the file named by ``REGIE_BENCH_HANDOFF`` by default)."""
    found: dict[str, Any] = json.loads(
        Path(path or os.environ[HANDOFF]).read_text(encoding="utf-8")
    )
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (a pre-forking server's master and its workers)."""
    found, index = [pid], 0
    while index < len(found):
        try:
            for task in Path(f"/proc/{found[index]}/task").iterdir():
                found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass  # gone meanwhile
        index += 1
    return found


def tree_cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of the processes ``pids`` and all below them, so far."""
    total = 0.0
    for pid in pids:
        for member in process_tree(pid):
            with contextlib.suppress(OSError):
                total += own_cpu_seconds_of(member)
    return total


def rss_bytes(pid: int) -> int:
    """The resident set size of one process (VmRSS), 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Watchdog:
    """A benchmark's time limit: after ``seconds``, ``stop`` is set and every process in
    ``running`` (a list the benchmark keeps adding to) is stopped. ``cancel`` when done."""

    def __init__(self, seconds: float, running: list[subprocess.Popen[bytes]]) -> None:
        self.stop = threading.Event()
        self._running = running
        self._timer = threading.Timer(seconds, self._abort)
        self._timer.daemon = True
        self._timer.start()

    def _abort(self) -> None:
        self.stop.set()
        stop_all(self._running)

    def cancel(self) -> None:
        self._timer.cancel()
