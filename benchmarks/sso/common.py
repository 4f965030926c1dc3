"""Constants and small helpers shared by the SSO benchmark's modules."""

from __future__ import annotations

import base64
import os
import resource
from pathlib import Path

# REGIE_BENCH_SSO_LEVELS ("8,32") and REGIE_BENCH_SSO_SECONDS shorten a run while exploring;
# the documented figures come from the defaults.
CONCURRENCY = tuple(int(n) for n in os.environ.get("REGIE_BENCH_SSO_LEVELS", "8,32,64").split(","))
ROUND_SECONDS = float(os.environ.get("REGIE_BENCH_SSO_SECONDS", "15"))
# REGIE_BENCH_SSO_SESSIONS: pupils with a session made by the setup child (the soak benchmark asks
# for thousands); the school has at least 200 pupils.
SESSIONS = int(os.environ.get("REGIE_BENCH_SSO_SESSIONS", str(max(CONCURRENCY))))
PUPILS = max(200, SESSIONS)
REDIRECT = "https://app.rekenwereld.example/callback"
# The aims (issue 18): launches/s at least half of oidc-provider's (the moonshot: as many), at
# most 4 ms of the hub's CPU per launch, on SQLite and on PostgreSQL; p99 under 100 ms at 32
# clients.
AIM_RATIO = 0.5
AIM_MOONSHOT = 1.0
AIM_CPU = 0.004
AIM_P99 = 0.100
AIM_P99_CLIENTS = 32
TIME_LIMIT_SECONDS = 1200.0
PROFILE_LAUNCHES = 12
PEER = Path(__file__).resolve().parents[1] / "oidc_peer"
SESSION_COOKIE = "sessionid"


class Aborted(Exception):
    pass


class LaunchFailed(Exception):
    pass


def fmt(number: float) -> str:
    return f"{number:,.0f}".replace(",", " ")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
