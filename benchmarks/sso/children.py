"""The children (Django in-process): the setup, the profile, and ES256 vs RS256 signing."""

from __future__ import annotations

import base64
import cProfile
import hashlib
import json
import os
import pstats
import random
import secrets
import string
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from ..serving import write_handoff
from .common import PROFILE_LAUNCHES, PUPILS, REDIRECT, SESSION_COOKIE, SESSIONS, b64url

# The backend a pupil's password login records in the session (the one before it, axes', only
# refuses locked-out logins and reads no user).
LOGIN_BACKEND = "regie.accounts.backends.AccountBackend"

# --- the children: setup and profile (Django in-process) -----------------------------------------


def setup_child() -> None:
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
        make_agreement,
        make_product,
        make_supplier,
    )
    from regie.gateway.services import register_client
    from regie.roster.models import Group
    from regie.roster.tests.exports import load_school, make_board

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
        for number, student in enumerate(group.students.order_by("pk")[:SESSIONS]):
            user = create_pupil_login(student, f"bench-{run}-{number:03d}", secrets.token_hex(8))
            store = engine.SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = LOGIN_BACKEND  # the one a password login records
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
    write_handoff({"client_id": client.client_id, "secret": secret, "sessions": sessions})


PROFILED = (
    ("regie/gateway/models.py", "check_client_secret", "client secret check"),
    ("regie/gateway/keys.py", "load", "signing keys loaded (cached per key directory)"),
    ("joserfc/jwt.py", "encode", "ID token signed (ES256)"),
    ("regie/agreements/policy.py", "decide", "release policy decided"),
    ("regie/audit/services.py", "record", "audit events written"),
    ("regie/lib/prepared.py", "_execute", "prepared questions asked (SQL run, rows converted)"),
    ("regie/lib/prepared.py", "__call__", "rows inserted (codes, tokens, audit events)"),
)
# Django's handling around the three views: the whole request less the views themselves.
AROUND = ("django/core/handlers/base.py", "get_response")
VIEWS = ("regie/gateway/views.py", ("authorize", "token", "userinfo"))


def profile_child(client_id: str, secret: str, session_key: str) -> None:
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
                "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
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
    whole = sum(
        entry[3]
        for (filename, _, name), entry in table.items()
        if name == AROUND[1] and filename.endswith(AROUND[0])
    )
    views = sum(
        entry[3]
        for (filename, _, name), entry in table.items()
        if name in VIEWS[1] and filename.endswith(VIEWS[0])
    )
    parts["Django around the views (middleware, session, routing, request and response)"] = (
        whole - views
    ) / PROFILE_LAUNCHES
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
