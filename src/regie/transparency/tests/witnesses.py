"""A real witness process for tests (``regie witness serve`` with its own state directory):
shared test support, not a test module."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from regie.conftest import free_port, regie_command


@dataclass
class WitnessProcess:
    url: str
    vkey: str
    state: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def start(self) -> None:
        """Serve again on the same port and state (after :meth:`stop`)."""
        port = self.url.rsplit(":", 1)[1]
        self.process = _serve(self.state, int(port), self.log)
        _wait_until_up(self.url, self.process, self.log)


def witness_command(*args: str) -> list[str]:
    return regie_command("witness", *args)


def _serve(state: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            witness_command("serve", "--state", str(state), "--port", str(port)),
            stdout=handle,
            stderr=handle,
        )


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            httpx.get(url + "/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"the witness did not start: {log.read_text()}")


def start_witness(tmp_path: Path, name: str, origin: str, log_vkey: str) -> WitnessProcess:
    """A witness of the log ``origin`` (signed with ``log_vkey``), served on a free port."""
    state = tmp_path / name.replace("/", "-")
    made = subprocess.run(
        witness_command("init", "--name", name, "--state", str(state)),
        capture_output=True,
        text=True,
        check=True,
    )
    vkey = made.stdout.strip().splitlines()[-1]
    subprocess.run(
        witness_command("add-log", "--origin", origin, "--key", log_vkey, "--state", str(state)),
        capture_output=True,
        text=True,
        check=True,
    )
    port = free_port()
    log = tmp_path / f"{state.name}.log"
    process = _serve(state, port, log)
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(url, process, log)
    return WitnessProcess(url, vkey, state, process, log)
