"""The OneRoster benchmark's section of ``docs/performance.md``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..serving import server_name
from .common import AIM_MS, GROUPS, PROFILED_REQUESTS, PUPILS, REPETITIONS, REQUESTS, ROSTER, ms


def section(results: list[dict[str, Any]], failures: list[str], postgres: str) -> str:
    lines = [
        "## OneRoster: all users of a 1 000-pupil school",
        "",
        f"`GET {ROSTER}/users?limit=1000` for a fictional school of {PUPILS} pupils (ECK iDs) "
        f"in {GROUPS} groups with a teacher each, every group licensed for the supplier's "
        "product, the agreement releasing the supplier pseudonym, school, groups and year level. "
        f"One `regie serve --role hub` process ({server_name()}), the number service in its own "
        "process, "
        "the benchmark the only client: one keep-alive connection, one request at a time, so a "
        "request's time is the hub's time plus a loopback round trip. The pupils' pseudonyms "
        "were obtained by the first request (timed apart) and are kept in `SupplierPseudonym`. "
        f"{REPETITIONS} rounds of `users`, `students`, `enrollments` and `/healthz` (the HTTP "
        "stack alone). Reference, in a child process on the same database: a plain `SELECT` of "
        f"the school's {PUPILS} `Student` rows plus `json.dumps` of {PUPILS} user-shaped dicts. "
        f"PostgreSQL: {postgres}. Aim: `users` under {AIM_MS:.0f} ms.",
        "",
    ]
    if results:
        names = [result["database"] for result in results]
        lines += [
            "| measure | " + " | ".join(names) + " |",
            "|---|" + "--:|" * len(results),
        ]

        def row(label: str, cells: Sequence[str]) -> None:
            lines.append(f"| {label} | " + " | ".join(cells) + " |")

        row(
            "**first** `users` (1 000 pseudonyms from the number service in one batch)",
            [
                f"{ms(r['first'])} (hub CPU {ms(r['first_cpu'])}, "
                f"number service CPU {ms(r['first_nv_cpu'])})"
                for r in results
            ],
        )
        for request in REQUESTS:
            name, strong = request.name, "**" if request is REQUESTS[0] else ""
            row(
                f"{strong}`{name}` p50 / p99{strong} ({request.records} of {request.total})",
                [f"{ms(r['p50'][name])} / {ms(r['p99'][name])}" for r in results],
            )
            row(
                "— hub CPU per request (mean); response size",
                [f"{ms(r['cpu'][name])}; {r['sizes'][name] / 1024:.0f} KiB" for r in results],
            )
        both = (REQUESTS[0].name, REQUESTS[1].name)
        row(
            f"all {PUPILS + GROUPS} users (both pages), p50",
            [ms(sum(r["p50"][name] for name in both)) for r in results],
        )
        row("`/healthz` p50 (the HTTP stack alone)", [ms(r["p50"]["healthz"]) for r in results])
        asked = " / ".join(f"`{request.name}`" for request in REQUESTS)
        row(
            f"in-process (test client) p50: {asked}",
            [" / ".join(ms(r["inprocess"]["p50"][q.name]) for q in REQUESTS) for r in results],
        )
        row(
            f"SQL queries per request: {asked}",
            [" / ".join(str(r["inprocess"]["queries"][q.name]) for q in REQUESTS) for r in results],
        )
        row(
            f"reference: `SELECT` {PUPILS} pupils + `json.dumps` (in-process)",
            [ms(r["inprocess"]["reference"]) for r in results],
        )
        row(
            "**ratio reference ÷ `users` p50** (over HTTP)",
            [f"**{r['inprocess']['reference'] / r['p50']['users']:.2f}**" for r in results],
        )
        row(
            "ratio reference ÷ `users` p50 in-process",
            [
                f"{r['inprocess']['reference'] / r['inprocess']['p50']['users']:.2f}"
                for r in results
            ],
        )
        row(
            "number service CPU during the rounds", [f"{r['rounds_nv_cpu']:.2f} s" for r in results]
        )
        row("load average (1 min) at the end", [f"{r['load']:.1f}" for r in results])
        lines.append("")
        verdicts = []
        for result in results:
            p50, p99 = result["p50"]["users"], result["p99"]["users"]
            met = {share: "met" if value < AIM_MS / 1000 else "not met" for share, value in
                   (("p50", p50), ("p99", p99))}  # fmt: skip
            verdicts.append(
                f"{result['database']} p50 {ms(p50)} ({met['p50']}), p99 {ms(p99)} ({met['p99']})"
            )
        lines += [f"Aim `users` < {AIM_MS:.0f} ms: " + "; ".join(verdicts) + ".", ""]
        lines += _profile_lines(results[0])
    lines += [f"*{failure}*" for failure in failures]
    return "\n".join(lines) + "\n"


def _profile_lines(result: dict[str, Any]) -> list[str]:
    inprocess = result["inprocess"]
    total = inprocess["profiled"]
    lines = [
        f"Where a `users` request's time goes ({result['database']}, cProfile of "
        f"{PROFILED_REQUESTS} requests in-process; the profiler slows Python code, so read the "
        f"parts as proportions of the {ms(total)} a profiled request took):",
        "",
        "| part | per request | share |",
        "|---|--:|--:|",
    ]
    for label, seconds in inprocess["parts"].items():
        lines.append(f"| {label} | {ms(seconds)} | {seconds / total:.0%} |")
    parts = inprocess["parts"]
    policy = parts["pupils read, release policy decided"]
    records = parts["pupil records built"]
    lines += [
        "",
        f"Reading the pupils and deciding the release policy for each is {policy / total:.0%} of "
        f"a request and building the pupils' records {records / total:.0%}; paging, field "
        "selection and serialising are small. Every request decides the policy afresh for the "
        "whole visible roster (nothing about pupils is cached between requests), so a page "
        "costs about what the whole roster costs: a supplier that pages by 100 instead of "
        "1 000 pays this ten times. The number of SQL queries does not grow with the pupils "
        "(`src/regie/gateway/tests/test_oneroster_queries.py`).",
    ]
    return [*lines, ""]
