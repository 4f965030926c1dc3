"""Stopping an in-process waitress server (``regie.lib.serving``) is safe from any thread, twice."""

from __future__ import annotations

import socket
import threading
from typing import Any

import httpx
from waitress.server import create_server

from regie.lib.serving import run_until_stopped, stop_serving


def test_a_stop_after_the_loop_has_shut_down_touches_nothing() -> None:
    """Stopping twice, or after the loop ended on its own, never writes to the closed trigger
    (its file descriptor may belong to something else by then)."""

    def app(environ: object, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server: Any = create_server(app, host="127.0.0.1", port=0, threads=1)
    stop = threading.Event()
    thread = threading.Thread(target=run_until_stopped, args=(server, stop), daemon=True)
    thread.start()
    port = server.socket.getsockname()[1]
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "ok"
    stop_serving(server, stop)
    thread.join(timeout=10)
    assert not thread.is_alive()
    with socket.socket() as reused:  # may get the trigger's old descriptor number
        reused.bind(("127.0.0.1", 0))
        stop_serving(server, stop)
        stop_serving(server, stop)
