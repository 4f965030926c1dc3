"""The client side of a launch: a lean HTTP client, the flow, rounds of concurrent launches."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet

from ..serving import Session, cpu_seconds
from .common import (
    CONCURRENCY,
    REDIRECT,
    ROUND_SECONDS,
    Aborted,
    LaunchFailed,
    b64url,
    own_cpu_seconds,
)

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
            "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
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


def percentile(values: Sequence[float], share: float) -> float:
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
    own_before = own_cpu_seconds()
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
        client_cpu=own_cpu_seconds() - own_before,
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
