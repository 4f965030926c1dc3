"""Full SSO launches per second (authorize → code → token → userinfo) ÷ node's oidc-provider.

A launch is what a pupil's click on a tile costs the provider: the authorization request with a
logged-in session (its own PKCE verifier, state and nonce) answered by a redirect with a code,
the code exchanged at the token endpoint (``client_secret_basic``, the verifier; an ES256 ID
token back), and userinfo with the access token. The client checks the state, the nonce in the
ID token and that the ID token's ``sub`` is userinfo's; one ID token per provider is verified
against its JWKS.

regie is deployed as in production, in subprocesses: a fresh database (SQLite in a temporary
``REGIE_VAR_DIR``, or ``DATABASE_URL`` when set), ``regie migrate``, ``regie nv-keys generate``,
``regie oidc-keys ensure``, ``regie nv-client register`` for the hub's API key; the number service
alone on ``regie serve --role nummervoorziening`` and, one per core, ``regie serve --role hub``
processes (waitress, threaded) on one database, the benchmark's own round-robin spreading every
request over their ports. The fictional data come from a child (``python -m benchmarks.sso
--setup``) through the register's test helpers: a board, a school whose group has 200 pupils
with ECK iDs, a supplier with an active agreement for a product licensed for the group, pupil
logins (``create_pupil_login``; their passwords hashed with Django's fast MD5 hasher only to save
setup time, the timed part never checks one) with a session each written to the session store as
``django.contrib.auth.login`` does, and an OAuth client (``register_client``, the secret hashed as
in production); the child hands the client's secret and the session keys to the benchmark in a
file only its user can read (mode 0600), never on stdout or a command line. Every benchmark
client is its own pupil session. One untimed launch per session
before the timed part obtains each pupil's supplier pseudonym from the number service once (it
is kept in ``SupplierPseudonym``), so the timed part measures the hub, not the number service.

The peer, in the same run with the same clients and concurrency: node's ``oidc-provider``
(``benchmarks/oidc_peer``, installed with ``npm ci``), one client alike (the same redirect URI,
``client_secret_basic``, PKCE required, ES256 ID tokens), its in-memory adapter, a fixed account,
and a grant for ``openid`` so that a session launches without consent; the session comes from the
untimed launch through a login endpoint that finishes the interaction at once. One node process
per core; as an in-memory adapter cannot be shared, each benchmark client stays with one process
(node's cluster module would spread one client's requests over workers that do not know its
session).

Reported per concurrency level (8, 32, 64 clients, 15 s each): launches/s, p50/p99 of a launch and
of each step, CPU seconds per launch of the provider's processes and of the benchmark client
(which shares the machine), the ratio regie ÷ oidc-provider and the aims (≥ 1.0, ≥ 500/s); a
short cProfile of the hub's three steps in-process (``--profile``); and, in-process, the time to
sign an ID token with ES256 and with RS256 (joserfc). ``REGIE_BENCH_PROFILE=FILE`` keeps the
profile's statistics. Standalone: ``python -m benchmarks.sso``.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import http.client
import json
import os
import pstats
import random
import resource
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from regie.lib.logging import configure_logging

# REGIE_BENCH_SSO_LEVELS ("8,32") and REGIE_BENCH_SSO_SECONDS shorten a run while exploring;
# the documented figures come from the defaults.
CONCURRENCY = tuple(int(n) for n in os.environ.get("REGIE_BENCH_SSO_LEVELS", "8,32,64").split(","))
ROUND_SECONDS = float(os.environ.get("REGIE_BENCH_SSO_SECONDS", "15"))
PUPILS = 200
REDIRECT = "https://app.rekenwereld.example/callback"
HUB_OIN = "00000001000000000077"
AIM_RATE = 500.0
AIM_RATIO = 1.0
TIME_LIMIT_SECONDS = 480.0
PROFILE_LAUNCHES = 12
ROOT = Path(__file__).resolve().parent.parent
PEER = Path(__file__).resolve().parent / "oidc_peer"
REGIE = str(Path(sys.executable).with_name("regie"))
SESSION_COOKIE = "sessionid"


class Aborted(Exception):
    pass


class LaunchFailed(Exception):
    pass


def _fmt(number: float) -> str:
    return f"{number:,.0f}".replace(",", " ")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --- a lean HTTP client: one keep-alive connection per port, cookies by name ---------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


class Session:
    """One browser-like client: its cookies (by name; every server here is 127.0.0.1) and a
    connection per port. ``http.client`` rather than httpx: the client shares the machine, and
    its CPU per request is what it takes from the servers."""

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


# --- the flow ------------------------------------------------------------------------------------


@dataclass
class Provider:
    """One OpenID provider under test: its endpoints' paths, client, ports and processes."""

    name: str
    ports: list[int]
    authorize_path: str
    token_path: str
    userinfo_path: str
    jwks_path: str
    client_id: str
    secret: str
    round_robin: bool  # regie: every request to the next port; the peer: a client keeps one
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def basic(self) -> str:
        pair = f"{self.client_id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass
class Launch:
    authorize: float
    token: float
    userinfo: float
    id_token: str = ""

    @property
    def total(self) -> float:
        return self.authorize + self.token + self.userinfo


class Client:
    """A benchmark client: one pupil's session against one provider."""

    def __init__(self, provider: Provider, number: int, session: Session) -> None:
        self.provider = provider
        self.number = number
        self.session = session
        self.requests = number

    def port(self) -> int:
        ports = self.provider.ports
        if not self.provider.round_robin:
            return ports[self.number % len(ports)]
        self.requests += 1
        return ports[self.requests % len(ports)]

    def launch(self, login_hint: str = "") -> Launch:
        provider = self.provider
        verifier = secrets.token_urlsafe(48)
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        parameters = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid",
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
        if login_hint:
            parameters["login_hint"] = login_hint
        started = time.perf_counter()
        location = self._authorize(f"{provider.authorize_path}?{urlencode(parameters)}")
        query = parse_qs(urlsplit(location).query)
        if query.get("state") != [state] or "code" not in query:
            raise LaunchFailed(f"authorize: no code for this state ({sorted(query)})")
        authorized = time.perf_counter()
        answer = self.session.request(
            self.port(),
            "POST",
            provider.token_path,
            urlencode(
                {
                    "grant_type": "authorization_code",
                    "code": query["code"][0],
                    "redirect_uri": REDIRECT,
                    "code_verifier": verifier,
                }
            ),
            {"Authorization": provider.basic()},
        )
        if answer.status != 200:
            raise LaunchFailed(f"token: {answer.status} {answer.body[:200]!r}")
        tokens = answer.json()
        exchanged = time.perf_counter()
        answer = self.session.request(
            self.port(),
            "GET",
            provider.userinfo_path,
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        if answer.status != 200:
            raise LaunchFailed(f"userinfo: {answer.status} {answer.body[:200]!r}")
        finished = time.perf_counter()
        payload = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
        if payload.get("nonce") != nonce or payload.get("sub") != answer.json().get("sub"):
            raise LaunchFailed("the ID token's nonce or sub is not this launch's")
        return Launch(
            authorized - started, exchanged - authorized, finished - exchanged, tokens["id_token"]
        )

    def _authorize(self, path: str) -> str:
        """The redirect to the client's redirect URI, following the provider's own redirects
        (the peer's login interaction, in the untimed launch)."""
        for _ in range(6):
            answer = self.session.request(self.port(), "GET", path)
            location = answer.headers.get("location", "")
            if answer.status not in (302, 303) or not location:
                raise LaunchFailed(f"authorize: {answer.status} {answer.body[:200]!r}")
            if location.startswith(REDIRECT):
                return location
            parts = urlsplit(location)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        raise LaunchFailed("authorize: too many redirects")


@dataclass
class Round:
    provider: str
    concurrency: int
    launches: list[Launch]
    failures: int
    first_failure: str
    wall: float
    server_cpu: float
    client_cpu: float
    other_cpu: float = 0.0  # regie: the number service during the round
    load: float = 0.0  # the machine's 1-minute load average as the round began

    @property
    def rate(self) -> float:
        return len(self.launches) / self.wall if self.wall else 0.0

    def per_launch(self, seconds: float) -> float:
        return seconds / len(self.launches) if self.launches else float("nan")


def _percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_round(
    provider: Provider,
    clients: list[Client],
    seconds: float,
    stop: threading.Event,
    others: Sequence[subprocess.Popen[bytes]] = (),
) -> Round:
    """Every client launches again and again for ``seconds``; launches begun are finished."""
    results: list[list[Launch]] = [[] for _ in clients]
    failures: list[str] = []
    before = [cpu_seconds(process.pid) for process in provider.processes]
    other_before = [cpu_seconds(process.pid) for process in others]
    own_before = _own_cpu_seconds()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    deadline = started + seconds

    def loop(client: Client, into: list[Launch]) -> None:
        while time.perf_counter() < deadline and not stop.is_set():
            try:
                into.append(client.launch())
            except (LaunchFailed, OSError, http.client.HTTPException, ValueError) as error:
                failures.append(f"{type(error).__name__}: {error}")

    threads = [
        threading.Thread(target=loop, args=(client, into), daemon=True)
        for client, into in zip(clients, results, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if stop.is_set():
        raise Aborted
    return Round(
        provider=provider.name,
        concurrency=len(clients),
        launches=[launch for into in results for launch in into],
        failures=len(failures),
        first_failure=failures[0] if failures else "",
        wall=wall,
        server_cpu=sum(
            cpu_seconds(process.pid) - was
            for process, was in zip(provider.processes, before, strict=True)
        ),
        client_cpu=_own_cpu_seconds() - own_before,
        other_cpu=sum(
            cpu_seconds(process.pid) - was
            for process, was in zip(others, other_before, strict=True)
        ),
        load=load,
    )


def warm_up(clients: list[Client], hints: bool) -> list[Launch]:
    """One untimed launch per client, eight at a time (sessions, pseudonyms, connections)."""
    launches: list[Launch | None] = [None] * len(clients)
    errors: list[str] = []

    def one(index: int) -> None:
        try:
            hint = f"leerling-{index:03d}" if hints else ""
            launches[index] = clients[index].launch(login_hint=hint)
        except (LaunchFailed, OSError, http.client.HTTPException, ValueError) as error:
            errors.append(f"{type(error).__name__}: {error}")

    for first in range(0, len(clients), 8):
        threads = [
            threading.Thread(target=one, args=(index,))
            for index in range(first, min(first + 8, len(clients)))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if errors:
        raise RuntimeError(f"warm-up of {clients[0].provider.name}: {errors[0]}")
    return [launch for launch in launches if launch is not None]


def verified_alg(provider: Provider, id_token: str) -> str:
    """Verify one ID token against the provider's JWKS; its algorithm."""
    answer = Session().request(provider.ports[0], "GET", provider.jwks_path)
    keyset = KeySet.import_key_set(answer.json())  # type: ignore[arg-type]
    token = jwt.decode(id_token, keyset, algorithms=["ES256", "RS256"])
    alg: str = token.header["alg"]
    return alg


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
        completed = subprocess.run(
            [REGIE, *arguments], env=self.env, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"`regie {arguments[0]}` failed: {completed.stderr.strip()[-2000:]}")
        return completed.stdout

    def child(self, *arguments: str, extra: dict[str, str] | None = None) -> str:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.sso", *arguments],
            env={**self.env, **(extra or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"{arguments[0]} failed: {completed.stderr.strip()[-2000:]}")
        return completed.stdout

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


def _stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(
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


def _api_key(hub: Hub) -> str:
    try:
        output = hub.command(
            "nv-client", "register", "--oin", HUB_OIN, "--name", "regie-hub (benchmark, fictief)"
        )
    except RuntimeError as error:  # a reused DATABASE_URL: the client is there from a last run
        if "already registered" not in str(error):
            raise
        output = hub.command("nv-client", "new-key", "--oin", HUB_OIN)
    for line in output.splitlines():
        if "API key" in line:
            return line.rsplit(" ", 1)[-1].strip()
    raise RuntimeError("`regie nv-client` printed no API key")


def deploy_hub(directory: Path, servers: int) -> tuple[Hub, dict[str, Any]]:
    hub_ports = [_free_port() for _ in range(servers)]
    nv_port = _free_port()
    env = dict(os.environ)
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
    hub.env["REGIE_NV_API_KEY"] = _api_key(hub)
    handoff = directory / "setup.json"  # the setup child's client secret and sessions, 0600
    hub.env["REGIE_BENCH_HANDOFF"] = str(handoff)
    hub.child("--setup")
    created = json.loads(handoff.read_text(encoding="utf-8"))
    hub.number_service = hub.start("nummervoorziening", nv_port, "number-service")
    for number, port in enumerate(hub_ports, 1):
        hub.processes.append(hub.start("hub", port, f"hub-{number}"))
    _wait_until_up([nv_port, *hub_ports], "/healthz", hub.all_processes())
    return hub, created


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
    ports = [_free_port() for _ in range(servers)]
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
    _wait_until_up(ports, "/.well-known/openid-configuration", provider.processes)
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


# --- the children: setup and profile (Django in-process) -----------------------------------------


def _setup_child() -> None:
    """Create the fictional school, supplier, logins, sessions and client; print them as JSON."""
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.test.utils import override_settings

    from regie.accounts.services import create_pupil_login
    from regie.agreements import services as register
    from regie.agreements.tests.register import (
        license_group,
        load_school,
        make_agreement,
        make_product,
        make_supplier,
    )
    from regie.gateway.services import register_client
    from regie.roster.models import Group
    from regie.roster.tests.exports import make_board

    rng = random.Random(5)
    run = secrets.token_hex(3)  # a reused DATABASE_URL keeps the last run's rows
    letters = "".join(secrets.choice(string.ascii_uppercase) for _ in range(2))
    board = make_board(f"{secrets.randbelow(90000) + 10000}", "Stichting Benchmark (fictief)")
    school = load_school(board, rng, f"99{letters}", f"B{run}", pupils=PUPILS)
    group = Group.objects.get(school=school, las_key=f"B{run}-G5")
    supplier = make_supplier("Rekenwereld B.V. (fictief)", f"99{secrets.randbelow(10**6):06d}")
    product = make_product(supplier, "Rekenwereld")
    make_agreement(board, supplier, [product])
    license_group(product, group)
    register.set_switch(school, product, "groups", True, user=None)
    engine = import_module(settings.SESSION_ENGINE)
    sessions = []
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=fast):
        for number, student in enumerate(group.students.order_by("pk")[: max(CONCURRENCY)]):
            user = create_pupil_login(student, f"bench-{run}-{number:03d}", secrets.token_hex(8))
            store = engine.SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.save()
            sessions.append(store.session_key)
    client, secret = register_client(
        supplier,
        name="Rekenwereld (benchmark)",
        product=product,
        redirect_uris=[REDIRECT],
        auth_method="client_secret_basic",
    )
    # For the parent (and the profile child): in a file only this user can read, not on stdout.
    descriptor = os.open(
        os.environ["REGIE_BENCH_HANDOFF"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
    )
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"client_id": client.client_id, "secret": secret, "sessions": sessions}, handle)


def _handoff() -> dict[str, Any]:
    created: dict[str, Any] = json.loads(
        Path(os.environ["REGIE_BENCH_HANDOFF"]).read_text(encoding="utf-8")
    )
    return created


PROFILED = (
    ("regie/gateway/models.py", "check_client_secret", "client secret check"),
    ("regie/gateway/keys.py", "load", "signing keys loaded (cached per key directory)"),
    ("joserfc/jwt.py", "encode", "ID token signed (ES256)"),
    ("regie/agreements/policy.py", "decide", "release policy decided"),
    ("regie/audit/services.py", "record", "audit events written"),
)


def _profile_child(client_id: str, secret: str, session_key: str) -> None:
    """A few launches through Django's test client under cProfile; print where the time goes."""
    import django

    django.setup()
    from django.test import Client as DjangoClient

    browser = DjangoClient(HTTP_HOST="127.0.0.1")
    browser.cookies[SESSION_COOKIE] = session_key
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    steps = {"authorize": 0.0, "token": 0.0, "userinfo": 0.0}
    profile = cProfile.Profile()

    profiling = False  # the first launch imports the URL configuration and the APIs: not timed

    def timed(step: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not profiling:
            return call(*args, **kwargs)
        started = time.perf_counter()
        profile.enable()
        try:
            return call(*args, **kwargs)
        finally:
            profile.disable()
            steps[step] += time.perf_counter() - started

    def launch() -> None:
        verifier = secrets.token_urlsafe(48)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": REDIRECT,
                "scope": "openid",
                "state": secrets.token_urlsafe(8),
                "nonce": secrets.token_urlsafe(8),
                "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
                "code_challenge_method": "S256",
            }
        )
        answer = timed("authorize", browser.get, f"/oidc/authorize?{query}")
        code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        answer = timed("token", browser.post, "/oidc/token", form, HTTP_AUTHORIZATION=basic)
        bearer = f"Bearer {answer.json()['access_token']}"
        timed("userinfo", browser.get, "/oidc/userinfo", HTTP_AUTHORIZATION=bearer)

    launch()
    profiling = True
    for _ in range(PROFILE_LAUNCHES):
        launch()
    if os.environ.get("REGIE_BENCH_PROFILE"):
        profile.dump_stats(os.environ["REGIE_BENCH_PROFILE"])
    stats = pstats.Stats(profile)
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    parts = {}
    for suffix, function, label in PROFILED:
        cumulative = sum(
            entry[3]
            for (filename, _, name), entry in table.items()
            if name == function and filename.endswith(suffix)
        )
        parts[label] = cumulative / PROFILE_LAUNCHES
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    print(
        json.dumps(
            {
                "hasher": f"{hasher.algorithm}, {getattr(hasher, 'iterations', '?')} iterations",
                "launches": PROFILE_LAUNCHES,
                "steps": {step: total / PROFILE_LAUNCHES for step, total in steps.items()},
                "parts": parts,
            }
        )
    )


# --- ES256 vs RS256 ------------------------------------------------------------------------------


def signing_rates() -> list[tuple[str, float, float, float]]:
    """Per algorithm: signs/s, verifications/s and private-key imports/s (best of 5 × 0.2 s)."""
    now = int(time.time())
    claims = {
        "iss": "http://127.0.0.1:8000/oidc",
        "aud": "regie-0123456789abcdef",
        "sub": "https://nummervoorziening.regie.example/lp/" + "ab" * 64,
        "iat": now,
        "exp": now + 600,
        "nonce": "n-0S6_WzA2Mj",
        "groups": ["Groep 5", "Plusklas"],
    }
    results = []
    for alg, key in (
        ("ES256", ECKey.generate_key("P-256")),
        ("RS256", RSAKey.generate_key(2048)),
    ):
        header = {"alg": alg, "kid": "k", "typ": "JWT"}
        token = jwt.encode(header, claims, key, [alg])
        private = key.as_dict(private=True)
        importer = ECKey.import_key if alg == "ES256" else RSAKey.import_key
        results.append(
            (
                alg,
                _best_rate(lambda: jwt.encode(header, claims, key, [alg])),  # noqa: B023
                _best_rate(lambda: jwt.decode(token, key, [alg])),  # noqa: B023
                _best_rate(lambda: importer(private)),  # noqa: B023
            )
        )
    return results


def _best_rate(call: Callable[[], Any]) -> float:
    best = 0.0
    for _ in range(5):
        count = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < 0.2:
            call()
            count += 1
        best = max(best, count / elapsed)
    return best


# --- run -----------------------------------------------------------------------------------------


@dataclass
class Contender:
    provider: Provider
    clients: list[Client]
    alg: str
    others: Sequence[subprocess.Popen[bytes]] = ()
    rounds: list[Round] = field(default_factory=list)


def contender(
    provider: Provider,
    sessions: list[Session],
    hints: bool,
    others: Sequence[subprocess.Popen[bytes]] = (),
) -> Contender:
    """The provider's clients after their untimed launch, and its verified ID-token algorithm."""
    clients = [Client(provider, number, session) for number, session in enumerate(sessions)]
    launches = warm_up(clients, hints)
    return Contender(provider, clients, verified_alg(provider, launches[0].id_token), others)


def interleaved(contenders: list[Contender], stop: threading.Event) -> None:
    """Per concurrency level one round of each, one after the other: this machine is shared, so
    the providers meet its other load as nearly alike as possible."""
    for concurrency in CONCURRENCY:
        for entry in contenders:
            print(f"  {entry.provider.name}: {concurrency} concurrent clients …", flush=True)
            entry.rounds.append(
                run_round(
                    entry.provider, entry.clients[:concurrency], ROUND_SECONDS, stop, entry.others
                )
            )


def run() -> str:
    servers = os.cpu_count() or 1
    directory = Path(tempfile.mkdtemp(prefix="regie-bench-sso-"))
    stop = threading.Event()
    running: list[subprocess.Popen[bytes]] = []

    def abort() -> None:
        stop.set()
        _stop(running)

    watchdog = threading.Timer(TIME_LIMIT_SECONDS, abort)
    watchdog.daemon = True
    watchdog.start()
    peer: Contender | None = None
    peer_note = ""
    try:
        print(f"  deploying regie ({servers} hub processes + the number service) …", flush=True)
        hub, created = deploy_hub(directory, servers)
        running += hub.all_processes()
        provider = Provider(
            name="regie",
            ports=hub.hub_ports,
            authorize_path="/oidc/authorize",
            token_path="/oidc/token",  # noqa: S106 (a URL path)
            userinfo_path="/oidc/userinfo",
            jwks_path="/oidc/jwks",
            client_id=created["client_id"],
            secret=created["secret"],
            round_robin=True,
            processes=hub.processes,
        )
        sessions = [Session({SESSION_COOKIE: key}) for key in created["sessions"]]
        nv = [process for process in [hub.number_service] if process is not None]
        regie = contender(provider, sessions, False, nv)
        print(f"  deploying oidc-provider ({servers} node processes) …", flush=True)
        deployed = deploy_peer(directory, servers, created["client_id"], created["secret"])
        if isinstance(deployed, str):
            peer_note = deployed
        else:
            running += deployed.processes
            peer = contender(deployed, [Session() for _ in sessions], True)
        interleaved([regie] if peer is None else [regie, peer], stop)
        print("  profiling the hub in-process …", flush=True)
        profile = json.loads(
            hub.child("--profile", extra={"REGIE_ROLE": "hub"}).strip().splitlines()[-1]
        )
        _stop(running)
        signing = signing_rates()
    except Aborted:
        return _failure_section(f"aborted after {TIME_LIMIT_SECONDS:.0f} s", directory)
    except Exception as error:  # a benchmark reports, it does not crash the run
        if stop.is_set():
            return _failure_section(f"aborted after {TIME_LIMIT_SECONDS:.0f} s", directory)
        return _failure_section(f"{type(error).__name__}: {error}", directory)
    finally:
        watchdog.cancel()
        _stop(running)
        shutil.rmtree(directory, ignore_errors=True)
    return _section(servers, regie, peer, peer_note, profile, signing)


def _failure_section(reason: str, directory: Path) -> str:
    logs = []
    for log in sorted(directory.glob("*.log")):
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        if tail:
            logs += [f"{log.name}:", *(f"    {line}" for line in tail)]
    lines = ["## Single sign-on launches", "", f"**Not completed**: {reason}", ""]
    if logs:
        lines += ["```", *logs, "```", ""]
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds == seconds else "–"


def _summary_row(round_: Round) -> str:
    totals = [launch.total for launch in round_.launches]
    failed = f"{round_.failures}" + (f" ({round_.first_failure[:80]})" if round_.failures else "")
    return (
        f"| {round_.provider} | {round_.concurrency} | {len(round_.launches)} | "
        f"**{round_.rate:,.1f}** | {_ms(_percentile(totals, 0.5))} | "
        f"{_ms(_percentile(totals, 0.99))} | {_ms(round_.per_launch(round_.server_cpu))} | "
        f"{_ms(round_.per_launch(round_.client_cpu))} | {round_.load:.1f} | {failed} |"
    )


def _steps_row(round_: Round) -> str:
    cells = []
    for step in ("authorize", "token", "userinfo"):
        values = [getattr(launch, step) for launch in round_.launches]
        cells.append(f"{_ms(_percentile(values, 0.5))} / {_ms(_percentile(values, 0.99))}")
    return f"| {round_.provider} | {round_.concurrency} | " + " | ".join(cells) + " |"


def _section(
    servers: int,
    regie: Contender,
    peer: Contender | None,
    peer_note: str,
    profile: dict[str, Any],
    signing: list[tuple[str, float, float, float]],
) -> str:
    regie_rounds, regie_alg = regie.rounds, regie.alg
    peer_rounds, peer_alg = (peer.rounds, peer.alg) if peer else ([], "")
    cores = os.cpu_count() or 1
    database = "PostgreSQL (`DATABASE_URL`)" if os.environ.get("DATABASE_URL") else "SQLite (WAL)"
    threads = os.environ.get("REGIE_SERVER_THREADS", "16")
    peer_text = (
        f"node's `oidc-provider` {peer_version()} (node {node_version()}), {servers} node "
        f"process{'es' if servers != 1 else ''}, each benchmark client staying with one "
        "(its in-memory adapter is per process)"
        if peer_rounds
        else f"node's `oidc-provider`: **not run** ({peer_note})"
    )
    lines = [
        "## Single sign-on launches",
        "",
        "A launch: the authorization request with a logged-in pupil session (each client its own "
        "pupil, PKCE verifier, state and nonce) → code → token (`client_secret_basic`, an "
        f"{regie_alg} ID token) → userinfo. regie as in production: {servers} `regie serve "
        f"--role hub` process{'es' if servers != 1 else ''} (one per core; waitress, {threads} "
        "threads each) on one database, the benchmark's own round-robin sending every request to "
        "the next port, and the number service on its own `regie serve --role nummervoorziening` "
        f"process; {database}. Each pupil's supplier pseudonym was obtained once before the timed "
        f"part. The peer in the same run: {peer_text}. {ROUND_SECONDS:.0f} s per level, launches "
        f"begun are finished; the client (Python threads, `http.client`) shares the {cores} "
        "cores. Aim: ≥ 1.0 × oidc-provider and ≥ 500 launches/s.",
        "",
        "| provider | clients | launches | launches/s | p50 launch | p99 launch | "
        "server CPU / launch | client CPU / launch | load | failed |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        *(_summary_row(round_) for round_ in regie_rounds + peer_rounds),
        "",
        "p50 / p99 of each step:",
        "",
        "| provider | clients | authorize → code | token | userinfo |",
        "|---|--:|--:|--:|--:|",
        *(_steps_row(round_) for round_ in regie_rounds + peer_rounds),
        "",
    ]
    if peer_rounds:
        lines += [
            "| clients | regie launches/s | oidc-provider launches/s | **regie ÷ oidc-provider** "
            "| the same in server CPU per launch (oidc-provider's ÷ regie's) |",
            "|--:|--:|--:|--:|--:|",
        ]
        for mine, theirs in zip(regie_rounds, peer_rounds, strict=True):
            ratio = mine.rate / theirs.rate if theirs.rate else float("nan")
            mine_cpu = mine.per_launch(mine.server_cpu)
            cpu_ratio = theirs.per_launch(theirs.server_cpu) / mine_cpu if mine_cpu else 0.0
            lines.append(
                f"| {mine.concurrency} | {mine.rate:,.1f} | {theirs.rate:,.1f} | **{ratio:.3f}** "
                f"| {cpu_ratio:.3f} |"
            )
        lines.append("")
    best = max(regie_rounds, key=lambda round_: round_.rate)
    best_peer = max(peer_rounds, key=lambda round_: round_.rate) if peer_rounds else None
    ratio = best.rate / best_peer.rate if best_peer and best_peer.rate else float("nan")
    verdict = [
        f"≥ 500 launches/s: **{'met' if best.rate >= AIM_RATE else 'not met'}** "
        f"(best {best.rate:,.1f}/s at {best.concurrency} clients)",
    ]
    if best_peer is not None:
        verdict.append(
            f"≥ 1.0 × oidc-provider: **{'met' if ratio >= AIM_RATIO else 'not met'}** "
            f"(best against best: {ratio:.3f}; oidc-provider {best_peer.rate:,.1f}/s, ID tokens "
            f"{peer_alg})"
        )
    server_cpu = best.per_launch(best.server_cpu)
    other_cpu = sum(round_.other_cpu for round_ in regie_rounds)
    lines += [
        "Aims: " + "; ".join(verdict) + ".",
        "",
        f"With {_ms(server_cpu)} of hub CPU per launch, {cores} cores can do at most "
        f"{cores / server_cpu:,.1f} launches/s even with nothing else running. The number "
        f"service used {other_cpu:.2f} s of CPU during all timed rounds together (the pseudonyms "
        "came from `SupplierPseudonym`).",
        "",
        f"Where the hub's time goes (cProfile, {profile['launches']} launches in one process "
        "through Django's test client, the same database; per launch; the profiler slows "
        "Python code, so read the parts as proportions):",
        "",
        "| step or part | time per launch |",
        "|---|--:|",
        *(f"| {step} | {_ms(seconds)} |" for step, seconds in profile["steps"].items()),
        *(
            f"| — of which {label} | {_ms(seconds)} |"
            for label, seconds in profile["parts"].items()
        ),
        "",
        _explained(profile),
        "",
        "Signing an ID token in-process (joserfc; ES256 on P-256, RS256 with 2048-bit RSA; best "
        "of 5 × 0.2 s):",
        "",
        "| algorithm | signs/s | per sign | verifications/s | private-key imports/s |",
        "|---|--:|--:|--:|--:|",
        *(
            f"| {alg} | {_fmt(signs)} | {1e6 / signs:,.0f} µs | {_fmt(verifies)} | "
            f"{_fmt(imports)} |"
            for alg, signs, verifies, imports in signing
        ),
        "",
    ]
    rates = {alg: signs for alg, signs, _, _ in signing}
    if "ES256" in rates and "RS256" in rates:
        lines += [
            f"RS256 takes {rates['ES256'] / rates['RS256']:.1f}× as long as ES256 to sign.",
            "",
        ]
    return "\n".join(lines)


def _explained(profile: dict[str, Any]) -> str:
    """What the profile says, in words: the steps and the parts, largest first."""
    total = sum(profile["steps"].values())
    step, seconds = max(profile["steps"].items(), key=lambda item: item[1])
    parts = sorted(profile["parts"].items(), key=lambda item: item[1], reverse=True)
    named = ", ".join(f"{label} {seconds_ / total:.0%}" for label, seconds_ in parts)
    return (
        f"The {step} step takes {seconds / total:.0%} of a launch. Of a launch: {named}; the "
        "rest is Django's request handling, the session, the database and Authlib. The server "
        "is not changed by this benchmark; these are the places to look."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    configure_logging(level="WARNING")
    if options.setup:
        _setup_child()
    elif options.profile:
        created = _handoff()
        _profile_child(created["client_id"], created["secret"], created["sessions"][0])
    else:
        print(run())


if __name__ == "__main__":
    main()
