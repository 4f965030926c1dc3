"""A supplier's order endpoint for the tests: a tiny WSGI app on 127.0.0.1 over real HTTP.

It verifies each order with :mod:`regie.lib.supplier_orders` against the hub's JWKS, counts
what it saw per (order id, attempt timestamp) and per order, acts once per order id (idempotent)
and answers as told: ``ok`` (accepted and completed receipts at once), ``error`` (500),
``garbage`` (a 200 that is not JSON), ``slow`` and ``block`` (waits until released; the worker
times out or is killed meanwhile).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from regie.lib import supplier_orders

StartResponse = Callable[..., Any]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class ThreadingServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._handle, args=(request, client_address), daemon=True)
        thread.start()

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        finally:
            self.shutdown_request(request)


class SupplierStub:
    def __init__(
        self, *, hub_jwks: Callable[[], dict[str, Any]], client_id: str, jwk: dict[str, Any]
    ) -> None:
        self.hub_jwks = hub_jwks
        self.client_id = client_id
        self.jwk = jwk
        self.mode = "ok"
        self.lock = threading.Lock()
        self.received: Counter[str] = Counter()  # order id → requests
        self.attempts: Counter[tuple[str, str]] = Counter()  # (order id, webhook-timestamp)
        self.handled: Counter[str] = Counter()  # order id → times acted upon
        self.refused: list[str] = []
        self.receipts: dict[str, list[str]] = {}
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.url = ""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        try:
            order = supplier_orders.verify_order_request(
                method=environ["REQUEST_METHOD"],
                url=self.url,
                headers=headers,
                body=body,
                jwks=self.hub_jwks(),
                now=int(time.time()),
            )
        except supplier_orders.OrderSignatureError as error:
            with self.lock:
                self.refused.append(error.reason)
            start_response("401 Unauthorized", [("content-type", "text/plain")])
            return [b"refused"]
        order_id = order["id"]
        with self.lock:
            self.received[order_id] += 1
            self.attempts[(order_id, headers["webhook-timestamp"])] += 1
            mode = self.mode
        if mode in ("block", "slow"):
            self.arrived.set()
            self.release.wait(60)
        if mode == "error":
            start_response("500 Internal Server Error", [("content-type", "text/plain")])
            return [b"oops"]
        if mode == "garbage":
            start_response("200 OK", [("content-type", "application/json")])
            return [b"<html>not json"]
        with self.lock:
            if order_id not in self.receipts:
                self.handled[order_id] += 1
                self.receipts[order_id] = [
                    self.receipt(order, body, status) for status in ("accepted", "completed")
                ]
            tokens = self.receipts[order_id]
        start_response("200 OK", [("content-type", "application/json")])
        return [json.dumps({"receipts": tokens}).encode()]

    def receipt(self, order: dict[str, Any], body: bytes, status: str, **changes: Any) -> str:
        arguments: dict[str, Any] = {
            "order": order,
            "order_digest": supplier_orders.content_digest(body),
            "status": status,
            "subjects": order["subjects"],
            "statement": "Alle gegevens over deze leerlingen zijn vernietigd."
            if status == "completed"
            else "",
            "data": {},
            "client_id": self.client_id,
            "private_jwk": self.jwk,
            "now": int(time.time()),
        }
        arguments.update(changes)
        return supplier_orders.make_receipt(**arguments)


@contextmanager
def serving(stub: SupplierStub) -> Iterator[SupplierStub]:
    server = make_server(
        "127.0.0.1", 0, stub, server_class=ThreadingServer, handler_class=QuietHandler
    )
    stub.url = f"http://127.0.0.1:{server.server_port}/orders"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.release.set()
        server.shutdown()
        server.server_close()
