"""A supplier's back-channel logout endpoint for tests: a real HTTP server on a free port that
keeps what was POSTed to it and answers with a chosen status."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Posted:
    path: str
    content_type: str
    form: dict[str, list[str]]


@dataclass
class Receiver:
    url: str
    status: int = 200
    posted: list[Posted] = field(default_factory=list)

    def tokens(self, path: str) -> list[str]:
        return [item.form["logout_token"][0] for item in self.posted if item.path == path]


@contextmanager
def receiver(status: int = 200) -> Iterator[Receiver]:
    """A receiver served until the block ends."""
    made = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            made.posted.append(
                Posted(self.path, self.headers.get("Content-Type", ""), parse_qs(body))
            )
            self.send_response(made.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    made.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield made
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
