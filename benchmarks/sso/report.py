"""The Markdown section of docs/performance.md."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..serving import hub_threads, server_name
from .common import (
    AIM_CPU,
    AIM_MOONSHOT,
    AIM_P99,
    AIM_P99_CLIENTS,
    AIM_RATIO,
    ROUND_SECONDS,
    fmt,
)
from .deploy import node_version, peer_version
from .flow import Contender, Round, percentile


def failure_section(reason: str, directory: Path) -> str:
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
        f"**{round_.rate:,.1f}** | {_ms(percentile(totals, 0.5))} | "
        f"{_ms(percentile(totals, 0.99))} | {_ms(round_.per_launch(round_.server_cpu))} | "
        f"{_ms(round_.per_launch(round_.client_cpu))} | {round_.load:.1f} | {failed} |"
    )


def _steps_row(round_: Round) -> str:
    cells = []
    for step in ("authorize", "token", "userinfo"):
        values = [getattr(launch, step) for launch in round_.launches]
        cells.append(f"{_ms(percentile(values, 0.5))} / {_ms(percentile(values, 0.99))}")
    return f"| {round_.provider} | {round_.concurrency} | " + " | ".join(cells) + " |"


def _verdict(rounds: list[Round], peer_rounds: list[Round]) -> str:
    """The issue's aims for one database: the ratio to oidc-provider, the hub's CPU per launch,
    and p99 at 32 clients."""
    best = max(rounds, key=lambda round_: round_.rate)
    name = best.provider
    parts = []
    if peer_rounds:
        best_peer = max(peer_rounds, key=lambda round_: round_.rate)
        ratio = best.rate / best_peer.rate if best_peer.rate else float("nan")
        parts.append(
            f"≥ {AIM_RATIO} × oidc-provider: **{'met' if ratio >= AIM_RATIO else 'not met'}** "
            f"(best against best: {ratio:.3f}; {best.rate:,.1f} against {best_peer.rate:,.1f} "
            f"launches/s; the moonshot ≥ {AIM_MOONSHOT}: "
            f"{'met' if ratio >= AIM_MOONSHOT else 'not met'})"
        )
    cpu = min(round_.per_launch(round_.server_cpu) for round_ in rounds)
    parts.append(
        f"≤ {AIM_CPU * 1000:.0f} ms hub CPU per launch: "
        f"**{'met' if cpu <= AIM_CPU else 'not met'}** (least {_ms(cpu)})"
    )
    at = [round_ for round_ in rounds if round_.concurrency == AIM_P99_CLIENTS]
    if at:
        p99 = percentile([launch.total for launch in at[0].launches], 0.99)
        parts.append(
            f"p99 < {AIM_P99 * 1000:.0f} ms at {AIM_P99_CLIENTS} clients: "
            f"**{'met' if p99 < AIM_P99 else 'not met'}** ({_ms(p99)})"
        )
    return f"- {name}: " + "; ".join(parts) + "."


def section(
    servers: int,
    regies: list[Contender],
    peer: Contender | None,
    peer_note: str,
    postgres_note: str,
    profile: dict[str, Any],
    signing: list[tuple[str, float, float, float]],
) -> str:

    regie_rounds = [round_ for regie in regies for round_ in regie.rounds]
    regie_alg = regies[0].alg
    peer_rounds = peer.rounds if peer else []
    cores = os.cpu_count() or 1
    databases = " and ".join(regie.provider.name.removeprefix("regie (")[:-1] for regie in regies)
    if postgres_note:
        databases += f" (PostgreSQL not run: {postgres_note})"
    threads = hub_threads()
    server = server_name()
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
        f"--role hub` process{'es' if servers != 1 else ''} (one per core; {server}, {threads} "
        "threads each) on one database, the benchmark's own round-robin sending every request to "
        "the next port, and the number service on its own `regie serve --role nummervoorziening` "
        f"process; deployed twice, on {databases} (PostgreSQL: a throwaway local cluster, "
        "`fsync=off`, over TCP on 127.0.0.1; SQLite: WAL). Each pupil's supplier pseudonym was "
        "obtained once before the timed part. The peer in the same run: "
        f"{peer_text}. {ROUND_SECONDS:.0f} s per level, the contenders taking turns per level; "
        "launches begun are finished; the client (Python threads, `http.client`) shares the "
        f"{cores} cores. Aims: ≥ {AIM_RATIO} × oidc-provider's launches/s (the moonshot "
        f"≥ {AIM_MOONSHOT} ×) with ≤ {AIM_CPU * 1000:.0f} ms of hub CPU per launch, on both "
        f"databases; p99 under {AIM_P99 * 1000:.0f} ms at {AIM_P99_CLIENTS} clients.",
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
            "| provider | clients | launches/s | oidc-provider launches/s | "
            "**÷ oidc-provider** | the same in server CPU per launch (oidc-provider's ÷ regie's) |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for regie in regies:
            for mine, theirs in zip(regie.rounds, peer_rounds, strict=True):
                ratio = mine.rate / theirs.rate if theirs.rate else float("nan")
                mine_cpu = mine.per_launch(mine.server_cpu)
                cpu_ratio = theirs.per_launch(theirs.server_cpu) / mine_cpu if mine_cpu else 0.0
                lines.append(
                    f"| {mine.provider} | {mine.concurrency} | {mine.rate:,.1f} | "
                    f"{theirs.rate:,.1f} | **{ratio:.3f}** | {cpu_ratio:.3f} |"
                )
        lines.append("")
    other_cpu = sum(round_.other_cpu for round_ in regie_rounds)
    best_cpu = min(round_.per_launch(round_.server_cpu) for round_ in regie_rounds)
    lines += [
        "Aims:",
        "",
        *(_verdict(regie.rounds, peer_rounds) for regie in regies),
        "",
        f"With {_ms(best_cpu)} of hub CPU per launch (the least of any round), {cores} cores "
        f"can do at most {cores / best_cpu:,.1f} launches/s even with nothing else running. The "
        f"number service used {other_cpu:.2f} s of CPU during all timed rounds together (the "
        "pseudonyms came from `SupplierPseudonym`).",
        "",
        f"Where the hub's time goes (SQLite; cProfile, {profile['launches']} launches in one "
        "process through Django's test client, the same database; per launch; the profiler slows "
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
            f"| {alg} | {fmt(signs)} | {1e6 / signs:,.0f} µs | {fmt(verifies)} | {fmt(imports)} |"
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
