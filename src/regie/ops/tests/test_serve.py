"""``regie serve`` stops cleanly on SIGTERM and SIGINT, also with a client's connection held open."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import LazySettings
from django.core.management.base import CommandError

from regie.conftest import regie_command, start_server, subprocess_env
from regie.ops.management.commands.serve import request_threads


def keep_alive_connection(url: str) -> socket.socket:
    """A connection that has had one answered request and stays open (HTTP/1.1 keep-alive)."""
    address = urlsplit(url)
    connection = socket.create_connection((address.hostname, address.port), timeout=30)
    connection.sendall(f"GET /healthz HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
    return connection


def read_until_closed(connection: socket.socket) -> bytes:
    rest = b""
    while chunk := connection.recv(4096):
        rest += chunk
    return rest


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_it_closes_idle_connections_and_exits_on_a_stop_signal(
    keys_dir: Path, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    log = tmp_path / "server.log"
    process, url = start_server(keys_dir, log)
    try:
        connection = keep_alive_connection(url)
        process.send_signal(stop_signal)
        # The server closes the idle connection itself (the client would keep it for minutes);
        # the socket's own timeout fails this test if it does not.
        read_until_closed(connection)
        connection.close()
        assert process.wait(30) == 0, log.read_text()
    except (subprocess.TimeoutExpired, TimeoutError):
        raise AssertionError(f"the server did not stop: {log.read_text()}") from None
    finally:
        process.kill()
    output = log.read_text()
    assert "server.stopping" in output
    assert "server.stopped" in output
    assert "requests_cut_off" not in output


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("role", "serves_number_service"), [("nummervoorziening", True), ("hub", False)]
)
def test_it_serves_the_number_service_only_in_its_roles(
    keys_dir: Path, tmp_path: Path, role: str, serves_number_service: bool
) -> None:
    log = tmp_path / "server.log"
    process, url = start_server(keys_dir, log, role=role)
    try:
        for endpoint in ("/nummervoorziening/api/v1/ping", "/nummervoorziening/soap?wsdl"):
            answer = httpx.get(url + endpoint)
            assert answer.status_code == (200 if serves_number_service else 404), endpoint
    finally:
        process.terminate()
        process.wait(30)
    # Neither role waits on itself: the few threads that do not contend for the interpreter lock.
    [started] = [line for line in log.read_text().splitlines() if "server.started" in line]
    assert "threads=2 " in started or '"threads": 2,' in started, started


@pytest.mark.parametrize(
    ("role", "configured", "setting", "threads"),
    [
        ("hub", None, 0, 2),
        ("nummervoorziening", None, 0, 2),
        ("oversight", None, 0, 2),
        ("all", None, 0, 16),  # a hub request waits on the number service in the same process
        ("hub", None, 6, 6),  # REGIE_SERVER_THREADS before the role
        ("all", 3, 6, 3),  # --threads before REGIE_SERVER_THREADS
        ("hub", 1, 0, 1),
    ],
)
def test_it_chooses_the_request_threads_by_role_unless_told(
    settings: LazySettings, role: str, configured: int | None, setting: int, threads: int
) -> None:
    settings.SERVER_THREADS = setting
    assert request_threads(role, configured) == threads


@pytest.mark.parametrize(("role", "configured"), [("hub", 0), ("hub", -3), ("all", 1)])
def test_it_refuses_too_few_request_threads(
    settings: LazySettings, role: str, configured: int
) -> None:
    settings.SERVER_THREADS = 0
    with pytest.raises(CommandError, match="at least"):
        request_threads(role, configured)


@pytest.mark.django_db(transaction=True)  # a migrated database: only the port stands in the way
def test_it_names_a_taken_port_in_one_line(keys_dir: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            regie_command("serve", "--port", str(port)),
            env=subprocess_env(keys_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert f"port {port} is taken on 127.0.0.1" in line
