"""The audit log's Merkle tree: appends per second and inclusion-proof time, ÷ plain hashing.

In a child process (``python -m benchmarks.audit_log --child VAR_DIR``) on a fresh SQLite file
database (WAL, ``synchronous=NORMAL``, as in production), migrated:

- **the event row alone**: ``N`` ``AuditEvent`` rows through the ORM, as ``record()`` wrote
  before the tree (then removed);
- **appends**: ``N`` events through ``regie.audit.services.record`` (side row + pending leaf, in
  transactions of 100 events), then ``regie.audit.log.integrate()`` (batches of 5 000, one
  transaction each: leaves, tiles, tree head). Figures: record + integrate per second, and
  integrate alone per second. **The reference**: ``hashlib.sha256(b"\\x00" + leaf)`` over the same
  leaves in a loop, in the same process — what hashing the leaves costs without storing a tree;
- **the tree at scale**: filled in bulk up to 10⁶ leaves (``REGIE_BENCH_AUDIT_SIZES``, e.g.
  ``1000000,10000000``): synthetic leaves of the real format (random hashes) are inserted as
  *pending* leaves with ``sqlite3``'s ``executemany`` (no side rows: nothing reads them here),
  and ``integrate()`` puts them into the tree, timed as integrate alone; then 1 000 inclusion
  proofs at random indices (``log.inclusion_proof(i, size)``: one query for the tiles, then the
  hashes inside them), each checked once with ``rfc9162.verify_inclusion``.

``REGIE_BENCH_AUDIT_EVENTS`` sets ``N`` (default 20 000). Standalone: ``python -m
benchmarks.audit_log``. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = int(os.environ.get("REGIE_BENCH_AUDIT_EVENTS", "20000"))
SIZES = [int(size) for size in os.environ.get("REGIE_BENCH_AUDIT_SIZES", "1000000").split(",")]
PROOFS = 1000
PER_TRANSACTION = 100
FILL_CHUNK = 50_000


def _hashing_rate(leaves: list[bytes]) -> float:
    started = time.perf_counter()
    for leaf in leaves:
        hashlib.sha256(b"\x00" + leaf).digest()
    return len(leaves) / (time.perf_counter() - started)


def child(var_dir: Path) -> dict[str, Any]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "regie.settings"
    os.environ["REGIE_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'regie.sqlite3'}"
    os.environ.setdefault("REGIE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from regie.audit import log, rfc9162
    from regie.audit.events import ADMIN_SAVED
    from regie.audit.leaves import leaf_bytes
    from regie.audit.models import AuditEvent, Leaf
    from regie.audit.services import record

    call_command("migrate", interactive=False, verbosity=0)
    result: dict[str, Any] = {"events": EVENTS}

    # What record() cost before the tree: the event row alone, through the ORM.
    started = time.perf_counter()
    for first in range(0, EVENTS, PER_TRANSACTION):
        with transaction.atomic():
            for number in range(first, min(first + PER_TRANSACTION, EVENTS)):
                AuditEvent.objects.create(
                    occurred_at=django.utils.timezone.now(),
                    event_type=ADMIN_SAVED.name,
                    actor="user:7",
                    subject=f"core.board:{number % 50}",
                    details={"n": number},
                )
    result["event_rows_seconds"] = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER audit_event_no_update")  # a scratch database: clear it
        cursor.execute("DELETE FROM audit_auditevent")

    started = time.perf_counter()
    for first in range(0, EVENTS, PER_TRANSACTION):
        with transaction.atomic():
            for number in range(first, min(first + PER_TRANSACTION, EVENTS)):
                record(ADMIN_SAVED, "user:7", f"core.board:{number % 50}", {"n": number})
    recorded = time.perf_counter() - started
    started = time.perf_counter()
    log.integrate()
    integrated = time.perf_counter() - started
    leaves = [bytes(leaf) for leaf in Leaf.objects.values_list("leaf", flat=True)]
    result["appends"] = {
        "record_seconds": recorded,
        "integrate_seconds": integrated,
        "hashing_rate": max(_hashing_rate(leaves) for _ in range(3)),
        "leaf_bytes": statistics.mean(len(leaf) for leaf in leaves),
    }

    rng = random.Random(14)
    moment = django.utils.timezone.now()
    scale: list[dict[str, Any]] = []
    next_event = 10**12
    for size in sorted(SIZES):
        fill_started = time.perf_counter()
        insert_seconds = 0.0
        to_add = size - log.size()
        while to_add > 0:
            count = min(FILL_CHUNK, to_add)
            rows = []
            for _ in range(count):
                leaf = leaf_bytes(
                    "gateway.release",
                    moment,
                    "client:1",
                    rng.randbytes(32).hex(),
                    rng.randbytes(32).hex(),
                )
                rows.append((next_event, leaf))
                next_event += 1
            inserted = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO audit_pendingleaf (event_id, leaf) VALUES (%s, %s)", rows
                )
            insert_seconds += time.perf_counter() - inserted
            to_add -= count
        integrate_started = time.perf_counter()
        log.integrate()
        integrate_seconds = time.perf_counter() - integrate_started
        fill_seconds = time.perf_counter() - fill_started
        root = log.root()
        indices = [rng.randrange(size) for _ in range(PROOFS)]
        timings = []
        for index in indices:
            proof_started = time.perf_counter()
            proof = log.inclusion_proof(index, size)
            timings.append(time.perf_counter() - proof_started)
        for index in indices[:20]:
            rfc9162.verify_inclusion(
                rfc9162.leaf_hash(log.leaf(index)),
                index,
                size,
                log.inclusion_proof(index, size),
                root,
            )
        database_bytes = sum(
            path.stat().st_size for path in var_dir.glob("regie.sqlite3*") if path.is_file()
        )
        scale.append(
            {
                "size": size,
                "fill_seconds": fill_seconds,
                "pending_insert_seconds": insert_seconds,
                "integrated": size - (scale[-1]["size"] if scale else EVENTS),
                "integrate_seconds": integrate_seconds,
                "proof_median_ms": statistics.median(timings) * 1000,
                "proof_p99_ms": sorted(timings)[int(len(timings) * 0.99)] * 1000,
                "proof_length": len(proof),
                "database_mib": database_bytes / 1024 / 1024,
            }
        )
        print(f"  {size:,} leaves: {scale[-1]}", file=sys.stderr, flush=True)
    result["scale"] = scale
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()")
        result["sqlite"] = cursor.fetchone()[0]
    return result


def _fmt(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="regie-bench-audit-") as directory:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.audit_log", "--child", directory],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            timeout=6 * 3600,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"the child exited with {completed.returncode}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    appends = result["appends"]
    events = result["events"]
    both = events / (appends["record_seconds"] + appends["integrate_seconds"])
    alone = events / appends["integrate_seconds"]
    hashing = appends["hashing_rate"]
    rows = events / result["event_rows_seconds"]
    slower = appends["record_seconds"] / result["event_rows_seconds"]
    lines = [
        "## Audit log: the Merkle tree (appends, inclusion proofs)",
        "",
        f"SQLite {result['sqlite']} (file, WAL). {_fmt(events)} events through `record()` "
        f"(transactions of {PER_TRANSACTION}), then `integrate()`; leaves of "
        f"{appends['leaf_bytes']:.0f} bytes. The reference: `hashlib.sha256` of the same leaves "
        f"alone, {_fmt(hashing)} leaves/s.",
        "",
        "| appends | per second | ÷ hashing alone |",
        "|---|---|---|",
        f"| record + integrate | {_fmt(both)} | {both / hashing:.4f} |",
        f"| integrate alone | {_fmt(alone)} | {alone / hashing:.4f} |",
        f"| *the event row alone (record before the tree)* | {_fmt(rows)} | {rows / hashing:.4f} |",
        "",
        f"`record()` with its leaf and pending row takes {slower:.2f} × the time of "
        "writing the event row alone (the ORM's insert of the event is most of both); the "
        "sequencer integrates far faster than events are recorded, so the pending table stays "
        "short.",
        "",
        "The tree filled in bulk (synthetic leaves of the real format inserted as pending leaves "
        "with `executemany`, then `integrate()`, which is timed), then "
        f"{PROOFS} inclusion proofs at random indices:",
        "",
        "| leaves | integrate per second | proof median | proof p99 | hashes in a proof | "
        "database |",
        "|---|---|---|---|---|---|",
    ]
    for item in result["scale"]:
        lines.append(
            f"| {_fmt(item['size'])} | {_fmt(item['integrated'] / item['integrate_seconds'])} | "
            f"{item['proof_median_ms']:.3f} ms | {item['proof_p99_ms']:.3f} ms | "
            f"{item['proof_length']} | {item['database_mib']:.0f} MiB |"
        )
    lines += [
        "",
        "A proof reads the tiles it needs (C2SP tlog-tiles layout, 256 hashes each, stored with "
        "the hashes inside them) in one query and hashes nothing; the database size is the "
        "leaves, tiles and head (no side rows). The 99th percentile is the machine's other load "
        "(a proof's work does not vary that much). Aims: 10 000 appends/s, a proof under 1 ms; "
        "`REGIE_BENCH_AUDIT_SIZES=1000000,10000000` adds the 10⁷ row (about 10 minutes, 3.5 GiB "
        "of temporary disk).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", type=Path)
    arguments = parser.parse_args()
    if arguments.child is not None:
        print(json.dumps(child(arguments.child)))
    else:
        print(run())


if __name__ == "__main__":
    main()
