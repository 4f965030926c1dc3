"""Importing 100 000 pupils (OneRoster 1.2 CSV, ECK iDs present) ÷ a raw bulk insert of their rows.

The board is generated once (``generate_demo_board(pupils=N, pgn_pupils=0)``: every pupil carries
an ECK iD, so neither scrypt nor the number service is involved) and written as a OneRoster zip; a
second zip is the same export with 1 % of the pupils renamed (``dataclasses.replace`` on their
records). Per database, a fresh child process (``python -m benchmarks.roster_import --child URL
FIRST SECOND VAR_DIR``) runs ``migrate``, creates the board and times, through
``regie.roster.services``, ``upload_export`` (parse, validate, plan: the dry run) and ``apply``
(with the parsed export, as ``regie import`` does: compare again, write the diff in one
transaction) of the first zip, then of the second (the re-import; its plan must say exactly the
renamed pupils changed and the rest unchanged). Each step's CPU time in the child
(``process_time``) is reported beside the wall time: on a machine shared with other work it moves
less. Apart from those steps, and not counted in them, the second zip is read once more alone
(``read_export``: parse and check, as the upload does it) and that export compared with the hub
once (``plan_import``; the hub holds it by then, so every record is compared and found unchanged),
to show how much of the re-import is reading the file and how much comparing (twice: at upload
and at apply). Peak resident memory is VmHWM, reset to the current RSS before each step
(``/proc/self/clear_refs``): the peak of that step in a process with Django loaded. The
re-import's peaks cannot be lower than what the first import left resident (Python keeps freed
memory).

The reference, in the same child and database after the imports: every row the import wrote to
the big tables (groups, pupils, pupil↔group links, staff, staff↔group links, guardians,
guardian↔pupil links), read back as tuples (not timed), inserted again into scratch tables of the
same shape (columns, indexes, unique and foreign-key constraints) in one transaction, commit
included: with ``sqlite3``'s ``cursor.executemany`` on SQLite; on PostgreSQL with ``COPY … FROM
STDIN`` (psycopg's ``cursor.copy``), the faster raw way there, and also with psycopg's
``executemany`` for comparison. The reference does not read or check a file, compare with the
hub, write audit events or fetch ids back.

SQLite: a file database (WAL, ``synchronous=NORMAL``, as in production) in a temporary directory.
PostgreSQL: a throwaway cluster on 127.0.0.1 started from Debian's ``pg_ctl`` (``fsync=off``),
skipped when there is none. ``REGIE_BENCH_PUPILS`` sets the number of pupils (default 100 000);
``REGIE_BENCH_PROFILE=DIR`` makes each child write cProfile statistics of its four steps there.
Standalone: ``python -m benchmarks.roster_import``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

PUPILS = 100_000
CHANGED_SHARE = 0.01
SEED = 2026
AIM_RATIO = 0.3  # raw insert time ÷ import time, at least
AIM_REIMPORT = 0.1  # re-import time ÷ first import time, below
CHILD_TIMEOUT_SECONDS = 3600.0
PG_PASSWORD = "regie"  # noqa: S105 (a throwaway cluster on loopback, removed afterwards)
ROOT = Path(__file__).resolve().parent.parent
KINDS = ("students", "groups", "guardians", "staff")
RENAMED_SUFFIX = "-Bench"  # appended to the achternaam of the pupils renamed for the re-import
T = TypeVar("T")


def _pupils() -> int:
    value = os.environ.get("REGIE_BENCH_PUPILS", "").replace("_", "").strip()
    return int(value) if value else PUPILS


def _fmt(number: float) -> str:
    return f"{number:,.0f}".replace(",", " ")


# --- the child: one database, one process --------------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False when the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Step:
    seconds: float = 0.0
    peak_mib: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time (user + system): steadier on a busy machine


def _measured(name: str, action: Callable[[], T], profile_dir: Path | None) -> tuple[T, Step]:
    """Run ``action`` timed, with VmHWM reset before it; under cProfile when asked."""
    gc.collect()
    _reset_peak()
    profiler = cProfile.Profile() if profile_dir else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    result = action()
    if profiler is not None:
        profiler.disable()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    step = Step(seconds, _status_kib("VmHWM") / 1024, cpu_seconds)
    if profiler is not None and profile_dir is not None:
        profiler.dump_stats(str(profile_dir / f"{name}.pstats"))
    return result, step


def _plan_totals(plan: dict[str, Any]) -> dict[str, dict[str, int]]:
    totals = {kind: {"new": 0, "changed": 0, "leaving": 0, "unchanged": 0} for kind in KINDS}
    for school in plan.get("schools", []):
        for kind, counts in school["counts"].items():
            for change, number in counts.items():
                totals[kind][change] += number
    return totals


def _import(
    path: Path, label: str, profile_dir: Path | None
) -> tuple[Step, Step, dict[str, dict[str, int]]]:
    from regie.core.models import Board
    from regie.roster import services
    from regie.roster.demo_board import BESTUURSNUMMER
    from regie.roster.models import ImportStatus

    board = Board.objects.get(bestuursnummer=BESTUURSNUMMER)
    # As `regie import` does: the export parsed by the upload goes on to apply.
    (run, export), upload = _measured(
        f"{label}-upload",
        lambda: services.upload_export(path, path.name, board, user=None),
        profile_dir,
    )
    if run.status != ImportStatus.PREVIEWED:
        problems = services.problems_from_json(run.problems)
        raise RuntimeError(f"{label}: refused: {'; '.join(map(str, problems[:5]))}")
    totals = _plan_totals(run.plan)
    _, apply = _measured(
        f"{label}-apply", lambda: services.apply(run, user=None, export=export), profile_dir
    )
    return upload, apply, totals


_BENCH_PREFIX = "bench_"


def _scratch_ddl_sqlite(cursor: Any, table: str) -> list[str]:
    """The CREATE statements of ``table`` and its indexes, for a scratch copy (FKs point at the
    original tables, so the copied ids stay valid)."""
    cursor.execute(
        "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
        "ORDER BY type = 'index'",
        [table],
    )
    statements = []
    for kind, sql in cursor.fetchall():
        if kind == "table":
            sql = sql.replace(
                f'CREATE TABLE "{table}"', f'CREATE TABLE "{_BENCH_PREFIX}{table}"', 1
            )
        else:
            sql = re.sub(
                r'^CREATE (UNIQUE )?INDEX "([^"]+)" ON "[^"]+"',
                lambda match: (
                    f'CREATE {match[1] or ""}INDEX "{_BENCH_PREFIX}{match[2]}" '
                    f'ON "{_BENCH_PREFIX}{table}"'
                ),
                sql,
            )
        statements.append(sql)
    return statements


def _scratch_ddl_postgresql(cursor: Any, table: str) -> list[str]:
    scratch = f"{_BENCH_PREFIX}{table}"
    statements = [f'CREATE TABLE "{scratch}" (LIKE "{table}" INCLUDING ALL)']
    cursor.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    for number, (definition,) in enumerate(cursor.fetchall(), 1):
        statements.append(
            f'ALTER TABLE "{scratch}" ADD CONSTRAINT "{scratch[:50]}_fk{number}" {definition}'
        )
    return statements


def _reference_tables() -> list[str]:
    from regie.roster.models import Group, Guardian, Staff, Student

    return [
        Group._meta.db_table,
        Student._meta.db_table,
        Student.groups.through._meta.db_table,
        Staff._meta.db_table,
        Staff.groups.through._meta.db_table,
        Guardian._meta.db_table,
        Guardian.students.through._meta.db_table,
    ]


def _reference(vendor: str) -> dict[str, Any]:
    """Insert every row the import wrote again, raw, into scratch tables of the same shape."""
    from django.db import connection, transaction

    tables = _reference_tables()
    connection.ensure_connection()
    raw = connection.connection
    placeholder = "?" if vendor == "sqlite" else "%s"
    data: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    with connection.cursor() as cursor:
        for table in tables:
            description = connection.introspection.get_table_description(cursor, table)
            columns = [column.name for column in description if column.name != "id"]
            names = ", ".join(f'"{column}"' for column in columns)
            cursor.execute(f'SELECT {names} FROM "{table}" ORDER BY "id"')  # noqa: S608
            data[table] = (columns, [tuple(row) for row in cursor.fetchall()])
            ddl = _scratch_ddl_sqlite if vendor == "sqlite" else _scratch_ddl_postgresql
            for statement in ddl(cursor, table):
                cursor.execute(statement)
    rows = {table: len(values) for table, (_, values) in data.items()}
    gc.collect()

    def insert_all(method: str) -> dict[str, float]:
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        with transaction.atomic():
            cursor = raw.cursor()
            for table, (columns, values) in data.items():
                names = ", ".join(f'"{column}"' for column in columns)
                before = time.perf_counter()
                if method == "copy":
                    with cursor.copy(f'COPY "{_BENCH_PREFIX}{table}" ({names}) FROM STDIN') as copy:
                        for value in values:
                            copy.write_row(value)
                else:
                    marks = ", ".join([placeholder] * len(columns))
                    cursor.executemany(
                        f'INSERT INTO "{_BENCH_PREFIX}{table}" ({names}) VALUES ({marks})',  # noqa: S608
                        values,
                    )
                seconds[table] = time.perf_counter() - before
            cursor.close()
        seconds["total"] = time.perf_counter() - started  # with the commit (and deferred FKs)
        return seconds

    def empty() -> None:
        with connection.cursor() as cursor:
            for table in reversed(tables):
                cursor.execute(f'DELETE FROM "{_BENCH_PREFIX}{table}"')  # noqa: S608

    result: dict[str, Any] = {"rows": rows, "pupil_tables": tables[1:3]}
    result["executemany"] = insert_all("executemany")
    if vendor == "postgresql":
        empty()
        result["copy"] = insert_all("copy")
    with connection.cursor() as cursor:
        for table in reversed(tables):
            cursor.execute(f'DROP TABLE "{_BENCH_PREFIX}{table}"')
    return result


def child(database_url: str, first: Path, second: Path, var_dir: Path) -> dict[str, Any]:
    """One database: migrate, import ``first``, re-import ``second``, then the reference."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "regie.settings"
    os.environ["REGIE_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("REGIE_LOG_LEVEL", "WARNING")
    profile_setting = os.environ.get("REGIE_BENCH_PROFILE", "")
    profile_dir = Path(profile_setting) if profile_setting else None
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from regie.core.models import Board
    from regie.roster.models import Guardian, Student

    vendor = connection.vendor
    label = "SQLite" if vendor == "sqlite" else "PostgreSQL"
    if profile_dir is not None:
        profile_dir = profile_dir / vendor
        profile_dir.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    from regie.roster.demo_board import BESTUURSNUMMER, BOARD_NAME, KVK

    Board.objects.create(bestuursnummer=BESTUURSNUMMER, name=BOARD_NAME, kvk=KVK)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if vendor == "sqlite" else "SHOW server_version")
        version = str(cursor.fetchone()[0]).split()[0]
    load_start = os.getloadavg()[0]
    gc.collect()
    baseline_mib = _status_kib("VmRSS") / 1024
    hwm_reset = _reset_peak()

    def say(text: str) -> None:
        print(f"  {label}: {text}", file=sys.stderr, flush=True)

    say(f"first import (RSS before: {baseline_mib:.0f} MiB) …")
    upload, apply, plan = _import(first, "first", profile_dir)
    say(
        f"first import: upload {upload.seconds:.1f} s (peak {upload.peak_mib:.0f} MiB), "
        f"apply {apply.seconds:.1f} s (peak {apply.peak_mib:.0f} MiB), "
        f"{_fmt(plan['students']['new'] / (upload.seconds + apply.seconds))} pupils/s"
    )
    pupils = Student.objects.count()
    say("re-import with 1 % of the pupils renamed …")
    upload_2, apply_2, plan_2 = _import(second, "second", profile_dir)
    renamed = Student.objects.filter(achternaam__endswith=RENAMED_SUFFIX).count()
    # Where the re-import's time goes: reading the file alone, timed apart (not part of it), as
    # the upload reads it (with the garbage collector paused).
    from regie.lib.collector import collector_paused
    from regie.roster.services import read_export

    read_alone = collector_paused()(lambda: read_export(second, second.name))
    export_2, parse_2 = _measured("second-parse", read_alone, profile_dir)
    # And comparing it with the hub once (the plan; the re-import compares twice, at upload and
    # at apply): the hub holds it by now, so every record is compared and found unchanged.
    from regie.roster.importing.plan import plan_import

    board = Board.objects.get(bestuursnummer=BESTUURSNUMMER)
    compare_alone = collector_paused()(lambda: plan_import(export_2, board))
    _, compare_2 = _measured("second-compare", compare_alone, profile_dir)
    say(
        f"re-import: upload {upload_2.seconds:.1f} s (peak {upload_2.peak_mib:.0f} MiB), "
        f"apply {apply_2.seconds:.1f} s (peak {apply_2.peak_mib:.0f} MiB); plan: "
        f"{_fmt(plan_2['students']['changed'])} pupils changed, "
        f"{_fmt(plan_2['students']['unchanged'])} unchanged; {_fmt(renamed)} renamed in the hub"
    )
    say("raw bulk insert of the same rows …")
    reference = _reference(vendor)
    say(
        f"raw executemany {reference['executemany']['total']:.1f} s"
        + (f", COPY {reference['copy']['total']:.1f} s" if "copy" in reference else "")
    )
    return {
        "database": label,
        "version": version,
        "pupils": pupils,
        "guardians": Guardian.objects.count(),
        "baseline_mib": baseline_mib,
        "hwm_reset": hwm_reset,
        "first": {"upload": vars(upload), "apply": vars(apply), "plan": plan},
        "second": {"upload": vars(upload_2), "apply": vars(apply_2), "plan": plan_2},
        "second_parse": parse_2.seconds,
        "second_compare": compare_2.seconds,
        "renamed_in_hub": renamed,
        "reference": reference,
        "load": [load_start, os.getloadavg()[0]],
    }


# --- the parent: the exports, the databases, the report ----------------------------------------


def write_exports(directory: Path, pupils: int) -> tuple[Path, Path, int]:
    """The board as a OneRoster zip, and again with 1 % of the pupils renamed."""
    # The regie modules need Django's apps (no database): imported here, not at the top, so
    # that a child sets its DATABASE_URL before Django is set up.
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regie.settings")
    django.setup()
    from regie.roster.demo_board import generate_demo_board
    from regie.roster.importing.oneroster import write_oneroster

    export = generate_demo_board(SEED, pupils=pupils, pgn_pupils=0).export
    first = directory / "board.zip"
    write_oneroster(export, first)
    count = max(1, round(len(export.students) * CHANGED_SHARE))
    chosen = random.Random(SEED).sample(range(len(export.students)), count)
    for index in chosen:
        student = export.students[index]
        export.students[index] = replace(student, achternaam=student.achternaam + RENAMED_SUFFIX)
    second = directory / "board-renamed.zip"
    write_oneroster(export, second)
    return first, second, count


def run_child(database_url: str, first: Path, second: Path, var_dir: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.roster_import", "--child", database_url]
    command += [str(first), str(second), str(var_dir)]
    completed = subprocess.run(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"the child for {database_url.split(':')[0]} exited with {completed.returncode}"
        )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def find_pg_ctl() -> Path | None:
    """Debian's newest ``/usr/lib/postgresql/<major>/bin/pg_ctl``."""
    found = Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")

    def major(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))

    candidates = sorted(found, key=major)
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def postgres_cluster(pg_ctl: Path) -> Iterator[str]:
    """A throwaway cluster on 127.0.0.1 (fsync=off), owned by ``postgres`` when run as root;
    yields its DATABASE_URL and is stopped and removed afterwards, also on failure."""
    bin_dir = pg_ctl.parent
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    directory = Path(tempfile.mkdtemp(prefix="regie-bench-pg-"))
    data = directory / "data"
    if as_root:
        shutil.chown(directory, "postgres", "postgres")
    port = _free_port()

    def run(*command: str) -> None:
        completed = subprocess.run([*prefix, *command], capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            log = directory / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"`{Path(command[0]).name}` failed: {completed.stderr.strip()[-1000:]} {tail}"
            )

    started = False
    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        )
        options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(pg_ctl), "-D", str(data), "-l", str(directory / "server.log"), "-w", "-t", "60",
            "-o", options, "start")  # fmt: skip
        started = True
        run(
            str(bin_dir / "psql"),
            "-h",
            str(directory),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            f"CREATE ROLE regie LOGIN PASSWORD '{PG_PASSWORD}'",
            "-c",
            "CREATE DATABASE regie OWNER regie",
        )
        print(f"  PostgreSQL up on 127.0.0.1:{port} (fsync=off)", flush=True)
        yield f"postgres://regie:{PG_PASSWORD}@127.0.0.1:{port}/regie"
    finally:
        if started:
            subprocess.run(
                [*prefix, str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(directory, ignore_errors=True)


def run() -> str:
    pupils = _pupils()
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    postgres_note = ""
    with tempfile.TemporaryDirectory(prefix="regie-bench-roster-") as temporary:
        directory = Path(temporary)
        started = time.perf_counter()
        first, second, changed = write_exports(directory, pupils)
        size = first.stat().st_size / 1024 / 1024
        print(
            f"  exports written in {time.perf_counter() - started:.0f} s: {_fmt(pupils)} pupils, "
            f"{size:.1f} MiB zip; {_fmt(changed)} renamed in the second",
            flush=True,
        )
        sqlite_dir = directory / "sqlite"
        url = f"sqlite:///{sqlite_dir / 'regie.sqlite3'}"
        try:
            results.append(run_child(url, first, second, sqlite_dir))
        except Exception as error:  # a benchmark reports, it does not crash the run
            failures.append(f"SQLite: {error}")
            print(f"  SQLite failed: {error}", flush=True)
        pg_ctl = find_pg_ctl()
        if pg_ctl is None:
            postgres_note = "PostgreSQL skipped: no `pg_ctl` under `/usr/lib/postgresql`."
            print(f"  {postgres_note}", flush=True)
        else:
            try:
                with postgres_cluster(pg_ctl) as url:
                    results.append(run_child(url, first, second, directory / "postgresql"))
            except Exception as error:
                failures.append(f"PostgreSQL: {error}")
                print(f"  PostgreSQL failed: {error}", flush=True)
    return _section(pupils, changed, size, results, failures, postgres_note)


def _ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Times and ratios; the reference is COPY where there is one (PostgreSQL), else executemany."""
    first = result["first"]["upload"]["seconds"] + result["first"]["apply"]["seconds"]
    second = result["second"]["upload"]["seconds"] + result["second"]["apply"]["seconds"]
    reference = result["reference"]
    method = "copy" if "copy" in reference else "executemany"
    raw = reference[method]["total"]
    pupil_part = sum(reference[method][table] for table in reference["pupil_tables"])
    ratios: dict[str, Any] = {"first": first, "second": second, "method": method, "raw": raw}
    ratios |= {"pupil_part": pupil_part, "ratio": raw / first, "reimport": second / first}
    if method == "copy":
        ratios["executemany"] = reference["executemany"]["total"]
        ratios["executemany_ratio"] = ratios["executemany"] / first
    return ratios


def _cpu(result: dict[str, Any], which: str) -> float:
    """CPU seconds of the hub's process in upload + apply (PostgreSQL's own work not counted)."""
    steps = result[which]
    return float(steps["upload"].get("cpu_seconds", 0.0) + steps["apply"].get("cpu_seconds", 0.0))


METHODS = {"copy": "`COPY … FROM STDIN`", "executemany": "`executemany`"}


def _check(result: dict[str, Any], pupils: int, changed: int) -> str:
    """'' when the plans and the hub say what they should; else what differs."""
    first, second = result["first"]["plan"], result["second"]["plan"]
    wrong = []
    if first["students"]["new"] != pupils or result["pupils"] != pupils:
        wrong.append(f"first import: {first['students']['new']} new pupils, not {pupils}")
    if second["students"]["changed"] != changed:
        wrong.append(f"re-import: {second['students']['changed']} pupils changed, not {changed}")
    if second["students"]["unchanged"] != pupils - changed:
        wrong.append(f"re-import: {second['students']['unchanged']} pupils unchanged")
    touched = {
        kind: counts["new"] + counts["leaving"] + (counts["changed"] if kind != "students" else 0)
        for kind, counts in second.items()
    }
    if any(touched.values()):
        wrong.append(f"re-import also touches {touched}")
    if result["renamed_in_hub"] != changed:
        wrong.append(f"{result['renamed_in_hub']} renamed pupils in the hub, not {changed}")
    return "; ".join(wrong)


def _section(
    pupils: int,
    changed: int,
    size_mib: float,
    results: list[dict[str, Any]],
    failures: list[str],
    postgres_note: str,
) -> str:
    lines = [
        f"## Roster import: {_fmt(pupils)} pupils from OneRoster CSV",
        "",
        f"The generated board ({_fmt(pupils)} pupils with ECK iDs, so no PGN is hashed; "
        "their guardians, groups and staff) as a OneRoster 1.2 CSV zip "
        f"({size_mib:.1f} MiB), imported through `roster.services`: `upload_export` (parse, "
        "validate, plan) + `apply` (given the parsed export, as `regie import` does: compare "
        "again, write the diff in one transaction), in a fresh "
        "process per database. Reference: the rows the import wrote (groups, pupils, staff, "
        "guardians and their links), read back and inserted again into scratch tables of the "
        "same shape (indexes and constraints), one transaction, in the same process and "
        "database right after: with psycopg's `cursor.copy` (`COPY … FROM STDIN`) on PostgreSQL, "
        "with `sqlite3`'s `executemany` on SQLite. It reads no file, checks and compares "
        "nothing, writes no audit event and fetches no ids back. "
        f"Ratio = raw time ÷ import time (aim ≥ {AIM_RATIO}). Re-import: the same export with "
        f"{_fmt(changed)} pupils (1 %) renamed, as a fraction of the first import's time "
        f"(aim < {AIM_REIMPORT}); of it, the share that is reading the file (`read_export` of "
        "the second zip timed apart, after the re-import) and twice the share that is comparing "
        "it with the hub once (`plan_import` of that parsed export, timed apart: the re-import "
        "compares at upload and again at apply); and the ratio in CPU time of the "
        "hub's process, which moves less when the machine is shared. Peak RSS is VmHWM of the "
        "step, on top of the RSS of the process before it (Django loaded, migrated).",
        "",
    ]
    if results:
        ratios = [_ratios(result) for result in results]
        header = "| measure | " + " | ".join(
            f"{result['database']} {result['version']}" for result in results
        )
        lines += [header + " |", "|---|" + "--:|" * len(results)]

        def row(name: str, values: Sequence[str]) -> None:
            lines.append(f"| {name} | " + " | ".join(values) + " |")

        def steps(result: dict[str, Any], which: str) -> str:
            upload, apply = result[which]["upload"], result[which]["apply"]
            return f"{upload['seconds']:.1f} s + {apply['seconds']:.1f} s"

        def peaks(result: dict[str, Any], which: str) -> str:
            upload, apply = result[which]["upload"], result[which]["apply"]
            return f"{_fmt(upload['peak_mib'])} / {_fmt(apply['peak_mib'])} MiB"

        row("import: upload + apply", [steps(result, "first") for result in results])
        row("**import**", [f"**{ratio['first']:.1f} s**" for ratio in ratios])
        row(
            "pupils/s",
            [
                _fmt(result["pupils"] / ratio["first"])
                for result, ratio in zip(results, ratios, strict=True)
            ],
        )
        row(
            "peak RSS upload / apply (RSS before)",
            [
                f"{peaks(result, 'first')} ({_fmt(result['baseline_mib'])} MiB)"
                for result in results
            ],
        )
        row(
            "raw insert of the same rows (of which pupils + their group links)",
            [
                f"{ratio['raw']:.1f} s, {METHODS[ratio['method']]} ({ratio['pupil_part']:.1f} s)"
                for ratio in ratios
            ],
        )
        row(
            f"**ratio raw ÷ import** (aim ≥ {AIM_RATIO})",
            [f"**{ratio['ratio']:.2f}**" for ratio in ratios],
        )
        if any("executemany" in ratio for ratio in ratios):
            row(
                "raw insert with executemany instead, and its ratio",
                [
                    f"{ratio['executemany']:.1f} s, {ratio['executemany_ratio']:.2f}"
                    if "executemany" in ratio
                    else "(is the reference)"
                    for ratio in ratios
                ],
            )
        row("re-import (1 % renamed): upload + apply", [steps(r, "second") for r in results])
        row(
            "of which reading the file (parse and check, timed apart)",
            [
                f"{result['second_parse']:.1f} s = {result['second_parse'] / ratio['second']:.0%}"
                for result, ratio in zip(results, ratios, strict=True)
            ],
        )
        row(
            "of which comparing with the hub, twice (once timed apart, × 2)",
            [
                f"2 × {result['second_compare']:.1f} s = "
                f"{2 * result['second_compare'] / ratio['second']:.0%}"
                for result, ratio in zip(results, ratios, strict=True)
            ],
        )
        row(
            "peak RSS upload / apply (not below what the import left)",
            [peaks(result, "second") for result in results],
        )
        row(
            f"**re-import ÷ import** (aim < {AIM_REIMPORT})",
            [f"**{ratio['second']:.1f} s = {ratio['reimport']:.2f}**" for ratio in ratios],
        )
        row(
            "the same in CPU time of the hub's process (re-import ÷ import)",
            [f"{_cpu(result, 'second'):.1f} s ÷ {_cpu(result, 'first'):.1f} s = "
             f"{_cpu(result, 'second') / _cpu(result, 'first'):.2f}" for result in results],
        )  # fmt: skip
        row(
            "rows written (pupils, guardians)",
            [
                f"{_fmt(result['pupils'])}, {_fmt(result['guardians'])}; "
                f"{_fmt(sum(result['reference']['rows'].values()))} in all"
                for result in results
            ],
        )
        row(
            "load average (1 min) before / after",
            [f"{result['load'][0]:.1f} / {result['load'][1]:.1f}" for result in results],
        )
        lines.append("")
        checks = [(result["database"], _check(result, pupils, changed)) for result in results]
        wrong = [f"{name}: {text}" for name, text in checks if text]
        lines.append(
            "Checked: **" + "; ".join(wrong) + "**."
            if wrong
            else f"Checked: every pupil new in the first plan; in the re-import's plan exactly "
            f"the {_fmt(changed)} renamed pupils changed and nothing else new, changed or "
            "leaving; the hub holds the new names afterwards."
        )
        if not all(result["hwm_reset"] for result in results):
            lines.append("(The kernel did not allow resetting VmHWM: peaks are since start.)")
        if any(result["database"] == "PostgreSQL" for result in results):
            lines.append(
                "PostgreSQL: a throwaway local cluster with `fsync=off`, over TCP on 127.0.0.1; "
                "SQLite: a file with WAL and `synchronous=NORMAL`, as configured in production."
            )
        lines.append("")
    if postgres_note:
        lines += [f"*{postgres_note}*", ""]
    for failure in failures:
        lines += [f"**Not completed**: {failure}", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--child",
        nargs=4,
        metavar=("DATABASE_URL", "FIRST_ZIP", "SECOND_ZIP", "VAR_DIR"),
        help="Internal: run one database's imports and print the figures as JSON.",
    )
    options = parser.parse_args(argv)
    if options.child:
        url, first, second, var_dir = options.child
        result = child(url, Path(first), Path(second), Path(var_dir))
        sys.stdout.write(json.dumps(result) + "\n")
        return
    from regie.lib.logging import configure_logging

    configure_logging(level="WARNING")
    print(run())


if __name__ == "__main__":
    main()
