"""``regie serve`` behaves alike with either of its servers (granian, the default, and waitress):
a graceful stop, the proxy headers a visitor sent dropped, and ``--processes`` only where it means
something."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from regie.conftest import free_port, regie_command, start_server, subprocess_env
from regie.ops.tests.test_serve import keep_alive_connection, read_until_closed

SERVERS = ["granian", "waitress"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", SERVERS)
def test_either_server_closes_idle_connections_and_exits_on_sigterm(
    keys_dir: Path, tmp_path: Path, server: str
) -> None:
    log = tmp_path / "server.log"
    process, url = start_server(keys_dir, log, "--server", server)
    try:
        connection = keep_alive_connection(url)
        process.send_signal(signal.SIGTERM)
        read_until_closed(connection)  # the socket's timeout fails the test if it stays open
        connection.close()
        assert process.wait(30) == 0, log.read_text()
    finally:
        process.kill()
    output = log.read_text()
    assert f"server={server}" in output
    assert "server.stopping" in output
    assert "server.stopped" in output
    assert "Traceback" not in output


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize(
    ("believed_header", "sent", "secure"),
    [
        ("X-Forwarded-Proto", {"X-Forwarded-Proto": "https"}, False),  # dropped by the server
        ("X-Forwarded-Ssl=on", {"X-Forwarded-Ssl": "on"}, True),  # passed on: the control
    ],
)
def test_either_server_drops_the_forwarded_headers_a_visitor_sent(
    keys_dir: Path,
    tmp_path: Path,
    server: str,
    believed_header: str,
    sent: dict[str, str],
    secure: bool,
) -> None:
    process, url = start_server(
        keys_dir,
        tmp_path / "server.log",
        "--server",
        server,
        role="hub",
        REGIE_PROXY_SSL_HEADER=believed_header,
    )
    try:
        answer = httpx.get(f"{url}/healthz", headers=sent)
        assert answer.status_code == 200
        # Django sends HSTS only on a request it believes came over HTTPS.
        assert ("strict-transport-security" in answer.headers) is secure, answer.headers
    finally:
        process.terminate()
        process.wait(30)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--server", "waitress", "--processes", "2"], "waitress serves from one process"),
        (["--server", "granian", "--processes", "0"], "at least one is needed"),
    ],
)
def test_it_refuses_processes_the_server_cannot_have_in_one_line(
    keys_dir: Path, arguments: list[str], expected: str
) -> None:
    result = subprocess.run(
        regie_command("serve", "--port", str(free_port()), *arguments),
        env=subprocess_env(keys_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    assert expected in line
