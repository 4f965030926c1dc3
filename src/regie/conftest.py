"""Fixtures shared by every app's tests: a fresh keyring, number-service clients, fictional PGNs."""

from __future__ import annotations

import random
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings, settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client as HttpClient
from django.utils import translation

from regie.nummervoorziening import services as nv_services
from regie.nummervoorziening.keys import generate_keyring
from regie.nummervoorziening.models import Client

LAS_OIN = "00000001234567890000"
OTHER_OIN = "00000009876543210000"
HUB_OIN = "00000001000000000055"
# The supplier (KvK number) the number service's tests obtain pseudonyms for: declared by
# ``hub_client``; UNDECLARED_KVK is a supplier that client did not declare.
SUPPLIER_KVK = "12345678"
UNDECLARED_KVK = "87654321"


LOG_ORIGIN = "hub.regie.example/log"


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The number service's keyring and the audit log's checkpoint key (``log-key``)."""
    from regie.audit.signed_note import generate_signer

    directory = tmp_path_factory.mktemp("keys")
    generate_keyring(directory)
    (directory / "log-key").write_text(generate_signer(LOG_ORIGIN).skey + "\n")
    return directory


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language (Dutch) and leaves it so. A request with the
    language cookie activates its language in the worker's thread, and refusals and import
    problems are rendered in the active language: without this, one test's English would leak
    into the next test on the same worker."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_job_queue(request: pytest.FixtureRequest) -> None:
    """procrastinate's tables (the job queue on PostgreSQL) are not Django's to flush between
    tests, its models being unmanaged: each database test starts with the queue empty, as on
    SQLite, so that one test's jobs neither run in nor count for the next."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock():
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM procrastinate_periodic_defers")
            cursor.execute("DELETE FROM procrastinate_jobs")
            cursor.execute("DELETE FROM procrastinate_workers")


@pytest.fixture(autouse=True)
def _nv_keys(settings: LazySettings, keys_dir: Path) -> None:
    settings.NV_KEYS_DIR = keys_dir
    settings.LOG_KEY_FILE = keys_dir / "log-key"
    settings.LOG_ORIGIN = LOG_ORIGIN


@pytest.fixture
def las_client(db: None) -> tuple[Client, str]:
    """A registered LAS client at the number service and its API key."""
    return nv_services.register_client(oin=LAS_OIN, name="Demo LAS (fictief)", role="las")


@pytest.fixture
def other_client(db: None) -> tuple[Client, str]:
    return nv_services.register_client(oin=OTHER_OIN, name="Andere LAS (fictief)", role="las")


@pytest.fixture
def hub_client(db: None) -> tuple[Client, str]:
    """A registered hub client that declared one supplier (``SUPPLIER_KVK``), and its API key."""
    return nv_services.register_client(
        oin=HUB_OIN, name="regie-hub (fictief)", role="hub", suppliers=[SUPPLIER_KVK]
    )


def make_bsn(rng: random.Random) -> str:
    """A made-up 9-digit number that passes the BSN 11-proef (fictional test data)."""
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        total = sum(digit * weight for digit, weight in zip(digits, range(9, 1, -1), strict=True))
        last = total % 11
        if last < 10 and (digits[0] != 0 or digits[1] != 0):
            return "".join(map(str, digits)) + str(last)


def make_hpgn(rng: random.Random) -> str:
    """A random 64-hex value shaped like an HPgn (no scrypt cost: for derivation tests)."""
    return rng.randbytes(32).hex()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20261122)


def database_url() -> str:
    """A DATABASE_URL for subprocesses that must share the test database (transactional tests)."""
    from django.db import connection

    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user, password = config.get("USER") or "", config.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = config.get("HOST") or "localhost"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{config['NAME']}"


def subprocess_env(keys: Path, **extra: str) -> dict[str, str]:
    """Environment for a `regie` subprocess on the test database and keys."""
    import os

    env = {key: value for key, value in os.environ.items() if not key.startswith("REGIE_")}
    env.update(
        DATABASE_URL=database_url(),
        REGIE_NV_KEYS_DIR=str(keys),
        REGIE_LOG_KEY_FILE=str(keys / "log-key"),
        REGIE_LOG_ORIGIN=LOG_ORIGIN,
        DJANGO_SETTINGS_MODULE="regie.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_session_to_end(application_name: str) -> None:
    """On PostgreSQL, wait until the database session of a killed ``regie`` process has ended
    (its transaction rolled back once the server noticed the closed socket). The process named
    its session through libpq's ``PGAPPNAME``: only that one is waited for."""
    import time

    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 60
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = %s",
                [application_name],
            )
            row = cursor.fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.1)
    raise AssertionError(f"the killed process's database session ({application_name}) did not end")


def kill_at(
    command: list[str], env: dict[str, str], marker: str, application_name: str
) -> tuple[int, str]:
    """Run ``command`` with its database session named ``application_name`` and kill it with
    SIGKILL as soon as a line of its output holds ``marker``. Returns its exit status and its
    output up to then, once its database session has ended (:func:`wait_for_session_to_end`)."""
    import signal

    doomed = subprocess.Popen(
        command,
        env={**env, "PGAPPNAME": application_name},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    try:
        for line in doomed.stdout or ():
            seen.append(line)
            if marker in line:
                doomed.send_signal(signal.SIGKILL)
                break
        doomed.wait(60)
    finally:
        doomed.kill()
    wait_for_session_to_end(application_name)
    return doomed.returncode, "".join(seen)


def regie_command(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "regie", *args]


def start_server(
    keys: Path, log: Path, *args: str, role: str = "all", **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """``regie serve --role ROLE`` on a free port, output in ``log``; returns it once healthy."""
    import time

    import httpx

    port = free_port()
    with log.open("wb") as handle:
        process = subprocess.Popen(
            regie_command("serve", "--role", role, "--port", str(port), *args),
            env=subprocess_env(keys, **env),
            stdout=handle,
            stderr=handle,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"server did not start: {log.read_text()}")


@pytest.fixture
def admin_client(client: HttpClient, admin_user: User) -> HttpClient:
    """pytest-django's client of a superuser, past the second step of logging in (as after
    typing the code of their authenticator app)."""
    from regie.logins import verify_second_factor

    client.force_login(admin_user)
    verify_second_factor(client, admin_user)
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: LazySettings) -> None:
    """Logins in tests need no brute-force resistance (and PBKDF2 costs ~0.3 s per user)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def worker() -> Iterator[None]:
    """The batch worker loop in a thread, as ``regie serve`` runs it in-process."""
    stop = threading.Event()

    def work() -> None:
        try:
            nv_services.run_worker(stop, worker_id="test-worker", idle_seconds=0.02)
        finally:
            connection.close()

    thread = threading.Thread(target=work, name="test-worker", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)
