"""Support for the end-to-end tests with live parts: demo suppliers served and registered at the
live hub as ``regie demo`` does it, and a real ``regie worker`` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings

from regie.agreements.models import Product, Supplier
from regie.conftest import regie_command, subprocess_env
from regie.demosupplier import server
from regie.demosupplier.suppliers import DemoSupplierSpec
from regie.ops import supplier_registration as registration

WAIT_SECONDS = 120
# Every attempt after the first one second later: long enough to see an order wait, short
# enough for a test. A real hub waits 5 s, 5 min, 30 min, … (docs/supplier-orders.md).
RETRY_SCHEDULE = ",".join(["0"] + ["1"] * 59)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"still waiting: {what}"
        time.sleep(0.1)


@contextmanager
def registered_supplier(
    spec: DemoSupplierSpec, base: str, supplier: Supplier, product: Product
) -> Iterator[server.Running]:
    """The demo supplier ``spec`` served on a free port and registered at the hub on ``base`` as
    ``supplier`` for ``product`` (its clients and its order endpoint); stopped afterwards unless
    the test stopped it."""
    running = server.start(spec, f"{base}/oidc", port=0)
    try:
        registration.register_clients(running.app, supplier, {"": product})
        yield running
    finally:
        if not running.stopped.is_set():
            running.stop()


@contextmanager
def worker_process(base: str, keys_dir: Path, log: Path, name: str) -> Iterator[Path]:
    """A real ``regie worker`` process on the test database, signing with the hub's key, with
    the short retry schedule; its output goes to ``log``."""
    process = subprocess.Popen(
        regie_command("worker", "--role", "hub", "--id", name),
        env=subprocess_env(
            keys_dir,
            REGIE_OIDC_KEYS_DIR=str(settings.OIDC_KEYS_DIR),
            REGIE_OIDC_ISSUER=f"{base}/oidc",
            REGIE_ORDER_RETRY_SCHEDULE=RETRY_SCHEDULE,
            REGIE_ORDER_TIMEOUT_SECONDS="5",
        ),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: "jobs.worker.started" in log.read_text() or process.poll() is not None,
            "the worker to start",
        )
        assert process.poll() is None, log.read_text()
        yield log
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


VERIFY = str(Path(sys.executable).with_name("regie-verify"))


def verify_bundle(base: str, proof: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``regie-verify bundle`` on a downloaded proof from a fresh shell, as a parent or a
    supervisor would, with the keys from the hub's published list (the log's, then its
    witnesses'); returns the run and those keys."""
    log_key, *witness_keys = httpx.get(f"{base}/log/keys").text.splitlines()
    arguments = [VERIFY, "bundle", str(proof), "--log-key", log_key]
    for key in witness_keys:
        arguments += ["--witness-key", key]
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    run = subprocess.run(arguments, capture_output=True, text=True, env=env, timeout=60)
    return run, witness_keys
